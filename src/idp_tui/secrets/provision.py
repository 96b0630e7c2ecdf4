"""A service's secrets home in Vault: plan it, check what exists, create only what is missing, undo on request.

Everything is checked before anything is written: the mount is a KV engine (version 1 or 2, which decides the
policy's paths and how the placeholder is written), a Kubernetes role's auth method is enabled, and no policy or
role of the same name has other contents. Any of these leaves Vault exactly as it was. Existing secrets are never
overwritten or deleted by provisioning: on KV version 2 the placeholder is written with check-and-set 0; KV
version 1 has no check-and-set, so its placeholder is written only after listing the path showed it empty (and a
token that may not list it is refused before any write).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .models import ProvisionPlan, ProvisionRequest, ProvisionResult, SecretsError, VaultMount
from .policies import same_rules

PLACEHOLDER = "placeholder"
PLACEHOLDER_DATA = {"note": "replace me"}
TEAM_CAPABILITIES = ("create", "read", "update", "delete", "list")
METADATA_CAPABILITIES = ("read", "list")
ROLE_KEYS = ("bound_service_account_names", "bound_service_account_namespaces", "token_policies")


class VaultOperations(Protocol):
    """The few Vault calls provisioning needs; the store implements them over hvac (raising SecretsError)."""

    def kv_engine(self, mount: str, path: str) -> VaultMount:
        """The KV engine serving ``mount/path``: its real mount path and KV version (see ``mounts.kv_mount``)."""

    def auth_method(self, mount: str, method: str, probe: str) -> VaultMount:
        """Check that ``method`` is enabled at ``auth/<mount>``; ``probe`` is a path under it the caller will use."""

    def read_policy(self, name: str) -> str | None:
        """An ACL policy's text, or ``None`` when there is no such policy."""

    def write_policy(self, name: str, hcl: str) -> None:
        """Create or replace the ACL policy ``name``."""

    def delete_policy(self, name: str) -> None:
        """Delete the ACL policy ``name``; a missing one is not an error."""

    def read_role(self, mount: str, name: str) -> Mapping | None:
        """The settings of the role ``auth/<mount>/role/<name>``, or ``None`` when there is none."""

    def write_role(self, mount: str, name: str, body: dict) -> None:
        """Create (or replace) the role ``auth/<mount>/role/<name>`` with ``body``."""

    def delete_role(self, mount: str, name: str) -> None:
        """Delete the role ``auth/<mount>/role/<name>``; a missing one is not an error."""

    def list_keys(self, mount: str, path: str, kv_version: int) -> list[str]:
        """The names directly under ``mount/path`` (folders end in ``/``); empty when nothing is there."""

    def create_secret(self, mount: str, path: str, data: dict, kv_version: int) -> None:
        """Write a new secret, never over one that exists (KV version 1 cannot check: list the path first)."""

    def delete_secret(self, mount: str, path: str, kv_version: int) -> None:
        """Delete a secret with all its versions; a missing one is not an error."""


def _hcl_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def policy_hcl(mount: str, team: str, service: str, kv_version: int = 2) -> str:
    """The team's policy for one service (deterministic).

    KV version 2: read/write on its secrets (``data/``), read/list on their metadata. KV version 1 has one path
    per secret, so one stanza grants read/write/list on them.
    """
    base = f"{team}/{service}"
    header = f"# Team {team}: the secrets of {service} (written by idp-tui)\n"
    if kv_version == 1:
        return f'{header}path "{mount}/{base}/*" {{\n  capabilities = {_hcl_list(TEAM_CAPABILITIES)}\n}}\n'
    return (
        header + f'path "{mount}/data/{base}/*" {{\n'
        f"  capabilities = {_hcl_list(TEAM_CAPABILITIES)}\n"
        "}\n"
        "\n"
        f'path "{mount}/metadata/{base}/*" {{\n'
        f"  capabilities = {_hcl_list(METADATA_CAPABILITIES)}\n"
        "}\n"
    )


