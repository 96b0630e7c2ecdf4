"""``idp-tui config show`` and ``idp-tui config init``: the active profile and where each value came from.

Tokens are only ever described (``env BACKSTAGE_TOKEN (set)``), never read, and URLs lose their userinfo
(``https://***@host/``): ``show`` is safe to paste in a ticket.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import ConfigError, Profile, TokenSource, config_path, load_config, resolve_profile
from ..redaction import redact_url
from ..safe_text import clean
from .output import error, print_json

EXAMPLE = """\
# idp-tui configuration (written by "idp-tui config init"; "idp-tui config show" prints what is in effect).
# Precedence: built-in defaults < this file < IDP_TUI_* environment variables < command-line flags.
# Tokens never go in this file: name where to read them with {env: NAME}, {file: PATH} or {command: "CMD ..."}.

# The profile used when neither --profile nor IDP_TUI_PROFILE says otherwise.
# "demo" (built in: the bundled catalog, local templates, demo on-call) needs no setup.
default_profile: demo

profiles:
  work:
    # "demo", a catalog file or directory (relative paths are relative to this file), or a Backstage base URL.
    catalog: https://backstage.example.com
    # Sent as "Authorization: Bearer ..." to Backstage; read each time, so a rotated token is picked up.
    token: {env: BACKSTAGE_TOKEN}
    # Where golden paths run: "local" or "backstage" (default: backstage when the catalog is a URL).
    scaffolder: backstage
    # Both optional: default $KUBECONFIG / ~/.kube/config and every context in it.
    kubernetes:
      kubeconfig: ~/.kube/config
      contexts: [prod-eu, prod-us]
    oncall:
      provider: pagerduty                # demo | pagerduty | opsgenie | none
      token: {env: PAGERDUTY_TOKEN}
      # url: https://api.pagerduty.com   # another API root (optional)
    vault:
      address: https://vault.example.com
      # namespace: team-a
      auth: {method: token}              # reads $VAULT_TOKEN; or token: {command: "cat ~/.vault-token"}
      # auth: {method: approle, role_id: my-role-id, secret_id: {env: VAULT_SECRET_ID}}
      # auth: {method: kubernetes, role: idp-tui}
    # Rego and ValidatingAdmissionPolicy files, folders or OPA bundles (.tar.gz) golden paths are checked against
    # before anything is created (relative paths are relative to this file; the demo uses its bundled policies).
    # policies: [policies/, ~/org-guardrails.tar.gz]
    # policy_namespaces: [main]          # the Rego packages whose rules judge manifests ("*": all of them)
    # catalog_policy_namespaces: [catalog]  # ... and catalog entities
    user: user:jdoe                      # who you are in the catalog, for "mine"
    # theme: idp-dark                    # idp-light, idp-high-contrast, idp-ansi16, or a palette in themes/
    read_only: false                     # true: no golden-path runs, restart, scale, delete or Vault writes
    offline: false
