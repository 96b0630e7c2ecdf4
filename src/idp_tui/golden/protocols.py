"""The golden-path capability: a template runner (on this machine, or a Backstage scaffolder).

Every runner has the one ``run()`` below, so the form, preview and run screens and ``idp-tui scaffold`` work the
same whichever serves the session. Runners subclass :class:`TemplateRunner` to say they implement it, and implement
:meth:`~TemplateRunner.run_task`, which ``run()`` calls with its options gathered in a :class:`RunOptions`.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .events import EventSink, TaskResult
from .template import Template


@dataclass(frozen=True)
class RunOptions:
    """How one run goes (see :meth:`TemplateRunner.run`)."""

    dry_run: bool = False
    user: dict[str, Any] | None = None
    on_event: EventSink | None = None
    output_dir: Path | None = None
    cancel: threading.Event | None = None
    secrets: dict[str, str] | None = None


class TemplateRunner(Protocol):
    """Prepares templates' forms and runs (or dry-runs) templates."""

    #: Who prepares and runs templates, in words ("Backstage", "the local runner"), for messages.
    name: str
    #: ``ready()`` asks a backend (its form, or the whole template): call it off the UI thread and say so.
    ready_asks_backend: bool = False

    def ready(self, template: Template) -> Template:
        """The template with its whole form, as this runner will run it (the template itself when it is whole).

        Raises:
            TemplateRunError: the backend could not be asked for the form (said in words).
        """
        return template

    def run(
        self,
        template: Template,
        values: dict[str, Any],
        *,
        dry_run: bool = False,
        user: dict[str, Any] | None = None,
        on_event: EventSink | None = None,
        output_dir: Path | None = None,
        cancel: threading.Event | None = None,
        secrets: dict[str, str] | None = None,
    ) -> TaskResult:
        """Run (or, with ``dry_run``, preview) ``template`` with the form's ``values``.

        A failing step never raises: the result says what failed and why. ``user`` is the catalog user running it
        (``${{ user.entity }}``), ``on_event`` hears each event as it happens, ``output_dir`` receives the final
        workspace, ``cancel`` stops the task after the current step, ``secrets`` are the form's secret fields.

        Raises:
            RunRefused: a real run in a read-only session (see :class:`~idp_tui.golden.read_only.ReadOnlyRunner`).
        """
        options = RunOptions(dry_run, user, on_event, output_dir, cancel, secrets)
        return self.run_task(template, values, options)

    @abstractmethod
    def run_task(self, template: Template, values: dict[str, Any], options: RunOptions) -> TaskResult:
        """What :meth:`run` does, with its options gathered: each runner's own way to run a task."""
