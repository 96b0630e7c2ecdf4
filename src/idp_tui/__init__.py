"""idp-tui: a terminal developer self-service console for Internal Developer Platforms."""

__version__ = "0.1.0"
