"""What a screen may ask of the app that shows it: the session, the catalog read so far, and the way to every other
view. Screens open each other only through these, so navigation lives in one place (the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from idp_tui.catalog.entity import Entity
    from idp_tui.catalog.model import Catalog
    from idp_tui.catalog.search import SearchIndex
    from idp_tui.kube.report import PodReport, WorkloadReport
    from idp_tui.session import Session


class Host(Protocol):
    """The app as screens see it (``IdpApp`` implements it)."""

    session: Session
    # None until the first read of the catalog finishes (the rows on screen may be last run's).
    catalog: Catalog | None
    index: SearchIndex | None

    def load_catalog(self) -> object:
        """Read the catalog again, in the background (a golden path registered a new entity)."""
        ...

    def open_entity(self, entity: Entity, tab: str = "overview") -> None: ...

    def open_oncall(self, entity: Entity) -> None: ...

    def open_team(self, owner_key: str) -> None: ...

    def open_deployments(self, entity: Entity) -> None: ...

    def open_logs(
        self, entity: Entity, cluster: str, workload: WorkloadReport | None, pod: PodReport | None
    ) -> None: ...

    def open_secrets(self, entity: Entity) -> None: ...

    def hold_keys(self, longest: float = 5.0) -> None: ...

    def release_keys(self) -> None: ...


def host(node: DOMNode) -> Host:
    """The app showing ``node``, typed as what screens may use of it."""
    return cast("Host", node.app)
