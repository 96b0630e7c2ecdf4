"""Keys that act on an entity, the same on the entity screen and on the highlighted row of any list."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from idp_tui.catalog.entity import Entity
from idp_tui.safe_text import clean

from .host import host


class EntityActions(Screen):
    """A screen that has a "current entity": the one shown, or the highlighted row."""

    BINDINGS = [
        Binding("o", "oncall", "On call", id="entity.oncall"),
        Binding("r", "entity_tab('relations')", "Relations", id="entity.relations"),
        Binding("t", "entity_tab('docs')", "TechDocs", id="entity.docs"),
        Binding("d", "deployments", "Deployments", id="entity.deployments"),
        Binding("s", "secrets", "Secrets", id="entity.secrets"),
        Binding("y", "copy_ref", "Copy ref", show=False, id="entity.copy_ref"),
    ]

    def current_entity(self) -> Entity | None:
        raise NotImplementedError

    def open_entity(self, entity: Entity, tab: str = "overview") -> None:
        host(self).open_entity(entity, tab)

    def action_entity_tab(self, tab: str) -> None:
        entity = self.current_entity()
        if entity is not None:
            self.open_entity(entity, tab)

    def action_oncall(self) -> None:
        entity = self.current_entity()
        if entity is not None:
            host(self).open_oncall(entity)

    def action_secrets(self) -> None:
        entity = self.current_entity()
        if entity is not None:
            host(self).open_secrets(entity)

    def action_deployments(self) -> None:
        entity = self.current_entity()
        if entity is not None:
            host(self).open_deployments(entity)

    def action_copy_ref(self) -> None:
        entity = self.current_entity()
        if entity is None:
            return
        ref = entity.ref.humanize()
        # OSC 52: reaches the local clipboard over SSH and inside tmux, with no display needed.
        self.app.copy_to_clipboard(entity.key)
        self.notify(clean(f"Copied {entity.key}", one_line=True), title=clean(ref), timeout=3, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("entity_tab", "copy_ref", "deployments", "oncall", "secrets") and self.current_entity() is None:
            return None  # shown greyed out until there is an entity to act on
        return True
