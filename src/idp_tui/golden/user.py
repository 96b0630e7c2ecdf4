"""Who runs a golden path: ``user.ref`` and ``user.entity`` in template expressions."""

from __future__ import annotations

import getpass
from typing import Any

from ..catalog.model import Catalog


def current_user(catalog: Catalog, name: str | None = None) -> dict[str, Any]:
    """The catalog User matching ``name`` (default: the login name), as Backstage passes it to templates.

    A login name with no User entity still gets a ref (``user:default/<login>``) and no entity.
    """
    try:
        login = name or getpass.getuser()
    except (KeyError, OSError):
        login = "guest"
    entity = catalog.get(f"user:default/{login}".lower())
    if entity is None:
        return {"ref": f"user:default/{login}"}
    return {"ref": entity.key, "entity": entity.to_json()}
