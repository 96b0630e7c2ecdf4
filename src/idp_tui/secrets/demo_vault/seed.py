"""The demo organisation's Vault contents, from ``demo_catalog/vault.yaml``: team read policies, KV v2 secrets
with version history spread over past months, and Kubernetes auth (enabled at ``auth/kubernetes``) with roles for
the services' service accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import yaml

from idp_tui.secrets.demo_vault.acl import kubernetes_role

if TYPE_CHECKING:
    from idp_tui.secrets.demo_vault.server import DemoVault


def load_seed() -> dict[str, Any]:
    """The parsed ``vault.yaml`` shipped in the demo catalog."""
    text = (files("idp_tui.demo_catalog") / "vault.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text) or {}


def read_policy_name(secrets_path: str) -> str:
    """``secret/team-payments/payment-processor`` -> ``team-payments-payment-processor``."""
    return secrets_path.partition("/")[2].replace("/", "-")


def read_policy(secrets_path: str) -> str:
    """The team's read policy for one service's secrets (KV v2 ACLs name the data/ and metadata/ paths)."""
    mount, _, path = secrets_path.partition("/")
    return (
        f"# Read the secrets of {path} (seeded by the idp-tui demo)\n"
        f'path "{mount}/data/{path}/*" {{\n  capabilities = ["read", "list"]\n}}\n\n'
        f'path "{mount}/metadata/{path}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
    )


def seed_demo_vault(vault: DemoVault, seed: dict[str, Any] | None = None, now: datetime | None = None) -> bool:
    """Fill an empty store with the demo data; returns False (and changes nothing) when the store has data,
    so a restarted demo keeps what golden paths created instead of duplicating versions."""
    if not vault.is_empty():
        return False
    seed = seed if seed is not None else load_seed()
    now = now or datetime.now(UTC)
    placeholder = str(seed.get("placeholder") or "demo-not-a-secret")
    with vault.batch():
        for secrets_path, entry in (seed.get("paths") or {}).items():
            _seed_path(vault, secrets_path, entry or {}, placeholder, now)
    return True


def _seed_path(vault: DemoVault, secrets_path: str, entry: dict[str, Any], placeholder: str, now: datetime) -> None:
    mount, _, path = secrets_path.partition("/")
    for key, days_ago in (entry.get("keys") or {}).items():
        for days in sorted(days_ago, reverse=True):  # oldest first, so version numbers follow time
            vault.write_secret(mount, f"{path}/{key}", {"value": placeholder}, at=now - timedelta(days=days))
    name = read_policy_name(secrets_path)
    vault.write_policy(name, read_policy(secrets_path))
    binding = entry.get("kubernetes")
    if binding:
        vault.ensure_auth("kubernetes", "kubernetes")
        role = kubernetes_role(
            {},
            {
                "bound_service_account_names": [binding["service_account"]],
                "bound_service_account_namespaces": [binding["namespace"]],
                "token_policies": [name],
                "token_ttl": 3600,
            },
        )
        vault.namespace_state("")["kubernetes_roles"].setdefault("kubernetes", {})[path.rpartition("/")[2]] = role
