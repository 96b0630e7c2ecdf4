"""``python -m idp_tui``: the same as the ``idp-tui`` command."""

from .cli import main

raise SystemExit(main())