"""

# The rows of ``config show``, in order: the Profile field, its label, and the key of its origin.
_ROWS = (
    ("name", "profile"),
    ("catalog", "catalog"),
    ("token", "token"),
    ("scaffolder", "scaffolder"),
    ("kubernetes", "kubernetes"),
    ("oncall", "oncall"),
    ("vault", "vault"),
    ("policies", "policies"),
    ("policy_namespaces", "rego pkgs"),
    ("catalog_policy_namespaces", "entity pkgs"),
    ("user", "user"),
    ("theme", "theme"),
    ("read_only", "read-only"),
    ("offline", "offline"),
)


def add_parser(subparsers) -> None:
    config = subparsers.add_parser("config", help="show the active configuration profile, or write an example file")
    actions = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the resolved profile and where each value came from (no secrets)")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    show.set_defaults(handler=show_command, needs_session=False)
    init = actions.add_parser("init", help="write a commented example config file (not over an existing one)")
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")
    init.set_defaults(handler=init_command, needs_session=False)


def resolve_from_args(args: argparse.Namespace) -> tuple[Any, Profile]:
    """The config file and the profile the global flags in ``args`` select (raises ConfigError)."""
    config = load_config()
    profile = resolve_profile(
        config,
        profile=getattr(args, "profile", None),
        catalog=getattr(args, "catalog", None),
        user=getattr(args, "user", None),
        read_only=getattr(args, "read_only", None),
        offline=getattr(args, "offline", None),
        theme=getattr(args, "theme", None),
    )
    return config, profile


def show_command(args: argparse.Namespace, session: object = None) -> int:
    try:
        config, profile = resolve_from_args(args)
    except ConfigError as problem:
        return _report(problem)
    if args.json:
        print_json(
            {
                "config_file": str(config.path),
                "config_file_exists": config.exists,
                "profiles": config.profile_names,
                "profile": profile_json(profile),
                "origin": dict(profile.origin),
            }
        )
        return 0
    found = "" if config.exists else " (not found: only the built-in demo profile)"
    lines = [f"{'config file':<11} {config.path}{found}", f"{'profiles':<11} {', '.join(config.profile_names)}"]
    values = profile_json(profile)
    for field, label in _ROWS:
        lines.append(f"{label:<11} {_text(values[field])}  [{profile.origin.get(field, 'default')}]")
    # Profile names, paths and values are the user's own text, but may hold anything YAML can: one line each.
    sys.stdout.writelines(clean(line, one_line=True) + "\n" for line in lines)
    return 0


def init_command(args: argparse.Namespace, session: object = None) -> int:
    path = config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x" refuses an existing file atomically: no window where another process's file is overwritten.
        with open(path, "w" if args.force else "x", encoding="utf-8") as out:
            out.write(EXAMPLE)
    except FileExistsError:
        error(f"{path} already exists (use --force to overwrite it)")
        return 2
    except OSError as problem:
        error(f"{path}: cannot be written ({problem.strerror or type(problem).__name__})")
        return 2
    print(path)
    return 0


def profile_json(profile: Profile) -> dict[str, Any]:
    """The profile as plain data, every token replaced by its description and URLs without their userinfo."""
    vault = None
    if profile.vault is not None:
        auth = {key: _described(value) for key, value in profile.vault.auth.items()}
        vault = {"address": _url(profile.vault.address), "namespace": profile.vault.namespace, "auth": auth}
    return {
        "name": profile.name,
        "catalog": _url(profile.catalog),
        "is_demo": profile.is_demo,
        "token": _described(profile.token),
        "scaffolder": profile.scaffolder,
        "kubernetes": {
            "kubeconfig": str(profile.kube_config) if profile.kube_config else None,
            "contexts": list(profile.kube_contexts),
        },
        "oncall": {
            "provider": profile.oncall.provider,
            "token": _described(profile.oncall.token),
            "url": _url(profile.oncall.url),
        },
        "vault": vault,
        "policies": list(profile.policies),
        "policy_namespaces": list(profile.policy_namespaces),
        "catalog_policy_namespaces": list(profile.catalog_policy_namespaces),
        "user": profile.user,
        "theme": profile.theme,
        "read_only": profile.read_only,
        "offline": profile.offline,
    }


def _url(value: str | None) -> str | None:
    return redact_url(value) if value else value


def _described(value: Any) -> Any:
    return value.describe() if isinstance(value, TokenSource) else value


def _text(value: Any, nested: bool = False) -> str:
    """One line for a value of ``profile_json``: sections as ``key value; ...``, absent parts left out."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    if isinstance(value, dict):
        parts = [f"{key} {_text(item, True)}" for key, item in value.items() if item not in (None, [], {})]
        return f"({', '.join(parts)})" if nested else "; ".join(parts) or "-"
    return str(value)


def _report(problem: ConfigError) -> int:
    for line in problem.problems:
        error(line)
    return 2
