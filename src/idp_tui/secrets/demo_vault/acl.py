"""Who may do what in the demo Vault: tokens, and ACL policies in Vault's HCL with Vault's path-matching rules.

Policies are parsed with ``pyhcl`` (HCL1, the dialect Vault policies are written in; JSON policies parse too).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

CAPABILITIES = frozenset({"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe"})
# The pre-0.9 `policy = "..."` shorthand, still accepted by Vault.
LEGACY_POLICIES = {
    "deny": {"deny"},
    "read": {"read", "list"},
    "write": {"create", "read", "update", "delete", "list"},
    "sudo": {"create", "read", "update", "delete", "list", "sudo"},
}
# Vault's built-in "default" policy (abridged to the token paths the demo serves).
DEFAULT_POLICY = """# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}
"""


class PolicyError(ValueError):
    """A policy Vault would refuse to store (answered 400)."""


@dataclass(frozen=True)
class PathRule:
    """One ``path "pattern" { capabilities = [...] }`` block."""

    pattern: str
    capabilities: frozenset[str]

    @property
    def glob(self) -> bool:
        """Whether the pattern ends in ``*``: a prefix glob, matching any remainder."""
        return self.pattern.endswith("*")

    def matches(self, path: str) -> bool:
        """Whether ``path`` matches the pattern: ``+`` is exactly one segment, a trailing ``*`` any remainder."""
        return _pattern_regex(self.pattern).fullmatch(path) is not None

    def priority(self) -> tuple:
        """Sort key: the highest value wins, following the order Vault documents for overlapping patterns:
        a later first wildcard, no trailing glob, fewer ``+`` segments, a longer pattern, then lexical order."""
        indexes = [i for i in (self.pattern.find("+"), self.pattern.find("*")) if i >= 0]
        first_wildcard = min(indexes) if indexes else len(self.pattern) + 1
        plus_segments = self.pattern.split("/").count("+")
        return (first_wildcard, not self.glob, -plus_segments, len(self.pattern), self.pattern)


@lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # A "+" segment matches exactly one path segment; a trailing "*" matches any remainder (a prefix glob).
    base = pattern[:-1] if pattern.endswith("*") else pattern
    segments = ["[^/]+" if segment == "+" else re.escape(segment) for segment in base.split("/")]
    return re.compile("/".join(segments) + (".*" if pattern.endswith("*") else ""))


@lru_cache(maxsize=256)
def parse_policy(text: str) -> tuple[PathRule, ...]:
    """The path rules of an HCL (or JSON) policy (cached: every request checks its token's policies).

    Raises:
        PolicyError: the text does not parse or names an unknown capability, with Vault's message.
    """
    import hcl  # pyhcl; imported here so merely importing the demo server stays light

    try:
        parsed = hcl.loads(text)
    except ValueError as error:
        raise PolicyError(f"failed to parse policy: {error}") from None
    paths = parsed.get("path") or {}
    if isinstance(paths, list):  # JSON policies may write "path" as a list of one-key objects
        paths = {key: value for item in paths for key, value in item.items()}
    if not isinstance(paths, dict):
        raise PolicyError('failed to parse policy: "path" must be an object')
    return tuple(_rule(pattern, body or {}) for pattern, body in paths.items())


def _rule(pattern: str, body: dict[str, Any]) -> PathRule:
    capabilities = set(body.get("capabilities") or [])
    legacy = body.get("policy")
    if legacy:
        if legacy not in LEGACY_POLICIES:
            raise PolicyError(f'failed to parse policy: path "{pattern}": invalid policy "{legacy}"')
        capabilities |= LEGACY_POLICIES[legacy]
    unknown = capabilities - CAPABILITIES
    if unknown:
        raise PolicyError(f'failed to parse policy: path "{pattern}": invalid capability "{sorted(unknown)[0]}"')
    return PathRule(pattern.lstrip("/"), frozenset(capabilities))


def capabilities_for(policy_texts: list[str], path: str) -> frozenset[str]:
    """What a token holding these policies may do on ``path``: Vault merges the policies' rules per pattern
    (capabilities add up, ``deny`` wins), then the single highest-priority matching pattern decides."""
    merged: dict[str, set[str]] = {}
    for text in policy_texts:
        for rule in parse_policy(text):
            merged.setdefault(rule.pattern, set()).update(rule.capabilities)
    rules = [PathRule(pattern, frozenset(caps)) for pattern, caps in merged.items()]
    matching = [rule for rule in rules if rule.matches(path)]
    if not matching:
        return frozenset()
    best = max(matching, key=PathRule.priority)
    return frozenset() if "deny" in best.capabilities else best.capabilities


GRANTING = frozenset({"create", "read", "update", "patch", "delete", "list", "sudo"})


def has_mount_access(policy_texts: list[str], mount_path: str) -> bool:
    """Whether policies grant anything under a mount (Vault's ``hasMountAccess``, which gates the mount lookup):
    on the mount path itself, or in any rule for a path under it."""
    if capabilities_for(policy_texts, mount_path) & GRANTING:
        return True
    mount_parts = mount_path.rstrip("/").split("/")
    for text in policy_texts:
        for rule in parse_policy(text):
            if "deny" in rule.capabilities or not rule.capabilities & GRANTING:
                continue
            stem = rule.pattern[:-1] if rule.glob else rule.pattern
            if stem.startswith(mount_path):
                return True
            parts = stem.split("/")
            if (
                "+" in stem
                and len(parts) > len(mount_parts)
                and all(want in ("+", have) for want, have in zip(parts, mount_parts, strict=False))
            ):
                return True
    return False


def vault_time(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with a ``Z``, as Vault writes times."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Token:
    """A token the demo Vault accepts. Tokens live in memory only: a restarted demo forgets them, as a dev-mode
    Vault forgets everything but its root token."""

    id: str
    policies: list[str]
    ttl: int  # seconds granted at creation or last renewal; 0 means it never expires (root)
    renewable: bool
    path: str = "auth/token/create"
    display_name: str = "token"
    namespace: str = ""
    meta: dict[str, str] | None = None
    accessor: str = field(default_factory=lambda: secrets.token_hex(12))
    created: float = field(default_factory=time.time)
    expires: float | None = None

    def __post_init__(self) -> None:
        if self.expires is None and self.ttl > 0:
            self.expires = self.created + self.ttl

    @property
    def is_root(self) -> bool:
        """Whether the token has the ``root`` policy, which allows everything."""
        return "root" in self.policies

    def valid(self, now: float | None = None) -> bool:
        """Whether the token has not expired at ``now`` (by default the current time); a TTL of 0 never does."""
        return self.expires is None or (now or time.time()) < self.expires

    def remaining(self) -> int:
        """Whole seconds until the token expires: 0 once it has, and for one that never does (as Vault says)."""
        return 0 if self.expires is None else max(0, int(self.expires - time.time()))

    def renew(self, increment: int | None) -> None:
        """Extend the token to ``increment`` seconds from now (its last TTL when ``increment`` is 0 or ``None``)."""
        self.ttl = increment or self.ttl
        self.expires = time.time() + self.ttl

    def lookup(self) -> dict[str, Any]:
        """The ``data`` of ``auth/token/lookup-self``."""
        issued = datetime.fromtimestamp(self.created, UTC)
        expires = datetime.fromtimestamp(self.expires, UTC) if self.expires else None
        return {
            "accessor": self.accessor,
            "creation_time": int(self.created),
            "creation_ttl": self.ttl,
            "display_name": self.display_name,
            "entity_id": "",
            "expire_time": vault_time(expires) if expires else None,
            "explicit_max_ttl": 0,
            "id": self.id,
            "issue_time": vault_time(issued),
            "meta": self.meta,
            "num_uses": 0,
            "orphan": True,
            "path": self.path,
            "policies": sorted(self.policies),
            "renewable": self.renewable,
            "ttl": self.remaining(),
            "type": "service",
        }

    def auth(self) -> dict[str, Any]:
        """The ``auth`` block of a login or renewal response."""
        return {
            "client_token": self.id,
            "accessor": self.accessor,
            "policies": sorted(self.policies),
            "token_policies": sorted(self.policies),
            "metadata": self.meta,
            "lease_duration": self.ttl,  # what this login or renewal granted
            "renewable": self.renewable,
            "entity_id": "",
            "token_type": "service",
            "orphan": True,
            "mfa_requirement": None,
            "num_uses": 0,
        }


def new_token_id() -> str:
    """A fresh token in Vault's service-token format (``hvs.`` prefix)."""
    return "hvs." + secrets.token_urlsafe(18)


def relative_path(token_namespace: str, request_namespace: str, path: str) -> str | None:
    """The request path as the token's policies see it: a token may reach its own namespace and its children
    (prefixed with the child's relative name, as Vault's ACL does); None when the namespace is out of reach."""
    if request_namespace == token_namespace:
        return path
    prefix = token_namespace + "/" if token_namespace else ""
    if not request_namespace.startswith(prefix):
        return None
    return request_namespace[len(prefix) :] + "/" + path


# -- errors ------------------------------------------------------------------------------------------------------------

# What Vault answers when a valid token's policies do not allow a request (a go-multierror, hence the layout).
PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n"


class VaultError(Exception):
    """An error answered in Vault's shape: ``{"errors": [...]}`` (404 for a missing path has an empty list);
    ``payload`` replaces the body where Vault sends more (a deleted KV version still returns its metadata)."""

    def __init__(self, status: int, errors: list[str] | None = None, payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.payload = payload if payload is not None else {"errors": list(errors or [])}


def denied() -> VaultError:
    """Invalid, expired or missing token."""
    return VaultError(403, ["permission denied"])


# -- login roles -------------------------------------------------------------------------------------------------------

DEFAULT_TTL = 2764800  # Vault's default max lease, 768h, which tokens get when a role sets no TTL
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: Any, name: str) -> int:
    """A TTL given as seconds (int or digits) or a Go-style duration ("1h30m"), as Vault's parseutil accepts."""
    if value in (None, ""):
        return 0
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if not _DURATION.sub("", text) and _DURATION.search(text):
        return int(sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION.findall(text)))
    raise VaultError(400, [f'error converting input {text} for field "{name}": time: invalid duration "{text}"'])


def string_list(value: Any) -> list[str]:
    """A list parameter given as a JSON list or a comma-separated string."""
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


LEGACY_ROLE_FIELDS = {
    "policies": "token_policies",
    "ttl": "token_ttl",
    "max_ttl": "token_max_ttl",
    "period": "token_period",
}


def kubernetes_role(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes auth role as Vault reads it back, after applying a write (later writes update given fields).

    ``policies``/``ttl``/``max_ttl``/``period`` are the pre-1.2 names of the ``token_*`` fields: Vault still
    accepts them, and reads a legacy field back (in step with its new name) only once a write used it.
    ``audience`` is read back only when set.
    """
    role = dict(current) or {
        "alias_name_source": "serviceaccount_uid",
        "bound_service_account_names": [],
        "bound_service_account_namespace_selector": "",
        "bound_service_account_namespaces": [],
        "token_bound_cidrs": [],
        "token_explicit_max_ttl": 0,
        "token_max_ttl": 0,
        "token_no_default_policy": False,
        "token_num_uses": 0,
        "token_period": 0,
        "token_policies": [],
        "token_strictly_bind_ip": False,
        "token_ttl": 0,
        "token_type": "default",
    }
    for key in ("bound_service_account_names", "bound_service_account_namespaces", "token_bound_cidrs"):
        if key in body:
            role[key] = string_list(body[key])
    for key in ("alias_name_source", "audience", "token_type", "bound_service_account_namespace_selector"):
        if key in body:
            role[key] = str(body[key])
    if not role.get("audience"):
        role.pop("audience", None)
    for legacy, key in LEGACY_ROLE_FIELDS.items():
        for name in (legacy, key):
            if name in body:
                value = body[name]
                role[key] = string_list(value) if key == "token_policies" else seconds(value, name)
        if legacy in body:
            role[legacy] = role[key]
        elif legacy in role:
            role[legacy] = role[key]  # kept in step with its new name
    return role


def jwt_service_account(jwt: str) -> tuple[str, str] | None:
    """(namespace, name) of a Kubernetes service-account JWT, read from its claims without verifying the
    signature: the demo has no TokenReview API to ask."""
    import base64

    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    subject = str(claims.get("sub") or "")
    if subject.startswith("system:serviceaccount:") and subject.count(":") == 3:
        namespace, name = subject.split(":")[2:]
        return namespace, name
    return None
