"""Configuration profiles: file < environment < flags, errors with file:line:key, tokens never in the file or output."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

import pytest

from idp_tui.commands import config as config_command
from idp_tui.config import ConfigError, TokenSource, config_path, load_config, resolve_profile
from idp_tui.tokens import TokenError

SECRET = "s3cr3t-token-value"
NO_FLAGS = {"profile": None, "catalog": None, "user": None, "read_only": None, "offline": None, "theme": None}

WORK = """\
default_profile: work
profiles:
  work:
    catalog: https://backstage.example.com
    token: {env: BACKSTAGE_TOKEN}
    kubernetes: {kubeconfig: /etc/kube/config, contexts: [prod-eu, prod-us]}
    oncall:
      provider: pagerduty
      token: {file: pd-token}
    vault:
      address: https://vault.example.com
      namespace: team-a
      auth: {method: approle, role_id: my-role, secret_id: {command: "op read op://vault/secret"}}
    user: user:jdoe
    theme: dark
    read_only: false
    offline: true
  local:
    catalog: ./catalog
"""


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Write the config file at ``$IDP_TUI_CONFIG`` and return its path."""
    path = tmp_path / "config.yaml"
    monkeypatch.setenv("IDP_TUI_CONFIG", str(path))
    for name in ("PROFILE", "CATALOG", "USER", "READ_ONLY", "OFFLINE", "THEME"):
        monkeypatch.delenv(f"IDP_TUI_{name}", raising=False)

    def write(text: str) -> Path:
        path.write_text(textwrap.dedent(text))
        return path

    return write


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert isinstance(raised.value, ValueError)
    return str(raised.value).splitlines()


# Where the file is, and what there is without one.


