"""What every route of the demo Vault shares: the parsed request, the response shape and Vault's envelope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Request:
    """A parsed API request, handed to the routes."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    token: str | None
    namespace: str = ""

    @property
    def is_list(self) -> bool:
        """Vault treats ``GET ...?list=true`` exactly like the LIST verb."""
        return self.method == "LIST" or (self.method == "GET" and self.query.get("list") in ("true", "1"))


Response = tuple[int, dict[str, Any] | None]
NO_CONTENT: Response = (204, None)
UNSUPPORTED = "1 error occurred:\n\t* unsupported path\n\n"
UNSUPPORTED_OPERATION = "1 error occurred:\n\t* unsupported operation\n\n"
KV_V1_WARNING = (
    "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. "
    "If using the Vault CLI, use 'vault kv get' for this operation."
)


def envelope(
    data: Any = None, *, mount_type: str = "", auth: dict | None = None, warnings: list[str] | None = None
) -> Response:
    """A 200 answer in Vault's response envelope."""
    body = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": warnings,
        "auth": auth,
        "mount_type": mount_type,
    }
    return 200, body


def required_capability(request: Request, exists: bool) -> str:
    """The ACL capability a request needs; a write needs ``create`` or ``update`` depending on existence."""
    if request.is_list:
        return "list"
    return {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(request.method, "update" if exists else "create")
