"""What the preview and the run screens share: the template, its answers, and a runner for this platform."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from idp_tui.catalog.model import Catalog
from idp_tui.golden.events import TaskResult
from idp_tui.golden.runner import LocalTaskRunner
from idp_tui.golden.template import Template
from idp_tui.platform import Platform


class GoldenTaskScreen(Screen):
    """A screen that runs (or dry-runs) one template with the form's answers."""

    def __init__(
        self,
        platform: Platform,
        catalog: Catalog,
        template: Template,
        values: dict[str, Any],
        secrets: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.platform = platform
        self.catalog = catalog
        self.template = template
        self.values = values
        self.secrets = dict(secrets or {})
        self.result: TaskResult | None = None

    def make_runner(self) -> LocalTaskRunner:
        """This platform's runner: the local one (publishing where the user's things are kept) or Backstage's."""
        from idp_tui.golden.backends import template_runner

        return template_runner(self.platform, self.catalog, secret_store=self.app.secret_access.store)

    @property
    def badge(self) -> str:
        """Put before the title: the session's mode in words, so it reads without colour."""
        return "READ-ONLY · " if self.platform.read_only else ""

    def user(self) -> dict[str, Any]:
        from idp_tui.golden.user import current_user

        return current_user(self.catalog)
