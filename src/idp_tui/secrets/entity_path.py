"""Where an entity's secrets live in Vault: its ``vault.io/secrets-path`` annotation, else the golden path's
convention ``secret/<owning team>/<entity name>`` (what ``vault:provision`` creates)."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog.entity import Entity
from ..catalog.refs import parse_ref

ANNOTATION = "vault.io/secrets-path"
DEFAULT_MOUNT = "secret"


@dataclass(frozen=True)
class SecretsPath:
    """An entity's KV mount and path, and where they come from.

    ``source`` is ``annotation`` (``vault.io/secrets-path``) or ``convention``
    (``secret/<owning team>/<entity name>``), which a team may not have followed.
    """

    mount: str
    path: str
    # "annotation" or "convention": the view says which, since a convention may not match what a team did.
    source: str

    def __str__(self) -> str:
        return f"{self.mount}/{self.path}"


def secrets_path(entity: Entity) -> SecretsPath | None:
    """The entity's KV v2 mount and path; None when it has neither the annotation nor an owner to infer one."""
    annotated = str(entity.annotations.get(ANNOTATION) or "").strip().strip("/")
    if annotated:
        mount, _, path = annotated.partition("/")
        # "secret/data/team/x" is how some write a KV v2 path; the API's data/ segment is not part of the path.
        path = path.removeprefix("data/")
        return SecretsPath(mount, path, "annotation") if path else SecretsPath(DEFAULT_MOUNT, mount, "annotation")
    if not entity.owner_key:
        return None
    team = parse_ref(entity.owner_key).name
    return SecretsPath(DEFAULT_MOUNT, f"{team}/{entity.name}", "convention")