def make_plan(request: ProvisionRequest, kv_version: int = 2) -> ProvisionPlan:
    """What provisioning ``request`` creates on a KV mount of ``kv_version``; pure (no request is sent).

    Raises:
        SecretsError: kind ``config`` for a name Vault paths cannot hold, or a Kubernetes role without a namespace.
    """
    for label, value in (("team", request.team), ("service", request.service), ("mount", request.mount)):
        if not value or "/" in value or ".." in value or '"' in value or value != value.strip():
            raise SecretsError(f"provisioning needs a plain {label} name, got {value!r}", kind="config")
    mount, team, service = request.mount, request.team, request.service
    policy = f"{team}-{service}"
    role_name, role = None, None
    if request.kubernetes_role:
        if not request.namespace:
            raise SecretsError(
                f"a Kubernetes auth role for {service} needs the namespace of its service account", kind="config"
            )
        role_name = service
        role = {
            "bound_service_account_names": [request.service_account or service],
            "bound_service_account_namespaces": [request.namespace],
            "token_policies": [policy],
        }
    return ProvisionPlan(
        secret_path=f"{mount}/{team}/{service}/",
        placeholder=f"{mount}/{team}/{service}/{PLACEHOLDER}",
        policy_name=policy,
        policy_hcl=policy_hcl(mount, team, service, kv_version),
        role_name=role_name,
        role=role,
        kv_version=kv_version,
        kubernetes_mount=request.kubernetes_mount,
    )


def discover_plan(vault: VaultOperations, request: ProvisionRequest) -> ProvisionPlan:
    """The plan for the mount as it is: its KV version learnt, the Kubernetes auth method checked (reads only).

    Raises:
        SecretsError: kind ``not-found`` for a mount or auth method that is not there, ``config`` for a mount that
            is no KV store or is served deeper than ``request.mount``, or any Vault failure.
    """
    make_plan(request)  # names are checked before anything is asked
    engine = vault.kv_engine(request.mount, f"{request.team}/{request.service}")
    if engine.path != request.mount:
        message = (
            f"{request.team}/{request.service} under {request.mount}/ is served by the mount {engine.path}/: "
            f"provision on the KV mount itself (set the mount to {engine.path})"
        )
        raise SecretsError(message, kind="config", path=f"{engine.path}/")
    plan = make_plan(request, engine.kv_version or 2)
    if plan.role_name:
        probe = f"auth/{request.kubernetes_mount}/role/{plan.role_name}"
        vault.auth_method(request.kubernetes_mount, "kubernetes", probe)
    return plan


class StoreOperations:
    """:class:`VaultOperations` over hvac: ``call(capability, api_path, request, missing_ok=...)`` sends
    ``request(client)`` and turns failures into SecretsError (the store's own request path, with its token care);
    ``kv_engine`` and ``auth_method`` are the store's (cached) mount lookups."""

    def __init__(
        self,
        call: Callable[..., Any],
        *,
        kv_engine: Callable[[str, str], VaultMount],
        auth_method: Callable[[str, str, str], VaultMount],
    ) -> None:
        self._call = call
        self.kv_engine = kv_engine
        self.auth_method = auth_method

    def read_policy(self, name: str) -> str | None:
        """An ACL policy's text, or ``None`` when there is no such policy."""
        answer = self._call("read", f"sys/policies/acl/{name}", lambda c: c.sys.read_acl_policy(name), missing_ok=True)
        return None if answer is None else str(((answer.get("data") or {}).get("policy")) or "")

    def write_policy(self, name: str, hcl: str) -> None:
        """Create or replace the ACL policy ``name``."""
        self._call("update", f"sys/policies/acl/{name}", lambda c: c.sys.create_or_update_acl_policy(name, hcl))

    def delete_policy(self, name: str) -> None:
        """Delete the ACL policy ``name``; a missing one is not an error."""
        self._call("delete", f"sys/policies/acl/{name}", lambda c: c.sys.delete_acl_policy(name), missing_ok=True)

    def read_role(self, mount: str, name: str) -> Mapping | None:
        """The settings of the role ``auth/<mount>/role/<name>``, or ``None`` when there is none."""
        path = f"auth/{mount}/role/{name}"
        answer = self._call("read", path, lambda c: c.adapter.get(f"/v1/{path}"), missing_ok=True)
        return None if answer is None else (answer.get("data") or {})

    def write_role(self, mount: str, name: str, body: dict) -> None:
        """Create (or replace) the role ``auth/<mount>/role/<name>`` with ``body``."""
        path = f"auth/{mount}/role/{name}"
        self._call("create", path, lambda c: c.write_data(path, data=body))

    def delete_role(self, mount: str, name: str) -> None:
        """Delete the role ``auth/<mount>/role/<name>``; a missing one is not an error."""
        path = f"auth/{mount}/role/{name}"
        self._call("delete", path, lambda c: c.adapter.delete(f"/v1/{path}"), missing_ok=True)

    def list_keys(self, mount: str, path: str, kv_version: int) -> list[str]:
        """The names directly under ``mount/path`` (folders end in ``/``); empty when nothing is there."""
        from .listing import list_keys

        return list_keys(self._call, VaultMount(mount, "kv", kv_version), path)

    def create_secret(self, mount: str, path: str, data: dict, kv_version: int) -> None:
        """Write a new secret: on KV version 2 with check-and-set 0, so a secret written meanwhile is never
        overwritten; on KV version 1 directly (no check-and-set there: the caller lists the path first).
        """
        if kv_version == 1:
            # Written directly (hvac's v1 helper would first read the value to choose POST or PUT).
            self._call("create", f"{mount}/{path}", lambda c: c.write_data(f"{mount}/{path}", data=data))
            return
        # cas=0: written only if no secret is there, so a secret made meanwhile is never overwritten.
        self._call(
            "create",
            f"{mount}/data/{path}",
            lambda c: c.secrets.kv.v2.create_or_update_secret(path=path, secret=data, cas=0, mount_point=mount),
        )

    def delete_secret(self, mount: str, path: str, kv_version: int) -> None:
        """Delete a secret; on KV version 2 with every version and its metadata. A missing one is not an error."""
        if kv_version == 1:
            self._call("delete", f"{mount}/{path}", lambda c: c.adapter.delete(f"/v1/{mount}/{path}"), missing_ok=True)
            return
        self._call(
            "delete",
            f"{mount}/metadata/{path}",
            lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount),
            missing_ok=True,
        )


