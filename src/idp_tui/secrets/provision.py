"""A service's secrets home in Vault: plan it, check what exists, create only what is missing, undo on request.

Everything is checked before anything is written, so a conflict (a policy or role of the same name with other
contents) leaves Vault exactly as it was. Existing secrets are never overwritten or deleted by provisioning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .models import ProvisionPlan, ProvisionRequest, ProvisionResult, SecretsError
from .policies import same_rules

PLACEHOLDER = "placeholder"
PLACEHOLDER_DATA = {"note": "replace me"}
TEAM_CAPABILITIES = ("create", "read", "update", "delete", "list")
METADATA_CAPABILITIES = ("read", "list")
ROLE_KEYS = ("bound_service_account_names", "bound_service_account_namespaces", "token_policies")


class VaultOperations(Protocol):
    """The few Vault calls provisioning needs; the store implements them over hvac (raising SecretsError)."""

    def read_policy(self, name: str) -> str | None: ...
    def write_policy(self, name: str, hcl: str) -> None: ...
    def delete_policy(self, name: str) -> None: ...
    def read_role(self, mount: str, name: str) -> Mapping | None: ...
    def write_role(self, mount: str, name: str, body: dict) -> None: ...
    def delete_role(self, mount: str, name: str) -> None: ...
    def list_keys(self, mount: str, path: str) -> list[str]: ...
    def create_secret(self, mount: str, path: str, data: dict) -> None: ...
    def delete_secret(self, mount: str, path: str) -> None: ...


def _hcl_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def policy_hcl(mount: str, team: str, service: str) -> str:
    """The team's policy for one service: read/write on its secrets, read/list on their metadata (deterministic)."""
    base = f"{team}/{service}"
    return (
        f"# Team {team}: the secrets of {service} (written by idp-tui)\n"
        f'path "{mount}/data/{base}/*" {{\n'
        f"  capabilities = {_hcl_list(TEAM_CAPABILITIES)}\n"
        "}\n"
        "\n"
        f'path "{mount}/metadata/{base}/*" {{\n'
        f"  capabilities = {_hcl_list(METADATA_CAPABILITIES)}\n"
        "}\n"
    )


def make_plan(request: ProvisionRequest) -> ProvisionPlan:
    """What provisioning ``request`` creates; pure (no request is sent).

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
        policy_hcl=policy_hcl(mount, team, service),
        role_name=role_name,
        role=role,
    )


class StoreOperations:
    """:class:`VaultOperations` over hvac: ``call(capability, api_path, request, missing_ok=...)`` sends
    ``request(client)`` and turns failures into SecretsError (the store's own request path, with its token care)."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call

    def read_policy(self, name: str) -> str | None:
        answer = self._call("read", f"sys/policies/acl/{name}", lambda c: c.sys.read_acl_policy(name), missing_ok=True)
        return None if answer is None else str(((answer.get("data") or {}).get("policy")) or "")

    def write_policy(self, name: str, hcl: str) -> None:
        self._call("update", f"sys/policies/acl/{name}", lambda c: c.sys.create_or_update_acl_policy(name, hcl))

    def delete_policy(self, name: str) -> None:
        self._call("delete", f"sys/policies/acl/{name}", lambda c: c.sys.delete_acl_policy(name), missing_ok=True)

    def read_role(self, mount: str, name: str) -> Mapping | None:
        path = f"auth/{mount}/role/{name}"
        answer = self._call("read", path, lambda c: c.adapter.get(f"/v1/{path}"), missing_ok=True)
        return None if answer is None else (answer.get("data") or {})

    def write_role(self, mount: str, name: str, body: dict) -> None:
        path = f"auth/{mount}/role/{name}"
        self._call("create", path, lambda c: c.write_data(path, data=body))

    def delete_role(self, mount: str, name: str) -> None:
        path = f"auth/{mount}/role/{name}"
        self._call("delete", path, lambda c: c.adapter.delete(f"/v1/{path}"), missing_ok=True)

    def list_keys(self, mount: str, path: str) -> list[str]:
        answer = self._call(
            "list",
            f"{mount}/metadata/{path}",
            lambda c: c.secrets.kv.v2.list_secrets(path=path, mount_point=mount),
            missing_ok=True,
        )
        return list(((answer or {}).get("data") or {}).get("keys") or [])

    def create_secret(self, mount: str, path: str, data: dict) -> None:
        # cas=0: written only if no secret is there, so a secret made meanwhile is never overwritten.
        self._call(
            "create",
            f"{mount}/data/{path}",
            lambda c: c.secrets.kv.v2.create_or_update_secret(path=path, secret=data, cas=0, mount_point=mount),
        )

    def delete_secret(self, mount: str, path: str) -> None:
        self._call(
            "delete",
            f"{mount}/metadata/{path}",
            lambda c: c.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount),
            missing_ok=True,
        )


