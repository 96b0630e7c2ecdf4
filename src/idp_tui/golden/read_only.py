"""A read-only session's runner: previews pass, real runs are refused whoever asks."""

from __future__ import annotations

from typing import Any

from .errors import READ_ONLY_RUN, RunRefused
from .events import TaskResult
from .protocols import RunOptions, TemplateRunner
from .template import Template


class ReadOnlyRunner(TemplateRunner):
    """Passes dry runs to ``runner`` and refuses real ones: the last guard behind the screens' and commands' own."""

    def __init__(self, runner: TemplateRunner) -> None:
        self.runner = runner
        self.name = runner.name
        self.ready_asks_backend = runner.ready_asks_backend

    def ready(self, template: Template) -> Template:
        """The wrapped runner's answer: preparing a form writes nothing, so it is allowed."""
        return self.runner.ready(template)

    def run_task(self, template: Template, values: dict[str, Any], options: RunOptions) -> TaskResult:
        """Raises:
        RunRefused: not a dry run.
        """
        if not options.dry_run:
            raise RunRefused(READ_ONLY_RUN)
        return self.runner.run_task(template, values, options)
