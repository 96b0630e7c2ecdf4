"""Configuration profiles: built-in defaults < the config file (XDG) < ``IDP_TUI_*`` environment < flags.

The file names backends and where their tokens come from, never a token itself: a token source is
``{env: NAME}``, ``{file: PATH}`` or ``{command: "CMD ..."}``, read each time a request needs it.
Every problem in the file is reported at once, as ``FILE:LINE: key.path: message``, never as a traceback
(``config_schema`` checks the file); a value that could be a token is never quoted back (``quoting``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .config_model import (  # the model lives below the file checker; these names are the config API
    CATALOG_FORMS,
    DEFAULT_BACKSTAGE_TOKEN,
    DEFAULT_ONCALL_TOKENS,
    DEMO,
    ConfigError,
    ConfigFile,
    OnCallSettings,
    Profile,
    TokenSource,
    VaultSettings,
    is_url,
)
from .quoting import quoted


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
    if not path.exists() and not path.is_symlink():
        return ConfigFile(path, exists=False, profiles={})
    # Imported only when there is a file to check: the demo's first frame does not wait for them.
    from .config_schema import check_config
    from .yaml_files import FileProblem, read_text

    try:
        text = read_text(path)
    except FileProblem as problem:
        raise ConfigError([problem.where(path)]) from None
    return check_config(path, text)


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
    origin["policies"] = file_origin("policies")
    origin["policy_namespaces"] = file_origin("policy_namespaces")
    origin["catalog_policy_namespaces"] = file_origin("catalog_policy_namespaces")
    # In the order of Profile's fields, so every listing of the origins reads the same way.
    origin = {key: origin[key] for key in _ORIGIN_ORDER}
    return Profile(
        name=name,
        catalog=final_catalog,
        token=token,
        scaffolder=scaffolder,
        kube_config=Path(kubernetes["kubeconfig"]).expanduser() if kubernetes.get("kubeconfig") else None,
        kube_contexts=tuple(kubernetes.get("contexts") or ()),
        kube_demo=bool(kubernetes.get("demo")),
        oncall=_oncall(file_values.get("oncall"), final_catalog),
        vault=_vault(file_values.get("vault")),
        user=settings["user"],
        theme=settings["theme"],
        read_only=settings["read_only"],
        offline=settings["offline"],
        origin=origin,
        policies=_policies(file_values.get("policies"), final_catalog),
        policy_namespaces=tuple(file_values.get("policy_namespaces") or ("main",)),
        catalog_policy_namespaces=tuple(file_values.get("catalog_policy_namespaces") or ("catalog",)),
    )


_ORIGIN_ORDER = (
    "name", "catalog", "token", "scaffolder", "kubernetes", "oncall", "vault", "policies", "policy_namespaces",
    "catalog_policy_namespaces", "user", "theme",
    "read_only", "offline",
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
        raise ConfigError([f"{where}: no profile named {quoted(name)} (profiles: {names})"])
    return name, origin


def _parse_catalog(text: str, where: str, problems: list[str]) -> str:
    if "://" in text and not is_url(text):
        problems.append(f"{where}: must be {CATALOG_FORMS} (got {quoted(text)})")
    return text if text == DEMO or is_url(text) else os.path.expanduser(text)


def _parse_bool(text: str, where: str, problems: list[str]) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered not in ("0", "false", "no"):
        problems.append(f"{where}: must be 1, true or yes (or 0, false, no) (got {quoted(text)})")
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


def _policies(paths: list[str] | None, catalog: str) -> tuple[str, ...]:
    if paths is not None:
        return tuple(paths)  # relative to the config file already (config_schema); [] means none, on the demo too
    if catalog == DEMO:
        # The demo's guardrails ship with it: its golden paths comply, and typing "latest" shows a deny.
        from .resources import demo_catalog_path

        return (str(demo_catalog_path() / "policies"),)
    return ()


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
