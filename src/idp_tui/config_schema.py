"""Checking the config file: every problem at once, as ``FILE:LINE: key.path: message``, never a traceback.

The file is composed (not loaded) so each node knows its line, then walked against the schema below. The walk
follows the schema, never the document, so aliases (shared nodes, never expanded) and recursive anchors cost
no more than what they stand for. Scalars are constructed one at a time, and one YAML cannot construct
(``!!float abc``) is a problem of its key like any other. Values are quoted back only by the rule of
:mod:`idp_tui.quoting`: a token pasted into the wrong field is described by its length, never shown.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config_model import (
    CATALOG_FORMS,
    DEMO,
    LITERAL_TOKEN,
    ONCALL_PROVIDERS,
    SCAFFOLDERS,
    TOKEN_FORMS,
    TOKEN_KINDS,
    VAULT_METHODS,
    ConfigError,
    ConfigFile,
    FileProfile,
    TokenSource,
    is_url,
)
from .quoting import described, name_text, quotable, quoted
from .yaml_files import FileProblem, Unreadable, compose, is_null, scalar_value, short_tag

# A tuple is a choice of strings, a one-item list a list of that, a _Map a mapping with known keys.
STR, BOOL, URL, PATH, CATALOG, TOKEN = "a string", "true or false", "an http(s) URL", "a path", "a catalog", "a token"


@dataclass(frozen=True)
class _Map:
    keys: Mapping[str, Any]
    required: tuple[str, ...] = ()


_AUTH_KEYS = {
    "token": ("token",),
    "approle": ("role_id", "secret_id", "mount"),
    "kubernetes": ("role", "jwt_path", "mount"),
}
_AUTH_REQUIRED = {"token": (), "approle": ("role_id", "secret_id"), "kubernetes": ("role",)}
_AUTH = _Map(
    {"method": VAULT_METHODS, "token": TOKEN, "role_id": STR, "secret_id": TOKEN, "role": STR,
     "jwt_path": PATH, "mount": STR},
    required=("method",),
)  # fmt: skip
_PROFILE = _Map(
    {
        "catalog": CATALOG,
        "token": TOKEN,
        "scaffolder": SCAFFOLDERS,
        "kubernetes": _Map({"kubeconfig": PATH, "contexts": [STR], "demo": BOOL}),
        "oncall": _Map({"provider": ONCALL_PROVIDERS, "token": TOKEN, "url": URL}, required=("provider",)),
        "vault": _Map(
            {
                "address": URL,
                "namespace": STR,
                "auth": _AUTH,
                "kv_mount": STR,
                "kubernetes_role": BOOL,
                "kubernetes_mount": STR,
            },
            required=("address",),
        ),
        "user": STR,
        "theme": STR,
        "read_only": BOOL,
        "offline": BOOL,
        "policies": [PATH],
        "policy_namespaces": [STR],
        "catalog_policy_namespaces": [STR],
    }
)
_INVALID = object()


def check_config(path: Path, text: str) -> ConfigFile:
    """The profiles of the config file at ``path`` whose text is ``text``.

    Raises:
        ConfigError: invalid YAML or anything against the schema, one ``FILE:LINE: key.path: message`` each.
    """
    return _Validator(path).document(text)


class _Validator:
    """Checks one config file, collecting every problem as ``FILE:LINE: key.path: message``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[int, str]] = []

    def fail(self, node, where: str, message: str) -> object:
        line = node.start_mark.line + 1
        self.problems.append((line, f"{self.path}:{line}: " + (f"{where}: {message}" if where else message)))
        return _INVALID

    def document(self, text: str) -> ConfigFile:
        try:
            root = compose(text)
        except FileProblem as problem:
            raise ConfigError([problem.where(self.path)]) from None
        if root is None or is_null(root):
            return ConfigFile(self.path, exists=True, profiles={})
        top = self.mapping(root, "", {"default_profile": STR, "profiles": None})
        profiles: dict[str, FileProfile] = {}
        if top is not _INVALID and "profiles" in top:
            profiles = self.profiles(_value_node(root, "profiles"))
        default, default_line = None, None
        if top is not _INVALID and isinstance(top.get("default_profile"), str):
            node = _value_node(root, "default_profile")
            default, default_line = top["default_profile"], node.start_mark.line + 1
            if default != DEMO and default not in profiles:
                names = ", ".join(sorted({DEMO, *profiles}))
                self.fail(node, "default_profile", f"no profile named {quoted(default)} (profiles: {names})")
        if self.problems:
            # In file order, whatever order the checks ran in (sort is stable within a line).
            raise ConfigError([text for _, text in sorted(self.problems, key=lambda problem: problem[0])])
        return ConfigFile(self.path, True, profiles, default, default_line)

    def profiles(self, node) -> dict[str, FileProfile]:
        import yaml

        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "profiles", f"must be a mapping of profile names to profiles (got {_got(node)})")
            return {}
        found: dict[str, FileProfile] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or not key_node.value:
                self.fail(key_node, "profiles", "a profile name must be a non-empty string")
                continue
            name = key_node.value
            if name in found:
                self.fail(key_node, f"profiles.{name}", f"duplicate profile (first at line {found[name].line})")
                continue
            values = self.check(value_node, f"profiles.{name}", _PROFILE)
            if values is _INVALID:
                values = {}
            self.scaffolder_needs_url(value_node, name, values)
            # Only plain keys have a line worth naming; a mapping used as a key was reported already.
            lines = {k.value: k.start_mark.line + 1 for k, _ in _pairs(value_node) if _plain_key(k) in values}
            found[name] = FileProfile(name, key_node.start_mark.line + 1, values, lines)
        return found

    def scaffolder_needs_url(self, node, name: str, values: Mapping[str, Any]) -> None:
        if values.get("scaffolder") == "backstage" and not is_url(values.get("catalog", DEMO)):
            self.fail(
                _value_node(node, "scaffolder"),
                f"profiles.{name}.scaffolder",
                '"backstage" needs the catalog to be a Backstage URL (http:// or https://)',
            )

    def check(self, node, where: str, spec: Any) -> Any:
        import yaml

        if isinstance(spec, _Map):
            if is_null(node):
                return self.required(node, where, spec, {})
            values = self.mapping(node, where, spec.keys)
            if values is _INVALID:
                return values
            if spec is _AUTH and isinstance(values.get("method"), str):
                self.auth_keys(node, where, values)
            return self.required(node, where, spec, values)
        if isinstance(spec, list):
            if not isinstance(node, yaml.SequenceNode):
                return self.fail(node, where, f"must be a list (got {_got(node)})")
            items = [self.check(item, f"{where}[{i}]", spec[0]) for i, item in enumerate(node.value)]
            return _INVALID if _INVALID in items else items
        if spec == TOKEN:
            return self.token(node, where)
        value = _scalar(node)
        if isinstance(value, Unreadable):
            return self.fail(node, where, f"cannot be read as {short_tag(node.tag)} (got {_as_written(node)})")
        if isinstance(spec, tuple):
            if value not in spec:
                return self.fail(node, where, f"must be one of {', '.join(spec)} (got {_got(node)})")
            return value
        if spec == BOOL:
            if not isinstance(value, bool):
                return self.fail(node, where, f"must be true or false (got {_got(node)})")
            return value
        if not isinstance(value, str) or not value:
            return self.fail(node, where, f"must be {spec} (got {_got(node)})")
        if spec == URL and not is_url(value):
            return self.fail(node, where, f"must be an http(s) URL (got {_got(node)})")
        if spec == CATALOG:
            if "://" in value and not is_url(value):
                return self.fail(node, where, f"must be {CATALOG_FORMS} (got {_got(node)})")
            return value if value == DEMO or is_url(value) else self.local_path(value)
        return self.local_path(value) if spec == PATH else value

    def mapping(self, node, where: str, keys: Mapping[str, Any]) -> Any:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            return self.fail(node, where, f"must be a mapping (got {_got(node)})")
        values: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _plain_key(key_node)
            path = f"{where}.{_key_text(key_node)}" if where else _key_text(key_node)
            if key in seen:
                self.fail(key_node, path, f"duplicate key (first at line {seen[key]})")
            elif key not in keys:
                self.fail(key_node, path, f"unknown key ({did_you_mean(key, list(keys))})")
            elif keys[key] is not None:
                value = self.check(value_node, path, keys[key])
                if value is not _INVALID:
                    values[key] = value
            else:
                values[key] = value_node  # checked by its own method (profiles)
            seen.setdefault(key, key_node.start_mark.line + 1)
        return values

    def required(self, node, where: str, spec: _Map, values: dict[str, Any]) -> Any:
        missing = [key for key in spec.required if key not in values and _value_node(node, key) is None]
        for key in missing:
            self.fail(node, f"{where}.{key}", "missing (required)")
        return _INVALID if missing else values

    def auth_keys(self, node, where: str, values: dict[str, Any]) -> None:
        method = values["method"]
        for key_node, _ in node.value:
            key = _plain_key(key_node)
            if key not in ("method", *_AUTH_KEYS[method]) and key in _AUTH.keys:
                self.fail(key_node, f"{where}.{key}", f"not used by method {method}")
        for key in _AUTH_REQUIRED[method]:
            if _value_node(node, key) is None:
                self.fail(node, f"{where}.{key}", f"missing (required by method {method})")

    def token(self, node, where: str) -> Any:
        import yaml

        if isinstance(node, yaml.ScalarNode) and not is_null(node):
            # Never echo the value: it is probably the very secret that must not be in this file.
            return self.fail(node, where, LITERAL_TOKEN)
        if not isinstance(node, yaml.MappingNode):
            return self.fail(node, where, f"must be {TOKEN_FORMS} (got {_got(node)})")
        values = self.mapping(node, where, dict.fromkeys(TOKEN_KINDS, STR))
        if values is _INVALID:
            return values
        kinds = [_plain_key(key_node) for key_node, _ in node.value if _plain_key(key_node) in TOKEN_KINDS]
        if len(kinds) != 1:
            got = ", ".join(kinds) or "none"
            return self.fail(node, where, f"must have exactly one of env, file, command (got {got})")
        if kinds[0] not in values:
            return _INVALID
        kind = kinds[0]
        return TokenSource(kind, self.local_path(values[kind]) if kind == "file" else values[kind])

    def local_path(self, text: str) -> str:
        # Relative paths mean relative to the config file: it is read from whatever directory idp-tui starts in.
        if text.startswith("~") or os.path.isabs(text):
            return text
        return str(self.path.parent / text)


def _scalar(node) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return _INVALID
    return scalar_value(node)


def _plain_key(key_node) -> str:
    """A mapping key as a string; "?" for a mapping or list used as a key (YAML allows it, the schema never)."""
    import yaml

    return key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"


def _key_text(key_node) -> str:
    """A key as a message shows it (see :func:`name_text`); "?" for a mapping or list used as a key."""
    key = _plain_key(key_node)
    return key if key == "?" else name_text(key)


def _pairs(node) -> list:
    import yaml

    return node.value if isinstance(node, yaml.MappingNode) else []


def _value_node(mapping_node, key: str):
    for key_node, value_node in _pairs(mapping_node):
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _got(node) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    value = _scalar(node)
    return quoted(value) if isinstance(value, str) else _as_written(node)


def _as_written(node) -> str:
    """A scalar as it is written in the file (``3``, ``2001-01-01``), unless it could be a secret."""
    return node.value if quotable(node.value) else described(node.value, "value")


def did_you_mean(word: str, choices: list[str]) -> str:
    """``did you mean "x"?`` for the closest choice, else the list of choices (``word`` itself is never shown)."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean {json.dumps(close[0])}?" if close else "expected one of " + ", ".join(choices)
