"""``vault:provision``: a service's secrets home in Vault (KV path, team policy, optional Kubernetes role).

The same :class:`VaultProvisioning` effect serves the article's ``http:backstage:request`` to
``/api/vault-provisioner/namespace`` in local mode (see ``demo_backend``), so both routes create the same things.
Nothing is written while the task runs: the provisioning is staged and applied only when every step succeeded.
The dry run that plans it reads Vault first, so a missing mount, a Kubernetes auth method that is not enabled or a
conflict fails the step before anything is staged. When the demo Vault answers, the log and the outputs say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...secrets.models import (
    ProvisionDefaults,
    ProvisionPlan,
    ProvisionRequest,
    ProvisionResult,
    SecretsError,
    SecretStore,
)
from ...secrets.provision import make_plan
from .base import ActionContext, ActionError


class VaultProvisioning:
    """The staged effect: check() finds conflicts before anything is written; undo() removes what apply() made."""

    def __init__(self, store: SecretStore, request: ProvisionRequest) -> None:
        self.store = store
        self.request = request
        self.result: ProvisionResult | None = None

    def describe(self) -> str:
        """The secrets path and policy that will be created, and in which Vault."""
        where = "the demo Vault" if self.store.is_demo else "Vault"
        return f"secrets path {self._plan().secret_path} with policy {self.policy_name} in {where}"

    @property
    def policy_name(self) -> str:
        """The name of the team's policy (from the applied result once there is one)."""
        return self._plan().policy_name

    def _plan(self) -> ProvisionPlan:
        # Names only: the applied result's plan, else the pure plan (no request to Vault after the run).
        return self.result.plan if self.result is not None else make_plan(self.request)

    def check(self) -> None:
        """Plan the provisioning against Vault without writing anything.

        Raises:
            ActionError: Vault refused or could not be asked (a missing mount or auth method, a conflict).
        """
        try:
            self.store.provision(self.request, dry_run=True)
        except SecretsError as error:
            raise ActionError(str(error)) from None

    def apply(self) -> None:
        """Create what the plan lists (KV path, policy, role), keeping the result for :meth:`undo`.

        Raises:
            ActionError: Vault refused or could not be asked.
        """
        try:
            self.result = self.store.provision(self.request)
        except SecretsError as error:
            raise ActionError(str(error)) from None

    def undo(self) -> None:
        """Remove what :meth:`apply` created; nothing when it did not succeed."""
        if self.result is not None:
            self.store.unprovision(self.result)


def request_from(values: dict[str, Any], defaults: ProvisionDefaults | None = None) -> ProvisionRequest:
    """A provisioning request from step input: ``service`` and ``team`` (a full group ref names its team).

    ``defaults`` (the profile's) supply the mount and whether to bind a Kubernetes role when the step
    does not say; the role's namespace defaults to the service's name.
    """
    service, team = values.get("service"), values.get("team")
    if not (isinstance(service, str) and service and isinstance(team, str) and team):
        raise ActionError("input must have non-empty strings 'service' and 'team'")
    team = team.rpartition("/")[2].rpartition(":")[2]
    for name, value in (("service", service), ("team", team)):
        if "/" in value or ".." in value or not value.strip():
            raise ActionError(f"{name} must be a plain name, got {value!r}")
    kubernetes_role = values.get("kubernetesRole")
    if kubernetes_role is None:
        kubernetes_role = defaults is not None and bool(defaults.kubernetes_role)
    return ProvisionRequest(
        team=team,
        service=service,
        mount=str(values.get("mount") or (defaults.kv_mount if defaults is not None else None) or "secret"),
        kubernetes_role=bool(kubernetes_role),
        namespace=values.get("namespace") or (service if kubernetes_role else None),
        service_account=values.get("serviceAccount"),
        kubernetes_mount=(defaults.kubernetes_mount if defaults is not None else None) or "kubernetes",
    )


def provision_step(
    ctx: ActionContext, store_factory: Callable[[], SecretStore] | None, request: ProvisionRequest
) -> ProvisionResult:
    """Plan (dry run: also what already exists) and stage the provisioning; returns the dry-run answer."""
    if store_factory is None:
        raise ActionError("no Vault is configured for this profile (VAULT_ADDR or the profile's vault section)")
    try:
        store = store_factory()
        preview = store.provision(request, dry_run=True)
    except SecretsError as error:
        raise ActionError(str(error)) from None
    plan = preview.plan
    if store.is_demo:
        ctx.log("In the demo Vault (set VAULT_ADDR or the profile's vault section to provision in your Vault)")
    ctx.log(f"Secrets path {plan.secret_path} (KV version {plan.kv_version}), policy {plan.policy_name}")
    for line in plan.policy_hcl.splitlines():
        ctx.log(f"  {line}")
    if plan.role_name:
        ctx.log(f"Kubernetes auth role {plan.role_name} bound to {plan.role}")
    for line in preview.created:
        ctx.log(f"{'Would create' if ctx.dry_run else 'Will create'} {line}")
    for line in preview.unchanged:
        ctx.log(f"Already there, unchanged: {line}")
    if not ctx.dry_run and preview.created:
        ctx.stage(VaultProvisioning(store, request))
    return preview


class VaultProvision:
    """``vault:provision``: a service's secrets path, its team's policy and optionally a Kubernetes role."""

    id = "vault:provision"
    description = "Creates a service's secrets path in Vault, a policy for its team and (optionally) a Kubernetes role."
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "required": ["service", "team"],
        "properties": {
            "service": {"type": "string", "title": "Service name"},
            "team": {"type": "string", "title": "Owning team (name or group ref)"},
            "mount": {"type": "string", "title": "KV mount (version 1 or 2)", "default": "secret"},
            "kubernetesRole": {"type": "boolean", "title": "Bind the service account through Kubernetes auth"},
            "namespace": {"type": "string", "title": "Kubernetes namespace of the service account"},
            "serviceAccount": {"type": "string", "title": "Service account name (default: the service name)"},
        },
    }

    def run(self, ctx: ActionContext) -> None:
        """Plan the provisioning, log it, and stage it unless this is a dry run or it all exists already.

        Outputs ``path``, ``policy``, ``policyHcl``, ``created`` (whether anything is to be created), ``demo``
        (whether the demo Vault answered) and, with a Kubernetes role, ``role``.

        Raises:
            ActionError: the input is invalid, the profile has no Vault, or Vault refused the plan.
        """
        request = request_from(ctx.input, ctx.settings.vault_defaults)
        preview = provision_step(ctx, ctx.settings.secret_store, request)
        plan = preview.plan
        ctx.output("path", plan.secret_path)
        ctx.output("policy", plan.policy_name)
        ctx.output("policyHcl", plan.policy_hcl)
        ctx.output("created", bool(preview.created))
        ctx.output("demo", ctx.settings.secret_store is not None and _is_demo(ctx.settings.secret_store))
        if plan.role_name:
            ctx.output("role", plan.role_name)


def _is_demo(store_factory: Callable[[], SecretStore]) -> bool:
    # The store was made by provision_step already; the factory hands out that same store.
    return store_factory().is_demo


ACTIONS = (VaultProvision(),)
