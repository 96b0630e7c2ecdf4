"""Vault ACL policies: parse their HCL (or JSON) and answer "does this policy grant read on that path?".

Matching follows Vault's own ACL rules (``vault/acl.go``), evaluated for one policy on its own:

- a rule without wildcards matches only its exact path and wins over every wildcard rule;
- a trailing ``*`` matches any path starting with what precedes it;
- ``+`` matches exactly one path segment;
- among several matching wildcard rules the most specific wins (Vault's documented priority order), and a
  winning rule holding ``deny`` grants nothing.

Capabilities are not added up across different rules: only the winning rule counts, as in Vault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The pre-0.9 ``policy = "read"`` shorthand, still accepted by Vault.
LEGACY_POLICY = {
    "deny": ("deny",),
    "read": ("read", "list"),
    "write": ("create", "read", "update", "delete", "list"),
    "sudo": ("create", "read", "update", "delete", "list", "sudo"),
}


class PolicyParseError(ValueError):
    """The policy text is not HCL or JSON that Vault would accept."""


@dataclass(frozen=True)
class PathRule:
    """One ``path "glob" { capabilities = [...] }`` stanza."""

    glob: str
    capabilities: frozenset[str]

    @property
    def is_prefix(self) -> bool:
        """Whether the glob ends in ``*``, covering every path that starts with :attr:`stem`."""
        return self.glob.endswith("*")

    @property
    def stem(self) -> str:
        """The glob without its trailing ``*``."""
        return self.glob[:-1] if self.is_prefix else self.glob

    @property
    def has_wildcards(self) -> bool:
        """Whether the glob can cover more than one path (a trailing ``*`` or a ``+`` segment)."""
        return self.is_prefix or "+" in self.glob

    def matches(self, path: str) -> bool:
        """Whether the stanza covers ``path``: ``+`` matches one segment, a trailing ``*`` any remainder."""
        if "+" not in self.stem:
            return path.startswith(self.stem) if self.is_prefix else path == self.stem
        return _segments_match(self.stem.split("/"), path.split("/"), self.is_prefix)

    def priority(self) -> tuple:
        """Higher sorts later; Vault's order: later first wildcard, no trailing ``*``, fewer ``+``, longer, greater."""
        first_wildcard = min((i for i, char in enumerate(self.glob) if char in "+*"), default=len(self.glob))
        return (first_wildcard, not self.is_prefix, -self.stem.split("/").count("+"), len(self.glob), self.glob)


def _segments_match(pattern: list[str], parts: list[str], is_prefix: bool) -> bool:
    if len(parts) < len(pattern) or (not is_prefix and len(parts) != len(pattern)):
        return False
    last = len(pattern) - 1
    for index, segment in enumerate(pattern):
        if index == last and is_prefix:
            # The final segment is a prefix of the rest of the path, which may hold further segments.
            return "/".join(parts[index:]).startswith(segment)
        if segment != "+" and segment != parts[index]:
            return False
    return True


def parse_policy(text: str) -> tuple[PathRule, ...]:
    """The path rules of a policy written in HCL or JSON.

    Raises:
        PolicyParseError: the text does not parse or a stanza is malformed.
    """
    if not text.strip():
        return ()
    import hcl  # pyhcl: imported here, as only the secrets view and provisioning need it

    try:
        document = hcl.loads(text)
    except Exception as error:  # pyhcl raises ValueError or ply errors, depending on where it fails
        raise PolicyParseError(f"not valid HCL ({type(error).__name__})") from None
    stanzas = document.get("path") or {}
    if not isinstance(stanzas, Mapping):
        raise PolicyParseError("'path' must hold blocks: path \"glob\" { capabilities = [...] }")
    return tuple(_rule(glob, body) for glob, body in stanzas.items())


def _rule(glob: str, body: Any) -> PathRule:
    if not isinstance(body, Mapping):
        raise PolicyParseError(f"path {glob!r} must be a block")
    capabilities = body.get("capabilities") or []
    if isinstance(capabilities, str):
        capabilities = [capabilities]
    legacy = body.get("policy")
    if isinstance(legacy, str):
        capabilities = [*capabilities, *LEGACY_POLICY.get(legacy, ())]
    # Vault strips a leading slash from policy paths.
    return PathRule(glob.lstrip("/"), frozenset(str(c) for c in capabilities))


def winning_rule(rules: tuple[PathRule, ...], path: str) -> PathRule | None:
    """The rule Vault applies to ``path`` within one policy, or None when nothing matches."""
    matching = [rule for rule in rules if rule.matches(path)]
    exact = [rule for rule in matching if not rule.has_wildcards]
    if exact:
        return _merged(exact)
    if not matching:
        return None
    best = max(matching, key=PathRule.priority)
    return _merged([rule for rule in matching if rule.glob == best.glob])


def _merged(rules: list[PathRule]) -> PathRule:
    # Duplicate stanzas for one glob are merged by Vault (union of capabilities).
    return PathRule(rules[0].glob, frozenset().union(*(rule.capabilities for rule in rules)))


def grants(rules: tuple[PathRule, ...], path: str, capability: str) -> bool:
    """Whether a policy with ``rules`` allows ``capability`` on ``path`` (deny wins within the winning rule)."""
    rule = winning_rule(rules, path.lstrip("/"))
    return rule is not None and "deny" not in rule.capabilities and capability in rule.capabilities


def same_rules(first: str, second: str) -> bool:
    """Whether two policy texts grant the same capabilities on the same paths (formatting aside)."""
    try:
        return _canonical(parse_policy(first)) == _canonical(parse_policy(second))
    except PolicyParseError:
        return first.strip() == second.strip()


def _canonical(rules: tuple[PathRule, ...]) -> dict[str, frozenset[str]]:
    merged: dict[str, frozenset[str]] = {}
    for rule in rules:
        merged[rule.glob] = merged.get(rule.glob, frozenset()) | rule.capabilities
    return merged


def readers_of(policies: Mapping[str, str], targets: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Which policies grant ``read`` on every target path, and notes on those granting only some (or unparsable).

    Args:
        policies: policy name -> its HCL or JSON text.
        targets: key name -> the API path reading it (``mount/data/path/key``).
    """
    readers: list[str] = []
    notes: list[str] = []
    for name, text in policies.items():
        try:
            rules = parse_policy(text)
        except PolicyParseError as error:
            notes.append(f"Policy {name} could not be parsed ({error})")
            continue
        granted = [key for key, path in targets.items() if grants(rules, path, "read")]
        if granted and len(granted) == len(targets):
            readers.append(name)
        elif granted:
            notes.append(f"{name} can read only {', '.join(granted)}")
    return readers, notes