# One line per thing made; unprovision() recognises exactly these lines, so they are built in one place.
def policy_line(plan: ProvisionPlan) -> str:
    return f"policy {plan.policy_name}"


def role_line(plan: ProvisionPlan, kubernetes_mount: str) -> str:
    return f"kubernetes role {plan.role_name} (auth/{kubernetes_mount})"


def placeholder_line(plan: ProvisionPlan) -> str:
    return f"secret {plan.placeholder}"


@dataclass
class _Survey:
    """What exists, before anything is written."""

    create: list[str]
    unchanged: list[str]
    conflicts: list[tuple[str, str]]  # (message, api path)


def provision(
    vault: VaultOperations, request: ProvisionRequest, *, dry_run: bool = False, kubernetes_mount: str | None = None
) -> ProvisionResult:
    """Create what is missing from the plan; see :meth:`SecretStore.provision`."""
    plan = make_plan(request)
    k8s_mount = kubernetes_mount or request.kubernetes_mount
    survey = _survey(vault, request, plan, k8s_mount)
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
            _create(vault, request, plan, k8s_mount, line)
            created.append(line)
    except SecretsError:
        # Leave Vault as it was: a half-made home (a policy without its path) confuses the next run.
        _remove(vault, request, plan, k8s_mount, created)
        raise
    return ProvisionResult(plan, tuple(created), tuple(survey.unchanged))


def _survey(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan, k8s_mount: str) -> _Survey:
    survey = _Survey([], [], [])
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
            survey.create.append(role_line(plan, k8s_mount))
        elif _same_role(existing_role, plan.role):
            survey.unchanged.append(role_line(plan, k8s_mount))
        else:
            survey.conflicts.append(
                (
                    f"Kubernetes role {plan.role_name} on auth/{k8s_mount} already exists with other bindings",
                    f"auth/{k8s_mount}/role/{plan.role_name}",
                )
            )
    keys = vault.list_keys(request.mount, f"{request.team}/{request.service}")
    if keys:
        # The path already exists (the placeholder or real secrets): it is left exactly as it is.
        survey.unchanged.append(f"secrets path {plan.secret_path} ({_count(len(keys))} there, left as is)")
    else:
        survey.create.append(placeholder_line(plan))
    return survey


def _count(number: int) -> str:
    return f"{number} secret" if number == 1 else f"{number} secrets"


def _same_role(existing: Mapping, planned: dict) -> bool:
    # Vault returns every role field (ttls, audience...); only the bindings this plan sets are compared.
    for key in ROLE_KEYS:
        have = existing.get(key)
        if key == "token_policies" and not have:
            have = existing.get("policies")  # the pre-1.2 name of the same field
        if sorted(have or []) != sorted(planned[key]):
            return False
    return True


def _create(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan, k8s_mount: str, line: str) -> None:
    if line == policy_line(plan):
        vault.write_policy(plan.policy_name, plan.policy_hcl)
    elif plan.role_name and plan.role is not None and line == role_line(plan, k8s_mount):
        vault.write_role(k8s_mount, plan.role_name, dict(plan.role))
    elif line == placeholder_line(plan):
        vault.create_secret(request.mount, _placeholder_path(request), dict(PLACEHOLDER_DATA))


def _placeholder_path(request: ProvisionRequest) -> str:
    return f"{request.team}/{request.service}/{PLACEHOLDER}"


def unprovision(vault: VaultOperations, result: ProvisionResult, *, kubernetes_mount: str | None = None) -> None:
    """Remove exactly what ``result`` created; see :meth:`SecretStore.unprovision`."""
    if result.dry_run or not result.created:
        return
    request = _request_of(result.plan)
    k8s_mount = kubernetes_mount or _role_mount(result) or request.kubernetes_mount
    _remove(vault, request, result.plan, k8s_mount, list(result.created))


def _remove(vault: VaultOperations, request: ProvisionRequest, plan: ProvisionPlan, k8s_mount: str, lines) -> None:
    failures: list[SecretsError] = []
    # Reverse order: the placeholder goes first, the policy that guards it last.
    for line in reversed(list(lines)):
        try:
            if line == policy_line(plan):
                vault.delete_policy(plan.policy_name)
            elif plan.role_name and line == role_line(plan, k8s_mount):
                vault.delete_role(k8s_mount, plan.role_name)
            elif line == placeholder_line(plan):
                vault.delete_secret(request.mount, _placeholder_path(request))
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
    return ProvisionRequest(team=team, service=service, mount=mount)


def _role_mount(result: ProvisionResult) -> str | None:
    prefix = f"kubernetes role {result.plan.role_name} (auth/"
    for line in result.created:
        if result.plan.role_name and line.startswith(prefix) and line.endswith(")"):
            return line[len(prefix) : -1]
    return None