# One line per thing made; unprovision() recognises exactly these lines, so they are built in one place.
def policy_line(plan: ProvisionPlan) -> str:
    """The line a result lists for the team's policy (:func:`unprovision` looks for exactly it)."""
    return f"policy {plan.policy_name}"


def role_line(plan: ProvisionPlan, kubernetes_mount: str | None = None) -> str:
    """The line a result lists for the Kubernetes auth role (on ``kubernetes_mount``, by default the plan's)."""
    return f"kubernetes role {plan.role_name} (auth/{kubernetes_mount or plan.kubernetes_mount})"


def placeholder_line(plan: ProvisionPlan) -> str:
    """The line a result lists for the placeholder secret."""
    return f"secret {plan.placeholder}"


@dataclass
class _Survey:
    """What exists, before anything is written."""

    create: list[str]
    unchanged: list[str]
    conflicts: list[tuple[str, str]]  # (message, api path)


def provision(vault: VaultOperations, request: ProvisionRequest, *, dry_run: bool = False) -> ProvisionResult:
    """Create what is missing from the plan; see :meth:`SecretStore.provision`."""
    plan = discover_plan(vault, request)
    survey = _survey(vault, request, plan)
    if survey.conflicts:
        messages = "; ".join(message for message, _ in survey.conflicts)
        raise SecretsError(
            f"{messages}. Nothing was written: remove or rename it, or pick another service name",
            kind="conflict",
            path=survey.conflicts[0][1],
        )
    if dry_run or not survey.create:
        return ProvisionResult(plan, tuple(survey.create), tuple(survey.unchanged), dry_run=dry_run)
    created: list[str] = []
    try:
        for line in survey.create:
            _create(vault, request, plan, line)
            created.append(line)
    except SecretsError:
        # Leave Vault as it was: a half-made home (a policy without its path) confuses the next run.
        _remove(vault, request, plan, created)
        raise
    return ProvisionResult(plan, tuple(created), tuple(survey.unchanged))


