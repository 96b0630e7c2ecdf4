"""What is under a KV path (never a value): keys and folders, KV v2 metadata, and the policies that can read them.

KV version 2 lists ``<mount>/metadata/<path>`` and reads each secret's metadata; KV version 1 has neither
versions nor metadata, so it lists ``<mount>/<path>`` and nothing more (reading a key there would read its value).
Requests go through ``call(capability, api_path, request, missing_ok=...)``, the store's own request path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .models import SecretKey, SecretListing, SecretsError, VaultMount
from .policies import readers_of

Call = Callable[..., Any]
# A key name no policy names on purpose: "who can read anything under this path" when the path is empty.
PROBE_KEY = "any-key"
# Keys of one path shown with their metadata (a request each); a path with more says how many it has.
MAX_LISTED_KEYS = 500
READERS_UNKNOWN = "Who can read is unknown: the token may not list ACL policies (sys/policies/acl)"
KV1_NOTE = "KV version 1: Vault keeps no versions or times for these secrets"


def list_keys(call: Call, engine: VaultMount, path: str) -> list[str]:
    """The names directly under ``path`` (folders end in ``/``); empty when nothing is there."""
    mount = engine.path
    if engine.kv_version == 1:
        answer = call(
            "list",
            f"{mount}/{path}".rstrip("/"),
            lambda c: c.secrets.kv.v1.list_secrets(path=path, mount_point=mount),
            missing_ok=True,
        )
    else:
        answer = call(
            "list",
            f"{mount}/metadata/{path}".rstrip("/"),
            lambda c: c.secrets.kv.v2.list_secrets(path=path, mount_point=mount),
            missing_ok=True,
        )
    keys = ((answer or {}).get("data") or {}).get("keys") or []
    if not isinstance(keys, list):
        raise TypeError("keys")
    return [str(key) for key in keys]


def read_value_path(engine: VaultMount, path: str, key: str) -> str:
    """The API path that reads ``key``'s value (what a reader policy must grant)."""
    under = f"{path}/{key}" if path else key
    return f"{engine.path}/{under}" if engine.kv_version == 1 else f"{engine.path}/data/{under}"


def list_secrets(call: Call, engine: VaultMount, path: str) -> SecretListing:
    """Keys and folders under ``path`` of the KV engine ``engine``, their metadata (KV v2) and their readers."""
    names = sorted(list_keys(call, engine, path))
    listed_count, names = len(names), names[:MAX_LISTED_KEYS]  # each key costs a metadata request
    notes: list[str] = []
    if engine.kv_version == 1:
        keys, hidden = [SecretKey(name) for name in names], []
        notes.append(KV1_NOTE)
    else:
        keys, hidden = _key_metadata(call, engine.path, path, names)
    leaves = [name for name in names if not name.endswith("/")]
    readers, reader_notes, known = _readers(call, engine, path, leaves)
    if hidden:
        notes.insert(0, f"The token may not read the metadata of: {', '.join(hidden)}")
    if listed_count > len(names):
        notes.insert(0, f"Vault listed {listed_count:,} keys here; the first {len(names):,} are shown")
    return SecretListing(
        engine.path,
        path,
        tuple(keys),
        tuple(readers),
        (*notes, *reader_notes),
        kv_version=engine.kv_version or 2,
        readers_known=known,
    )


def _key_metadata(call: Call, mount: str, path: str, names: list[str]) -> tuple[list[SecretKey], list[str]]:
    keys: list[SecretKey] = []
    hidden: list[str] = []
    for name in names:
        if name.endswith("/"):
            keys.append(SecretKey(name))  # a folder has no metadata of its own
            continue
        full = f"{path}/{name}" if path else name
        try:
            answer = call(
                "read",
                f"{mount}/metadata/{full}",
                lambda c, full=full: c.secrets.kv.v2.read_secret_metadata(path=full, mount_point=mount),
                missing_ok=True,
            )
        except SecretsError as error:
            if error.kind != "forbidden":
                raise
            # A policy may allow listing but not metadata reads: still show the name.
            hidden.append(name)
            answer = None
        keys.append(secret_key(name, (answer or {}).get("data") or {}))
    return keys, hidden


def _readers(call: Call, engine: VaultMount, path: str, leaves: list[str]) -> tuple[list[str], list[str], bool]:
    """(policies reading every secret here, notes, whether the policies could be read at all)."""
    targets = {leaf: read_value_path(engine, path, leaf) for leaf in leaves}
    targets = targets or {PROBE_KEY: read_value_path(engine, path, PROBE_KEY)}
    try:
        listed = call("list", "sys/policies/acl", lambda c: c.sys.list_acl_policies())
    except SecretsError as error:
        if error.kind != "forbidden":
            raise
        return [], [READERS_UNKNOWN], False
    texts: dict[str, str] = {}
    notes: list[str] = []
    for policy in sorted((listed or {}).get("data", {}).get("keys") or []):
        if policy == "root":
            continue  # the root policy has no rules to read; it can do everything
        text, problem = _policy_text(call, policy)
        if problem:
            notes.append(problem)
        else:
            texts[policy] = text
    readers, partial_notes = readers_of(texts, targets)
    return readers, [*notes, *partial_notes], True


def _policy_text(call: Call, policy: str) -> tuple[str, str | None]:
    try:
        answer = call("read", f"sys/policies/acl/{policy}", lambda c: c.sys.read_acl_policy(policy), missing_ok=True)
    except SecretsError as error:
        if error.kind != "forbidden":
            raise
        return "", f"Policy {policy} could not be read (permission denied)"
    return str(((answer or {}).get("data") or {}).get("policy") or ""), None


def parse_time(text: Any) -> datetime | None:
    """A Vault timestamp (RFC 3339, nanoseconds allowed) as an aware datetime; ``None`` if missing or unreadable."""
    if not text or not isinstance(text, str):
        return None
    # Vault writes nanoseconds; Python reads at most microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(char for char in rest if char.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def secret_key(name: str, metadata: Mapping[str, Any]) -> SecretKey:
    """A KV v2 secret from its metadata (``{}`` when it could not be read)."""
    versions = metadata.get("versions") or {}
    current = metadata.get("current_version")
    version = versions.get(str(current)) or {}
    deleted = bool(version.get("deletion_time")) or bool(version.get("destroyed"))
    return SecretKey(
        name=name,
        current_version=int(current) if current else None,
        versions=len(versions) if versions else None,
        created=parse_time(metadata.get("created_time")),
        updated=parse_time(version.get("created_time") or metadata.get("updated_time")),
        deleted=deleted,
    )