def test_the_file_is_found_under_xdg_config_home_unless_idp_tui_config_says(tmp_path, monkeypatch):
    monkeypatch.delenv("IDP_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "idp-tui" / "config.yaml"
    monkeypatch.setenv("IDP_TUI_CONFIG", str(tmp_path / "elsewhere.yaml"))
    assert config_path() == tmp_path / "elsewhere.yaml"


def test_without_a_file_only_the_demo_profile_exists(tmp_path, monkeypatch):
    monkeypatch.delenv("IDP_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config()
    assert not config.exists and config.profile_names == ["demo"]
    profile = resolve_profile(config, **NO_FLAGS, environ={})
    assert (profile.name, profile.catalog, profile.is_demo, profile.catalog_is_url) == ("demo", "demo", True, False)
    assert (profile.scaffolder, profile.oncall.provider, profile.token, profile.vault) == ("local", "demo", None, None)
    assert (profile.read_only, profile.offline) == (False, False)
    assert set(profile.origin.values()) == {"default"}
    with pytest.raises(ConfigError, match='--profile: no profile named "work" \\(profiles: demo\\)'):
        resolve_profile(config, **{**NO_FLAGS, "profile": "work"}, environ={})


# Precedence: defaults < file < environment < flags.


def test_the_file_profile_is_read_with_every_section(config_file):
    path = config_file(WORK)
    profile = resolve_profile(load_config(path), **NO_FLAGS, environ={})
    assert profile.name == "work" and profile.origin["name"] == "file:1"
    assert profile.catalog_is_url and profile.scaffolder == "backstage"
    assert profile.token == TokenSource("env", "BACKSTAGE_TOKEN") and profile.origin["token"] == "file:5"
    assert profile.kube_config == Path("/etc/kube/config") and profile.kube_contexts == ("prod-eu", "prod-us")
    # A relative token file is relative to the config file, not to wherever idp-tui was started.
    assert profile.oncall.token == TokenSource("file", str(path.parent / "pd-token"))
    assert profile.vault.namespace == "team-a"
    assert profile.vault.auth["secret_id"] == TokenSource("command", "op read op://vault/secret")
    assert (profile.user, profile.theme, profile.read_only, profile.offline) == ("user:jdoe", "dark", False, True)
    assert profile.origin["offline"] == "file:17"


@pytest.mark.parametrize(
    ("key", "variable", "file_line", "env_text", "env_value", "flag_value"),
    [
        ("catalog", "IDP_TUI_CATALOG", 4, "/srv/catalog", "/srv/catalog", "https://flag.example.com"),
        ("user", "IDP_TUI_USER", 14, "user:env", "user:env", "user:flag"),
        ("theme", "IDP_TUI_THEME", 15, "light", "light", "monokai"),
        ("read_only", "IDP_TUI_READ_ONLY", 16, "yes", True, False),
        ("offline", "IDP_TUI_OFFLINE", 17, "0", False, True),
    ],
)
def test_env_beats_the_file_and_flags_beat_env(config_file, key, variable, file_line, env_text, env_value, flag_value):
    config = load_config(config_file(WORK))
    from_file = resolve_profile(config, **NO_FLAGS, environ={})
    assert from_file.origin[key] == f"file:{file_line}"
    from_env = resolve_profile(config, **NO_FLAGS, environ={variable: env_text})
    assert getattr(from_env, key) == env_value and getattr(from_env, key) != getattr(from_file, key)
    assert from_env.origin[key] == f"env {variable}"
    flag = key.replace("_", "-")
    from_flag = resolve_profile(config, **{**NO_FLAGS, key: flag_value}, environ={variable: env_text})
    assert getattr(from_flag, key) == flag_value and from_flag.origin[key] == f"flag --{flag}"


def test_the_profile_is_chosen_by_flag_then_env_then_default_profile(config_file):
    config = load_config(config_file(WORK))
    assert resolve_profile(config, **NO_FLAGS, environ={}).name == "work"
    by_env = resolve_profile(config, **NO_FLAGS, environ={"IDP_TUI_PROFILE": "local"})
    assert by_env.name == "local" and by_env.origin["name"] == "env IDP_TUI_PROFILE"
    by_flag = resolve_profile(config, **{**NO_FLAGS, "profile": "demo"}, environ={"IDP_TUI_PROFILE": "local"})
    assert by_flag.name == "demo" and by_flag.is_demo and by_flag.origin["name"] == "flag --profile"
    with pytest.raises(ConfigError) as raised:
        resolve_profile(config, **NO_FLAGS, environ={"IDP_TUI_PROFILE": "wrok"})
    assert str(raised.value) == 'IDP_TUI_PROFILE: no profile named "wrok" (profiles: demo, local, work)'


def test_a_local_catalog_in_the_file_is_relative_to_the_file_and_runs_templates_locally(config_file):
    path = config_file(WORK)
    profile = resolve_profile(load_config(path), **{**NO_FLAGS, "profile": "local"}, environ={})
    assert profile.catalog == str(path.parent / "catalog") and profile.scaffolder == "local"
    assert profile.token is None and profile.oncall.provider == "none"


def test_a_url_catalog_from_a_flag_reads_the_backstage_token_from_the_environment(tmp_path):
    config = load_config(tmp_path / "absent.yaml")
    profile = resolve_profile(config, **{**NO_FLAGS, "catalog": "https://backstage.example.com"}, environ={})
    assert profile.token == TokenSource("env", "BACKSTAGE_TOKEN") and profile.origin["token"] == "default"
    assert profile.scaffolder == "backstage" and not profile.is_demo
    by_env = resolve_profile(config, **NO_FLAGS, environ={"IDP_TUI_CATALOG": "http://localhost:7007"})
    assert by_env.token == TokenSource("env", "BACKSTAGE_TOKEN") and by_env.origin["catalog"] == "env IDP_TUI_CATALOG"


def test_a_profile_token_is_kept_when_a_flag_changes_the_catalog(config_file):
    config = load_config(
        config_file(
            """\
            profiles:
              work:
                catalog: https://a.example.com
                token: {command: "op read op://x/backstage"}
            """
        )
    )
    profile = resolve_profile(config, **{**NO_FLAGS, "profile": "work", "catalog": "https://b.example.com"}, environ={})
    assert profile.catalog == "https://b.example.com"
    assert profile.token == TokenSource("command", "op read op://x/backstage")


def test_bad_environment_values_are_refused(tmp_path):
    config = load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError) as raised:
        resolve_profile(config, **NO_FLAGS, environ={"IDP_TUI_READ_ONLY": "maybe", "IDP_TUI_CATALOG": "ftp://x"})
    assert str(raised.value).splitlines() == [
        'IDP_TUI_CATALOG: must be "demo", a file or directory, or an http(s) URL (got "ftp://x")',
        'IDP_TUI_READ_ONLY: must be 1, true or yes (or 0, false, no) (got "maybe")',
    ]


# Validation: every problem, each with file:line: key.path.


def test_every_problem_is_reported_at_once_with_file_line_and_key(config_file):
    path = config_file(
        """\
        default_profile: work
        profiles:
          work:
            catalog: https://backstage.example.com
            scaffolder: backstage
            catlog: ./x
            oncall:
              provider: pagerdutty
            read_only: "yes"
            kubernetes: {contexts: prod-eu}
            vault:
              namespace: team-a
              auth: {method: kubernetes, role_id: r}
          other:
            catalog: ./catalog
            scaffolder: backstage
        """
    )
    assert problems_of(path) == [
        f'{path}:6: profiles.work.catlog: unknown key (did you mean "catalog"?)',
        f'{path}:8: profiles.work.oncall.provider: must be one of demo, pagerduty, opsgenie, none (got "pagerdutty")',
        f'{path}:9: profiles.work.read_only: must be true or false (got "yes")',
        f'{path}:10: profiles.work.kubernetes.contexts: must be a list (got "prod-eu")',
        f"{path}:12: profiles.work.vault.address: missing (required)",
        f"{path}:13: profiles.work.vault.auth.role_id: not used by method kubernetes",
        f"{path}:13: profiles.work.vault.auth.role: missing (required by method kubernetes)",
        f'{path}:16: profiles.other.scaffolder: "backstage" needs the catalog to be a Backstage URL (http:// or '
        "https://)",
    ]


def test_a_literal_token_is_refused_without_repeating_it(config_file):
    path = config_file(
        f"""\
        profiles:
          work:
            catalog: https://backstage.example.com
            token: {SECRET}
            oncall: {{provider: opsgenie, token: {{env: A, command: b}}}}
        """
    )
    problems = problems_of(path)
    assert problems == [
        f"{path}:4: profiles.work.token: tokens never go in the config file: use {{env: NAME}}, {{file: PATH}} or "
        '{command: "CMD ..."}, not a literal value',
        f"{path}:5: profiles.work.oncall.token: must have exactly one of env, file, command (got env, command)",
    ]
    assert SECRET not in "\n".join(problems)


def test_an_unknown_default_profile_and_duplicate_keys(config_file):
    path = config_file(
        """\
        default_profile: wrok
        profiles:
          work: {user: user:a, user: user:b}
        """
    )
    assert problems_of(path) == [
        f'{path}:1: default_profile: no profile named "wrok" (profiles: demo, work)',
        f"{path}:3: profiles.work.user: duplicate key (first at line 3)",
    ]


def test_invalid_yaml_names_the_line(config_file):
    path = config_file("profiles:\n  work: [1\n")
    assert problems_of(path) == [f"{path}:3: invalid YAML: did not find expected ',' or ']'"]


def test_a_file_that_is_not_a_mapping_or_has_unknown_top_level_keys(config_file):
    assert problems_of(config_file("- a\n")) == [f"{config_file('- a')}:1: must be a mapping (got a list)"]
    path = config_file("profile: {}\n")
    assert problems_of(path) == [f'{path}:1: profile: unknown key (did you mean "profiles"?)']


def test_wrong_shapes_inside_a_profile_are_named_by_their_path(config_file):
    path = config_file(
        """\
        profiles:
          a: abc
          b:
            kubernetes: {contexts: [prod, 3]}
            offline: 1
        """
    )
    assert problems_of(path) == [
        f'{path}:2: profiles.a: must be a mapping (got "abc")',
        f"{path}:4: profiles.b.kubernetes.contexts[1]: must be a string (got 3)",
        f"{path}:5: profiles.b.offline: must be true or false (got 1)",
    ]


def test_an_empty_file_means_only_the_demo(config_file):
    config = load_config(config_file("# nothing yet\n"))
    assert config.exists and config.profile_names == ["demo"]


# Token sources: read lazily, errors name the source and never the secret.


def test_an_env_token_is_read_at_each_call(monkeypatch):
    monkeypatch.delenv("X_TOKEN", raising=False)
    source = TokenSource("env", "X_TOKEN")
    provider = source.provider("Backstage")
    with pytest.raises(TokenError, match=r"^X_TOKEN is not set \(the token for Backstage\)$"):
        provider()
    assert source.describe() == "env X_TOKEN (not set)"
    monkeypatch.setenv("X_TOKEN", SECRET)
    assert provider() == SECRET and source.describe() == "env X_TOKEN (set)"
    monkeypatch.setenv("X_TOKEN", "rotated")
    assert provider() == "rotated"


def test_a_file_token_is_read_at_each_call(tmp_path):
    path = tmp_path / "token"
    source = TokenSource("file", str(path))
    provider = source.provider("PagerDuty")
    with pytest.raises(TokenError) as raised:
        provider()
    assert str(raised.value) == f"the token file {path} for PagerDuty could not be read (FileNotFoundError)"
    assert source.describe() == f"file {path} (missing)"
    path.write_text(f"  {SECRET}\n")
    assert provider() == SECRET and source.describe() == f"file {path} (exists)"
    path.write_text("rotated\n")
    assert provider() == "rotated"
    path.write_text("\n")
    with pytest.raises(TokenError, match="is empty"):
        provider()


def test_a_command_token_is_run_at_each_call_and_its_failure_hides_the_output(tmp_path):
    store = tmp_path / "store"
    command = f"{sys.executable} -c \"print(open('{store}').read())\""
    source = TokenSource("command", command)
    provider = source.provider("Vault")
    store.write_text(SECRET)
    assert provider() == SECRET
    store.write_text("rotated")
    assert provider() == "rotated"
    assert source.describe() == f"command {json.dumps(command)}" and "rotated" not in source.describe()
    failing = TokenSource("command", f"{sys.executable} -c \"import sys; print('{SECRET}'); sys.exit(4)\"")
    with pytest.raises(TokenError) as raised:
        failing.provider("Vault")()
    assert str(raised.value) == "the token command for Vault failed (exit 4)"


# The commands.


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="idp-tui")
    parser.add_argument("--profile")
    parser.add_argument("--catalog")
    parser.add_argument("--user")
    parser.add_argument("--read-only", action="store_true", default=None)
    subparsers = parser.add_subparsers(dest="command")
    config_command.add_parser(subparsers)
    args = parser.parse_args(argv)
    assert args.needs_session is False
    return args.handler(args, None)


