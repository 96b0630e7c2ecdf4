"""Entity validation with the Backstage catalog's verdicts (see :func:`validate_entity`)."""

from .validator import Verdict, validate_entity

__all__ = ["Verdict", "validate_entity"]
