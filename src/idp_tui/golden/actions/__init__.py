"""The built-in actions the local runner knows, by id."""

from __future__ import annotations

from .base import Action


def builtin_actions() -> dict[str, Action]:
    """Every built-in action, keyed by its Backstage id (``fetch:template``, ``publish:github``, ...)."""
    from . import catalog, debug, fetch, filesystem, http, plain, publish, vault

    actions: dict[str, Action] = {}
    for module in (fetch, plain, debug, filesystem, catalog, http, publish, vault):
        for action in module.ACTIONS:
            actions[action.id] = action
    return actions