def test_config_show_prints_origins_and_never_a_secret(config_file, monkeypatch, capsys):
    path = config_file(WORK)
    (path.parent / "pd-token").write_text(SECRET + "-pd")
    monkeypatch.setenv("BACKSTAGE_TOKEN", SECRET)
    monkeypatch.setenv("VAULT_TOKEN", SECRET)
    monkeypatch.setenv("IDP_TUI_USER", "user:someone")
    assert run(["--read-only", "config", "show"]) == 0
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    lines = out.splitlines()
    assert f"config file {path}" in lines
    assert "profile     work  [file:1]" in lines
    assert "token       env BACKSTAGE_TOKEN (set)  [file:5]" in lines
    assert "user        user:someone  [env IDP_TUI_USER]" in lines
    assert "read-only   yes  [flag --read-only]" in lines
    assert f"oncall      provider pagerduty; token file {path.parent / 'pd-token'} (exists)  [file:7]" in lines


def test_config_show_json_parses_and_describes_tokens(config_file, monkeypatch, capsys):
    config_file(WORK)
    monkeypatch.setenv("BACKSTAGE_TOKEN", SECRET)
    assert run(["--profile", "work", "config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    shown = json.loads(out)
    assert shown["config_file_exists"] is True and shown["profiles"] == ["demo", "local", "work"]
    assert shown["profile"]["token"] == "env BACKSTAGE_TOKEN (set)"
    assert shown["profile"]["vault"]["auth"]["secret_id"] == 'command "op read op://vault/secret"'
    assert shown["origin"]["name"] == "flag --profile" and shown["origin"]["catalog"] == "file:4"


def test_config_show_reports_a_broken_file_in_one_line_per_problem(config_file, capsys):
    path = config_file("profiles:\n  work:\n    token: abc\n    theme: [a]\n")
    assert run(["config", "show"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"idp-tui: {path}:") for line in err)
    assert err[1] == f"idp-tui: {path}:4: profiles.work.theme: must be a string (got a list)"
    assert "abc" not in err[0]


def test_config_init_writes_an_example_that_loads_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    path = tmp_path / "new" / "dir" / "config.yaml"
    monkeypatch.setenv("IDP_TUI_CONFIG", str(path))
    assert run(["config", "init"]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    config = load_config(path)
    assert config.default_profile == "demo" and config.profile_names == ["demo", "work"]
    work = resolve_profile(config, **{**NO_FLAGS, "profile": "work"}, environ={})
    assert work.catalog_is_url and work.oncall.provider == "pagerduty" and work.vault is not None

    path.write_text("# mine\n")
    assert run(["config", "init"]) == 2
    assert capsys.readouterr().err == f"idp-tui: {path} already exists (use --force to overwrite it)\n"
    assert path.read_text() == "# mine\n"
    assert run(["config", "init", "--force"]) == 0
    assert "profiles:" in path.read_text()
