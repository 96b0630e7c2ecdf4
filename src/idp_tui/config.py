"""Configuration profiles: built-in defaults < the config file (XDG) < ``IDP_TUI_*`` environment < flags.

The file names backends and where their tokens come from, never a token itself: a token source is
``{env: NAME}``, ``{file: PATH}`` or ``{command: "CMD ..."}``, read each time a request needs it.
Every problem in the file is reported at once, as ``FILE:LINE: key.path: message``, never as a traceback.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tokens import token_from_command, token_from_env, token_from_file

DEMO = "demo"
ONCALL_PROVIDERS = ("demo", "pagerduty", "opsgenie", "none")
SCAFFOLDERS = ("local", "backstage")
VAULT_METHODS = ("token", "approle", "kubernetes")
TOKEN_KINDS = ("env", "file", "command")
# Where each on-call provider's token comes from when the profile does not say (what the providers read today).
DEFAULT_ONCALL_TOKENS = {"pagerduty": "PAGERDUTY_TOKEN", "opsgenie": "OPSGENIE_API_KEY"}
DEFAULT_BACKSTAGE_TOKEN = "BACKSTAGE_TOKEN"
TOKEN_FORMS = '{env: NAME}, {file: PATH} or {command: "CMD ..."}'
LITERAL_TOKEN = f"tokens never go in the config file: use {TOKEN_FORMS}, not a literal value"
CATALOG_FORMS = '"demo", a file or directory, or an http(s) URL'


class ConfigError(ValueError):
    """The configuration cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class TokenSource:
    """Where a token is read from: ``kind`` is env, file or command; ``value`` the variable, path or command."""

    kind: str
    value: str

    def provider(self, what: str) -> Callable[[], str]:
        """A callable returning the token, read at each call; raises TokenError naming the source, never the secret."""
        if self.kind == "env":
            return lambda: token_from_env(self.value, what)
        if self.kind == "file":
            return lambda: token_from_file(self.value, what)
        return lambda: token_from_command(self.value, what)

    def describe(self, environ: Mapping[str, str] | None = None) -> str:
        """Where the token comes from and whether it is there, without ever reading it out."""
        if self.kind == "env":
            present = bool((os.environ if environ is None else environ).get(self.value, "").strip())
            return f"env {self.value} ({'set' if present else 'not set'})"
        if self.kind == "file":
            return f"file {self.value} ({'exists' if os.path.isfile(os.path.expanduser(self.value)) else 'missing'})"
        return f"command {json.dumps(self.value)}"


@dataclass(frozen=True)
class OnCallSettings:
    provider: str
    token: TokenSource | None = None
    url: str | None = None


@dataclass(frozen=True)
class VaultSettings:
    address: str
    namespace: str | None
    # ``method`` plus its own keys; ``secret_id`` and ``token`` stay TokenSources.
    auth: Mapping[str, Any]
    # What golden paths provision by default: the KV v2 mount, and whether a Kubernetes auth role binds the
    # service's service account (on which auth mount).
    kv_mount: str = "secret"
    kubernetes_role: bool = False
    kubernetes_mount: str = "kubernetes"


@dataclass(frozen=True)
class Profile:
    """The settings one session runs with; ``origin`` says where each top-level value came from."""

    name: str
    catalog: str
    token: TokenSource | None
    scaffolder: str
    kube_config: Path | None
    kube_contexts: tuple[str, ...]
    oncall: OnCallSettings
    vault: VaultSettings | None
    user: str | None
    theme: str | None
    read_only: bool
    offline: bool
    origin: dict[str, str]

    @property
    def is_demo(self) -> bool:
        return self.catalog == DEMO

    @property
    def catalog_is_url(self) -> bool:
        return is_url(self.catalog)