def _survey(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan) -> _Survey:
    survey = _Survey([], [], [])
    k8s_mount = plan.kubernetes_mount
    existing_policy = vault.read_policy(plan.policy_name)
    if existing_policy is None:
        survey.create.append(policy_line(plan))
    elif same_rules(existing_policy, plan.policy_hcl):
        survey.unchanged.append(policy_line(plan))
    else:
        survey.conflicts.append(
            (f"policy {plan.policy_name} already exists with other rules", f"sys/policies/acl/{plan.policy_name}")
        )
    if plan.role_name and plan.role is not None:
        existing_role = vault.read_role(k8s_mount, plan.role_name)
        if existing_role is None:
            survey.create.append(role_line(plan))
        elif _same_role(existing_role, plan.role):
            survey.unchanged.append(role_line(plan))
        else:
            survey.conflicts.append(
                (
                    f"Kubernetes role {plan.role_name} on auth/{k8s_mount} already exists with other bindings",
                    f"auth/{k8s_mount}/role/{plan.role_name}",
                )
            )
    keys = _existing_keys(vault, request, plan)
    if keys:
        # The path already exists (the placeholder or real secrets): it is left exactly as it is.
        survey.unchanged.append(f"secrets path {plan.secret_path} ({_count(keys)} there, left as is)")
    else:
        survey.create.append(placeholder_line(plan))
    return survey


def _existing_keys(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan) -> list[str]:
    where = f"{request.team}/{request.service}"
    try:
        return vault.list_keys(request.mount, where, plan.kv_version)
    except SecretsError as error:
        if plan.kv_version != 1 or error.kind != "forbidden":
            raise
        # Without check-and-set, only a listing tells that the placeholder would overwrite nothing.
        message = (
            f"{request.mount}/ is a KV version 1 mount, which has no check-and-set: the placeholder is written only "
            f"after listing {request.mount}/{where} shows nothing would be overwritten, and the token may not list "
            "it. Nothing was written"
        )
        raise SecretsError(message, kind="forbidden", path=error.path) from None


def _count(keys: list[str]) -> str:
    folders = sum(1 for key in keys if key.endswith("/"))
    secrets = len(keys) - folders
    parts = []
    if secrets or not folders:
        parts.append(f"{secrets} secret" if secrets == 1 else f"{secrets} secrets")
    if folders:
        parts.append(f"{folders} folder" if folders == 1 else f"{folders} folders")
    return " and ".join(parts)


def _same_role(existing: Mapping, planned: dict) -> bool:
    # Vault returns every role field (ttls, audience...); only the bindings this plan sets are compared.
    for key in ROLE_KEYS:
        have = existing.get(key)
        if key == "token_policies" and not have:
            have = existing.get("policies")  # the pre-1.2 name of the same field
        if sorted(have or []) != sorted(planned[key]):
            return False
    return True


def _create(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan, line: str) -> None:
    if line == policy_line(plan):
        vault.write_policy(plan.policy_name, plan.policy_hcl)
    elif plan.role_name and plan.role is not None and line == role_line(plan):
        vault.write_role(plan.kubernetes_mount, plan.role_name, dict(plan.role))
    elif line == placeholder_line(plan):
        vault.create_secret(request.mount, _placeholder_path(request), dict(PLACEHOLDER_DATA), plan.kv_version)


def _placeholder_path(request: ProvisionRequest) -> str:
    return f"{request.team}/{request.service}/{PLACEHOLDER}"


def unprovision(vault: VaultOperations, result: ProvisionResult) -> None:
    """Remove exactly what ``result`` created; see :meth:`SecretStore.unprovision`."""
    if result.dry_run or not result.created:
        return
    _remove(vault, _request_of(result.plan), result.plan, list(result.created))


def _remove(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan, lines) -> None:
    failures: list[SecretsError] = []
    # Reverse order: the placeholder goes first, the policy that guards it last.
    for line in reversed(list(lines)):
        try:
            if line == policy_line(plan):
                vault.delete_policy(plan.policy_name)
            elif plan.role_name and line == role_line(plan):
                vault.delete_role(plan.kubernetes_mount, plan.role_name)
            elif line == placeholder_line(plan):
                vault.delete_secret(request.mount, _placeholder_path(request), plan.kv_version)
        except SecretsError as error:
            failures.append(error)  # keep going: remove as much as possible, then say what is left
    if failures:
        raise SecretsError(
            "could not remove everything provisioning created: " + "; ".join(str(error) for error in failures),
            kind=failures[0].kind,
            path=failures[0].path,
        )


def _request_of(plan: ProvisionPlan) -> ProvisionRequest:
    # The plan's paths are mount/team/service/...: enough to address what was created.
    mount, team, service = plan.secret_path.rstrip("/").split("/")
    return ProvisionRequest(team=team, service=service, mount=mount, kubernetes_mount=plan.kubernetes_mount)
