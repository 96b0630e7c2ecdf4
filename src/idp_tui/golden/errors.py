"""The golden-path capability's errors: what a template runner raises, worded for the person reading it.

A run whose step fails does not raise (its :class:`~idp_tui.golden.events.TaskResult` says why); these are for a
template that could not be prepared (its form could not be read) or a run that was not started at all.
"""

from __future__ import annotations

READ_ONLY_RUN = "read-only mode is on: golden paths are previewed (dry run), never run"


class TemplateRunError(Exception):
    """A template could not be prepared or run by its backend; ``str()`` is one line for the user.

    Backends raise this family (Backstage's ``BackstageError`` is one), so a screen or command catches it without
    knowing which runner serves the session.
    """


class RunRefused(TemplateRunError):
    """A real (not dry) run was asked for in a read-only session; nothing was started."""


class ActionError(Exception):
    """An action refused or failed; the message is shown to the user as the step's failure reason.

    Actions raise it (``idp_tui.golden.actions.base`` hands it on with the rest of the action contract), and so do
    the helpers they share (``workspace``, ``sources``, ``repo_url``), which is why it lives here, below both.
    """
