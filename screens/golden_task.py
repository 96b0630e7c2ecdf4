"""What the preview and the run screens share: the template, its answers, and the session's runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from idp_tui.catalog.model import Catalog
from idp_tui.golden.events import TaskResult
from idp_tui.golden.template import Template

if TYPE_CHECKING:
    from idp_tui.golden.protocols import TemplateRunner
    from idp_tui.session import Session


class GoldenTaskScreen(Screen):
    """A screen that runs (or dry-runs) one template with the form's answers."""

    def __init__(
        self,
        session: Session,
        catalog: Catalog,
        template: Template,
        values: dict[str, Any],
        secrets: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.catalog = catalog
        self.template = template
        self.values = values
        self.secrets = dict(secrets or {})
        self.result: TaskResult | None = None

    def make_runner(self) -> TemplateRunner:
        """The session's runner: the local one (publishing where the user's things are kept) or Backstage's."""
        return self.session.template_runner(self.catalog)

    @property
    def badge(self) -> str:
        """Put before the title: the session's mode in words, so it reads without colour."""
        return "READ-ONLY · " if self.session.read_only else ""

    def user(self) -> dict[str, Any]:
        from idp_tui.golden.user import current_user

        return current_user(self.catalog)