@dataclass(frozen=True)
class FileProfile:
    """One profile as written in the file (validated): its top-level keys and the line of each."""

    name: str
    line: int
    values: Mapping[str, Any]
    lines: Mapping[str, int]


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    exists: bool
    profiles: Mapping[str, FileProfile]
    default_profile: str | None = None
    default_profile_line: int | None = None

    @property
    def profile_names(self) -> list[str]:
        return sorted({DEMO, *self.profiles})


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$IDP_TUI_CONFIG``, else ``$XDG_CONFIG_HOME/idp-tui/config.yaml`` (``~/.config`` by default)."""
    environ = os.environ if environ is None else environ
    if environ.get("IDP_TUI_CONFIG"):
        return Path(environ["IDP_TUI_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "idp-tui" / "config.yaml"


def load_config(path: Path | None = None) -> ConfigFile:
    """Read and validate the config file; a missing file means only the built-in demo profile.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or breaks the schema (every problem listed).
    """
    path = config_path() if path is None else path
    if not path.exists():
        return ConfigFile(path, exists=False, profiles={})
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"{path}: cannot be read ({type(error).__name__})"]) from None
    return _Validator(path).document(text)


def resolve_profile(
    config: ConfigFile,
    *,
    profile: str | None = None,
    catalog: str | None = None,
    user: str | None = None,
    read_only: bool | None = None,
    offline: bool | None = None,
    theme: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Profile:
    """The profile to run with: defaults < file < environment < flags (keyword arguments; None = not given).

    Raises:
        ConfigError: an unknown profile, or an environment value or flag that cannot be used.
    """
    name, name_origin = _choose_profile(config, profile, environ)
    problems: list[str] = []
    written = config.profiles.get(name)
    file_values = dict(written.values) if written else {}
    origin = {"name": name_origin}

    def file_origin(key: str) -> str:
        return f"file:{written.lines[key]}" if written and key in written.lines else "default"

    settings: dict[str, Any] = {"catalog": DEMO, "user": None, "theme": None, "read_only": False, "offline": False}
    for key in settings:
        if key in file_values:
            settings[key] = file_values[key]
        origin[key] = file_origin(key)
    flags = {"catalog": catalog, "user": user, "read_only": read_only, "offline": offline, "theme": theme}
    for key, parse in _ENV_PARSERS.items():
        variable = f"IDP_TUI_{key.upper()}"
        if environ.get(variable):
            value = parse(environ[variable], variable, problems)
            settings[key], origin[key] = value, f"env {variable}"
        if flags[key] is not None:
            flag = "--" + key.replace("_", "-")
            value = _parse_catalog(flags[key], flag, problems) if key == "catalog" else flags[key]
            settings[key], origin[key] = value, f"flag {flag}"
    if problems:
        raise ConfigError(problems)

    final_catalog = settings["catalog"]
    url = is_url(final_catalog)
    token = file_values.get("token")
    origin["token"] = file_origin("token")
    if token is None and url:
        token = TokenSource("env", DEFAULT_BACKSTAGE_TOKEN)
    scaffolder = file_values.get("scaffolder")
    origin["scaffolder"] = file_origin("scaffolder")
    # A Backstage scaffolder needs a Backstage to talk to: when --catalog swaps in local files, run templates locally.
    if scaffolder is None or (scaffolder == "backstage" and not url):
        scaffolder, origin["scaffolder"] = ("backstage" if url else "local"), "default"
    kubernetes = file_values.get("kubernetes") or {}
    origin["kubernetes"] = file_origin("kubernetes")
    origin["oncall"] = file_origin("oncall")
    origin["vault"] = file_origin("vault")
    # In the order of Profile's fields, so every listing of the origins reads the same way.
    origin = {key: origin[key] for key in _ORIGIN_ORDER}
    return Profile(
        name=name,
        catalog=final_catalog,
        token=token,
        scaffolder=scaffolder,
        kube_config=Path(kubernetes["kubeconfig"]).expanduser() if kubernetes.get("kubeconfig") else None,
        kube_contexts=tuple(kubernetes.get("contexts") or ()),
        oncall=_oncall(file_values.get("oncall"), final_catalog),
        vault=_vault(file_values.get("vault")),
        user=settings["user"],
        theme=settings["theme"],
        read_only=settings["read_only"],
        offline=settings["offline"],
        origin=origin,
    )


_ORIGIN_ORDER = (
    "name", "catalog", "token", "scaffolder", "kubernetes", "oncall", "vault", "user", "theme", "read_only", "offline"
)  # fmt: skip


def _choose_profile(config: ConfigFile, flag: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    if flag is not None:
        name, origin, where = flag, "flag --profile", "--profile"
    elif environ.get("IDP_TUI_PROFILE"):
        name, origin, where = environ["IDP_TUI_PROFILE"], "env IDP_TUI_PROFILE", "IDP_TUI_PROFILE"
    elif config.default_profile is not None:
        return config.default_profile, f"file:{config.default_profile_line}"
    else:
        return DEMO, "default"
    if name != DEMO and name not in config.profiles:
        names = ", ".join(config.profile_names)
        raise ConfigError([f"{where}: no profile named {json.dumps(name)} (profiles: {names})"])
    return name, origin


def _parse_catalog(text: str, where: str, problems: list[str]) -> str:
    if "://" in text and not is_url(text):
        problems.append(f"{where}: must be {CATALOG_FORMS} (got {json.dumps(text)})")
    return text if text == DEMO or is_url(text) else os.path.expanduser(text)


def _parse_bool(text: str, where: str, problems: list[str]) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered not in ("0", "false", "no"):
        problems.append(f"{where}: must be 1, true or yes (or 0, false, no) (got {json.dumps(text)})")
    return False


def _parse_text(text: str, where: str, problems: list[str]) -> str:
    return text


_ENV_PARSERS: dict[str, Callable[[str, str, list[str]], Any]] = {
    "catalog": _parse_catalog,
    "user": _parse_text,
    "read_only": _parse_bool,
    "offline": _parse_bool,
    "theme": _parse_text,
}


def _oncall(section: Mapping[str, Any] | None, catalog: str) -> OnCallSettings:
    if not section:
        # The bundled rotations only know the demo organisation's teams; elsewhere nothing is asked unless configured.
        return OnCallSettings("demo" if catalog == DEMO else "none")
    provider = section["provider"]
    token = section.get("token")
    if token is None and provider in DEFAULT_ONCALL_TOKENS:
        token = TokenSource("env", DEFAULT_ONCALL_TOKENS[provider])
    return OnCallSettings(provider, token, section.get("url"))


def _vault(section: Mapping[str, Any] | None) -> VaultSettings | None:
    if not section:
        return None
    auth = dict(section.get("auth") or {"method": "token"})
    if auth["method"] == "token" and "token" not in auth:
        auth["token"] = TokenSource("env", "VAULT_TOKEN")
    return VaultSettings(
        section["address"],
        section.get("namespace"),
        auth,
        kv_mount=section.get("kv_mount") or "secret",
        kubernetes_role=bool(section.get("kubernetes_role")),
        kubernetes_mount=section.get("kubernetes_mount") or "kubernetes",
    )


# The file's schema, checked by walking the composed YAML nodes because each node knows its line.
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
        "kubernetes": _Map({"kubeconfig": PATH, "contexts": [STR]}),
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
    }
)
_INVALID = object()


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
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            root = yaml.compose(text, Loader=loader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = f"{mark.line + 1}:" if mark is not None else ""
            raise ConfigError([f"{self.path}:{line} invalid YAML: {error.problem or error.context}"]) from None
        except yaml.YAMLError as error:
            raise ConfigError([f"{self.path}: invalid YAML: {error}"]) from None
        if root is None or _is_null(root):
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
                self.fail(node, "default_profile", f"no profile named {json.dumps(default)} (profiles: {names})")
        if self.problems:
            # In file order, whatever order the checks ran in (sort is stable within a line).
            raise ConfigError([text for _, text in sorted(self.problems, key=lambda problem: problem[0])])
        return ConfigFile(self.path, True, profiles, default, default_line)

    def profiles(self, node) -> dict[str, FileProfile]:
        import yaml

        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, "profiles", f"must be a mapping of profile names to profiles (got {_got(node)})")
            return {}
        found: dict[str, FileProfile] = {}
        for key_node, value_node in node.value:
            name = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or not name:
                self.fail(key_node, "profiles", "a profile name must be a non-empty string")
                continue
            if name in found:
                self.fail(key_node, f"profiles.{name}", f"duplicate profile (first at line {found[name].line})")
                continue
            values = self.check(value_node, f"profiles.{name}", _PROFILE)
            if values is _INVALID:
                values = {}
            self.scaffolder_needs_url(value_node, name, values)
            lines = {k.value: k.start_mark.line + 1 for k, _ in _pairs(value_node) if k.value in values}
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
            if _is_null(node):
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
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            path = f"{where}.{key}" if where else key
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
            if key_node.value not in ("method", *_AUTH_KEYS[method]) and key_node.value in _AUTH.keys:
                self.fail(key_node, f"{where}.{key_node.value}", f"not used by method {method}")
        for key in _AUTH_REQUIRED[method]:
            if _value_node(node, key) is None:
                self.fail(node, f"{where}.{key}", f"missing (required by method {method})")

    def token(self, node, where: str) -> Any:
        import yaml

        if isinstance(node, yaml.ScalarNode) and not _is_null(node):
            # Never echo the value: it is probably the very secret that must not be in this file.
            return self.fail(node, where, LITERAL_TOKEN)
        if not isinstance(node, yaml.MappingNode):
            return self.fail(node, where, f"must be {TOKEN_FORMS} (got {_got(node)})")
        values = self.mapping(node, where, dict.fromkeys(TOKEN_KINDS, STR))
        if values is _INVALID:
            return values
        kinds = [key_node.value for key_node, _ in node.value if key_node.value in TOKEN_KINDS]
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


def _is_null(node) -> bool:
    return node.tag == "tag:yaml.org,2002:null"


def _scalar(node) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return _INVALID
    return yaml.constructor.SafeConstructor().construct_object(node)


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
    if _is_null(node):
        return "nothing"
    value = _scalar(node)
    return json.dumps(value) if isinstance(value, str) else node.value


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean {json.dumps(close[0])}?" if close else "expected one of " + ", ".join(choices)
