"""The demo Vault's KV secrets engines, where they are mounted: version 2 (versions and metadata under ``data/``
and ``metadata/``) and version 1 (one value per path, nothing else), their routes and the engine behind them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from idp_tui.secrets.demo_vault.acl import VaultError, seconds, vault_time
from idp_tui.secrets.demo_vault.protocol import (
    KV_V1_WARNING,
    NO_CONTENT,
    UNSUPPORTED_OPERATION,
    Request,
    Response,
    envelope,
    required_capability,
)

if TYPE_CHECKING:
    from idp_tui.secrets.demo_vault.server import DemoVault


# -- routes: KV v2 -----------------------------------------------------------------------------------------------------


def kv_route(vault: DemoVault, request: Request, mount: str, parts: list[str]) -> Response:
    """A request to the KV version 2 engine mounted at ``mount``; ``parts`` is the path within the mount."""
    operation, path = (parts[0] if parts else ""), "/".join(parts[1:])
    store = vault.kv_mount(request.namespace, mount)
    if operation == "metadata" and request.is_list:
        vault.authorize(request, "list", request.path + "/")  # Vault checks LIST on the path with a trailing "/"
        keys = kv_list(store, path)
        if not keys:
            raise VaultError(404)
        return envelope({"keys": keys}, mount_type="kv")
    vault.authorize(request, required_capability(request, path in store))
    if operation == "data" and path:
        return _kv_data(vault, request, mount, path)
    if operation == "metadata" and path:
        return _kv_metadata(vault, request, mount, path)
    if operation in ("delete", "undelete", "destroy") and path and request.method in ("POST", "PUT"):
        versions = request.body.get("versions")
        if not versions:
            raise VaultError(400, ["no version number provided"])
        if path in store:
            kv_change_versions(store[path], operation, [int(version) for version in versions])
            vault.save()
        return NO_CONTENT
    if operation == "config" and request.method == "GET":
        return envelope({"cas_required": False, "delete_version_after": "0s", "max_versions": 0}, mount_type="kv")
    # What a KV v2 mount answers to a KV v1-style path (no data/ or metadata/ segment).
    _, body = envelope(None, mount_type="kv", warnings=[KV_V1_WARNING])
    raise VaultError(404, payload=body)


def _kv_data(vault: DemoVault, request: Request, mount: str, path: str) -> Response:
    store = vault.kv_mount(request.namespace, mount)
    if request.method == "GET":
        version = request.query.get("version", "0")
        return envelope(kv_read(store.get(path), int(version) if version.isdigit() else 0), mount_type="kv")
    if request.method in ("POST", "PUT"):
        data = request.body.get("data")
        if not isinstance(data, dict):
            raise VaultError(400, ["no data provided"])
        cas = (request.body.get("options") or {}).get("cas")
        written = kv_write(store, path, data, cas=None if cas is None else int(cas))
        vault.save()
        return envelope(written, mount_type="kv")
    if request.method == "DELETE":  # soft-deletes the current version
        if path in store:
            kv_change_versions(store[path], "delete", [store[path]["current_version"]])
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


def _kv_metadata(vault: DemoVault, request: Request, mount: str, path: str) -> Response:
    store = vault.kv_mount(request.namespace, mount)
    if request.method == "GET":
        if path not in store:
            raise VaultError(404)
        return envelope(kv_metadata(store[path]), mount_type="kv")
    if request.method in ("POST", "PUT"):
        record = store.setdefault(path, new_record(vault_time()))
        for key in ("max_versions", "cas_required", "custom_metadata"):
            if key in request.body:
                record[key] = request.body[key]
        if "delete_version_after" in request.body:
            record["delete_version_after"] = f"{seconds(request.body['delete_version_after'], 'delete_version_after')}s"
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":  # every version and the metadata
        if store.pop(path, None) is not None:
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


# -- routes: KV v1 -----------------------------------------------------------------------------------------------------


def kv1_route(vault: DemoVault, request: Request, mount: str, path: str) -> Response:
    """A request to the KV version 1 engine mounted at ``mount``: a value per path, no versions, no metadata."""
    store = vault.kv_mount(request.namespace, mount)
    if request.is_list:
        vault.authorize(request, "list", request.path.rstrip("/") + "/")
        keys = kv_list(store, path)
        if not keys:
            raise VaultError(404)
        return envelope({"keys": keys}, mount_type="kv")
    vault.authorize(request, required_capability(request, path in store))
    if not path:
        raise VaultError(405, [UNSUPPORTED_OPERATION])
    if request.method in ("GET", "HEAD"):
        if path not in store:
            raise VaultError(404)
        status, body = envelope(dict(store[path]["data"]), mount_type="kv")
        return status, {**body, "lease_duration": KV1_LEASE}
    if request.method in ("POST", "PUT"):
        if not request.body:
            raise VaultError(400, ["missing data fields"])
        store[path] = {"data": dict(request.body)}
        vault.save()
        return NO_CONTENT
    if request.method == "DELETE":
        if store.pop(path, None) is not None:
            vault.save()
        return NO_CONTENT
    raise VaultError(405, [UNSUPPORTED_OPERATION])


# -- the KV v2 engine: records are plain JSON, so the store file holds them as they are ---------------------------

DEFAULT_MAX_VERSIONS = 10
KV1_LEASE = 2764800  # what a KV v1 read says its lease is (Vault's default TTL, 768h)


def new_record(now: str) -> dict[str, Any]:
    """An empty KV v2 record: the metadata Vault keeps for a path, no versions yet, created at ``now``."""
    return {
        "cas_required": False,
        "created_time": now,
        "current_version": 0,
        "custom_metadata": None,
        "delete_version_after": "0s",
        "max_versions": 0,
        "oldest_version": 0,
        "updated_time": now,
        "versions": {},
    }


def kv_write(
    store: dict[str, Any], path: str, data: dict, *, cas: int | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """Add a version to ``path``; returns the new version's metadata (the write response's ``data``)."""
    record = store.get(path)
    current = record["current_version"] if record else 0
    if cas is None and record and record["cas_required"]:
        raise VaultError(400, ["check-and-set parameter required for this call"])
    if cas is not None and cas != current:
        raise VaultError(400, ["check-and-set parameter did not match the current version"])
    now = vault_time(at)
    record = store.setdefault(path, new_record(now))
    version = current + 1
    entry = {"created_time": now, "deletion_time": "", "destroyed": False, "data": dict(data)}
    record["versions"][str(version)] = entry
    record.update(current_version=version, updated_time=now)
    keep = record["max_versions"] or DEFAULT_MAX_VERSIONS
    while len(record["versions"]) > keep:  # the oldest versions go, as Vault prunes past max_versions
        del record["versions"][str(min(int(number) for number in record["versions"]))]
        record["oldest_version"] = min(int(number) for number in record["versions"])
    return version_metadata(record, version)


def version_metadata(record: dict[str, Any], version: int) -> dict[str, Any]:
    """One version's metadata as KV v2 answers carry it: its times, ``destroyed``, ``version`` and the custom
    metadata of the path.
    """
    entry = record["versions"][str(version)]
    return {
        "created_time": entry["created_time"],
        "custom_metadata": record["custom_metadata"],
        "deletion_time": entry["deletion_time"],
        "destroyed": entry["destroyed"],
        "version": version,
    }


def kv_read(record: dict[str, Any] | None, version: int) -> dict[str, Any]:
    """The ``data`` of a read; a deleted or destroyed version is a 404 that still carries its metadata."""
    version = version or (record["current_version"] if record else 0)
    if record is None or str(version) not in record["versions"]:
        raise VaultError(404)
    entry = record["versions"][str(version)]
    metadata = version_metadata(record, version)
    if entry["deletion_time"] or entry["destroyed"]:
        _, body = envelope({"data": None, "metadata": metadata}, mount_type="kv")
        raise VaultError(404, payload=body)
    return {"data": dict(entry["data"]), "metadata": metadata}


def kv_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a metadata read: the record's settings and each version's times and state, no values."""
    versions = {
        number: {key: entry[key] for key in ("created_time", "deletion_time", "destroyed")}
        for number, entry in record["versions"].items()
    }
    return {**{key: value for key, value in record.items() if key != "versions"}, "versions": versions}


def kv_list(store: dict[str, Any], path: str) -> list[str]:
    """The keys directly under ``path``; a deeper secret shows as its folder with a trailing ``/``."""
    prefix = path.strip("/") + "/" if path.strip("/") else ""
    keys = set()
    for stored in store:
        if stored.startswith(prefix):
            head, slash, _ = stored[len(prefix) :].partition("/")
            keys.add(head + slash)
    return sorted(keys)


def kv_change_versions(record: dict[str, Any], operation: str, versions: list[int]) -> None:
    """Soft-delete, undelete or destroy (drop the data of) the given versions."""
    for number in versions:
        entry = record["versions"].get(str(number))
        if entry is None or entry["destroyed"]:
            continue
        if operation == "delete":
            entry["deletion_time"] = entry["deletion_time"] or vault_time()
        elif operation == "undelete":
            entry["deletion_time"] = ""
        else:
            entry.update(destroyed=True, data={})
