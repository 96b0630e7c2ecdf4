"""What a configuration is made of: profiles, token sources, backend settings, and the words for their errors.

Plain values only: :mod:`config_schema` builds them from the file, :mod:`config` resolves the profile in effect.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .quoting import masked_words
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
        return f"command {json.dumps(masked_words(self.value))}"


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
    # Policy directories, files and OPA bundles golden paths are checked against (the demo's bundled ones on the
    # demo catalog when the profile names none).
    policies: tuple[str, ...] = ()
    # The Rego packages whose rules judge manifests ("*": every package) and catalog entities (conftest's
    # --namespace).
    policy_namespaces: tuple[str, ...] = ("main",)
    catalog_policy_namespaces: tuple[str, ...] = ("catalog",)
    # The clusters are idp-tui's demo cluster (``kubernetes.demo``, as ``idp-tui demo cluster`` writes its fleet's
    # profile): every view of them says so.
    kube_demo: bool = False

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
