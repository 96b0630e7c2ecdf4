"""``s``: an entity's secrets in Vault (keys, versions, times, who can read them). Values are never fetched."""

from __future__ import annotations

from rich.text import Text

from idp_tui.catalog.entity import Entity
from idp_tui.render.lines import Line
from idp_tui.render.secrets import secrets_lines
from idp_tui.secrets.entity_path import secrets_path

from .lines import LinesScreen


class SecretsScreen(LinesScreen):
    """The keys under the entity's Vault path; ``y`` copies a key's ``vault kv get`` command."""

    def __init__(self, entity: Entity) -> None:
        super().__init__(entity, Text.assemble(("Secrets  ", "bold"), (entity.ref.humanize(), "")))
        self.entity = entity
        self.where = secrets_path(entity)

    def first_lines(self) -> list[Line]:
        return secrets_lines(self.entity, self.where, None, None)

    def answer_lines(self) -> list[Line]:
        from idp_tui.secrets.models import SecretsError

        if self.where is None:
            return self.first_lines()
        try:
            store = self.app.secret_access.store()  # type: ignore[attr-defined]
            listing = store.list_secrets(self.where.path, mount=self.where.mount)
        except SecretsError as error:
            return secrets_lines(self.entity, self.where, None, str(error))
        return secrets_lines(self.entity, self.where, listing, None)
