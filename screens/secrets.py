"""``s``: an entity's secrets in Vault (keys, versions, times, who can read them). Values are never fetched.

When the demo Vault answers, the title and the lines say so.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from idp_tui.catalog.entity import Entity
from idp_tui.render.lines import Line
from idp_tui.render.secrets import secrets_lines
from idp_tui.secrets.entity_path import secrets_path

from .host import host
from .lines import LinesScreen


class SecretsScreen(LinesScreen):
    """The keys under the entity's Vault path; ``y`` copies a key's ``vault kv get`` command (``vault kv list`` on
    a folder)."""

    def __init__(self, entity: Entity) -> None:
        super().__init__(entity, Text.assemble(("Secrets  ", "bold"), (entity.ref.humanize(), "")))
        self.entity = entity
        self.where = secrets_path(entity)
        self.demo = False  # the demo Vault answers: known from the settings when composed, before anything starts

    def compose(self) -> ComposeResult:
        self.demo = host(self).session.secrets_are_demo
        if self.demo:
            self.title_text = Text.assemble(self.title_text, ("  · demo Vault", "italic"))
        yield from super().compose()

    def first_lines(self) -> list[Line]:
        return secrets_lines(self.entity, self.where, None, None, demo=self.demo)

    def answer_lines(self) -> list[Line]:
        from idp_tui.secrets.models import SecretsError

        if self.where is None:
            return self.first_lines()
        try:
            store = host(self).session.secret_store()
            listing = store.list_secrets(self.where.path, mount=self.where.mount)
        except SecretsError as error:
            return secrets_lines(self.entity, self.where, None, str(error), demo=self.demo)
        return secrets_lines(self.entity, self.where, listing, None, demo=store.is_demo)
