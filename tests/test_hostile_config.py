"""Hostile configuration: odd YAML never crashes, tokens are never quoted back, URL passwords never shown.

Every problem in the config file is one line ``FILE:LINE: key.path: message`` and exit status 2; the keymap and
the user palettes, read from files beside it, take the same odd YAML without a traceback.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from hostile import run_idp_tui
from idp_tui.screens.bindings import check_keymap, load_user_keymap
from idp_tui.themes.user_palettes import load_user_palettes

from idp_tui.cli import main
from idp_tui.config import ConfigError, load_config
from idp_tui.keymap import Scope
from idp_tui.quoting import quotable

TOKEN = "ghp_Zq8XvN3kLw0Pr5TyA1bC7dE9fG2hJ4mK6nQ"
PAGERDUTY_KEY = "y_NbAkKc66ryYTWUXYEu"
OPSGENIE_KEY = "3f9c2b1a-8d4e-4f6a-9b0c-1d2e3f4a5b6c"
NUMERIC = "314159265358979"
PASSWORD = "hunter2-Correct-Horse"


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    monkeypatch.setenv("IDP_TUI_CONFIG", str(path))
    for name in ("PROFILE", "CATALOG", "USER", "READ_ONLY", "OFFLINE", "THEME"):
        monkeypatch.delenv(f"IDP_TUI_{name}", raising=False)

    def write(text: str | bytes) -> Path:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def show(capsys, *flags: str, as_json: bool = False) -> tuple[int, str, str]:
    """``idp-tui FLAGS config show [--json]``: exit status, stdout, stderr."""
    status = main([*flags, "config", "show", *(["--json"] if as_json else [])])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def problem_lines(err: str, path: Path) -> list[str]:
    lines = err.splitlines()
    assert lines, "no problem reported"
    pattern = re.compile(rf"^idp-tui: {re.escape(str(path))}:\d+: \S")
    assert all(pattern.match(line) for line in lines), lines
    return lines


# -- odd YAML: every problem is FILE:LINE: key.path: message, exit 2 -------------------------------------------


ODD_CONFIGS = {
    "a float tag on text": ("profiles:\n  a:\n    read_only: !!float abc\n", 3, "profiles.a.read_only"),
    "a mapping as a key in a profile": ("profiles:\n  a:\n    ? {a: 1}\n    : x\n", 3, "profiles.a.?"),
    "a list as a key in vault auth": (
        "profiles:\n  a:\n    vault:\n      address: https://v\n      auth:\n        method: token\n"
        "        ? [x]\n        : y\n",
        7,
        "profiles.a.vault.auth.?",
    ),
    "an impossible date": ("profiles:\n  a:\n    user: !!timestamp 2001-13-99\n", 3, "profiles.a.user"),
    "a Python object tag": ("default_profile: !!python/object:os.system x\n", 1, "default_profile"),
    "an unknown local tag on a bool": ("profiles:\n  a:\n    offline: !secret yes\n", 3, "profiles.a.offline"),
    "binary bytes": ("profiles:\n  a: {user: x}\n\x00\x01\x02\n", 3, "invalid YAML"),
    "a second document": ("profiles: {}\n---\nprofiles: {}\n", 2, "invalid YAML"),
    "a list as a profile's token": ("profiles:\n  a:\n    token: [a, b]\n", 3, "profiles.a.token"),
}


@pytest.mark.parametrize("case", list(ODD_CONFIGS))
def test_odd_yaml_in_the_config_is_a_line_with_file_line_and_key(config_file, capsys, case):
    text, line, where = ODD_CONFIGS[case]
    path = config_file(text)
    status, out, err = show(capsys)
    assert status == 2 and out == ""
    lines = problem_lines(err, path)
    assert any(f"{path}:{line}: {where}" in problem for problem in lines), lines


def test_anchors_and_aliases_are_checked_like_what_they_point_at(config_file, capsys):
    path = config_file(
        """\
        profiles:
          a: &shared {catalog: demo, read_only: !!float abc}
          b: *shared
          c: {user: &who user:jdoe, theme: *who}
        """
    )
    status, _, err = show(capsys)
    assert status == 2
    lines = problem_lines(err, path)
    # The bad value is reported where it is written, for each profile that uses it.
    assert [line.split(": ")[2] for line in lines] == ["profiles.a.read_only", "profiles.b.read_only"]
    assert all(f"{path}:2:" in line for line in lines)


def test_text_that_is_not_utf8_names_its_line(config_file, capsys):
    path = config_file(b"profiles:\n  a:\n    user: caf\xe9\n")
    status, _, err = show(capsys)
    assert status == 2
    assert err.splitlines() == [f"idp-tui: {path}:3: not UTF-8 text (byte 0xe9)"]


def test_a_recursive_alias_and_a_non_string_profile_name(config_file, capsys):
    path = config_file("profiles: &loop\n  a: *loop\n  ? [x]\n  : {}\n")
    status, _, err = show(capsys)
    assert status == 2
    lines = problem_lines(err, path)
    assert any(": profiles.a.a: unknown key" in line for line in lines), lines
    assert any(f"{path}:3: profiles: a profile name must be a non-empty string" in line for line in lines), lines


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        ("huge", lambda p: p.write_text("# " + "x" * (2 * 1024 * 1024) + "\nprofiles: {}\n"), "too large"),
        ("deep", lambda p: p.write_text("profiles: " + "[" * 100_000), "invalid YAML"),
        ("alias bomb", lambda p: p.write_text(_alias_bomb()), "profiles.a.user: must be a string (got a list)"),
        ("directory", lambda p: p.mkdir(), "cannot be read"),
        ("fifo", lambda p: __import__("os").mkfifo(p), "not a regular file"),
    ],
)
def test_files_that_would_exhaust_or_hang_a_reader_are_one_line_in_a_limited_child(tmp_path, name, write, expected):
    path = tmp_path / "config.yaml"
    write(path)
    outcome = run_idp_tui("config", "show", env={"IDP_TUI_CONFIG": str(path)}, memory_mb=512, cpu_s=20, wall_s=40)
    outcome.assert_no_traceback()
    assert outcome.returncode == 2 and outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    assert lines and all(line.startswith(f"idp-tui: {path}") for line in lines), lines
    assert expected in outcome.stderr


def test_dev_zero_as_the_config_file_is_refused_at_once(tmp_path):
    outcome = run_idp_tui("config", "show", env={"IDP_TUI_CONFIG": "/dev/zero"}, memory_mb=512, cpu_s=20, wall_s=40)
    outcome.assert_no_traceback()
    assert outcome.returncode == 2 and "not a regular file" in outcome.stderr


def _alias_bomb() -> str:
    """A billion laughs: nine levels of nine aliases, 10^9 strings if anything expanded them."""
    lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "profiles:\n  a:\n" + "".join(f"    {line}\n" for line in lines) + "    user: *x9\n"


# -- tokens typed into the wrong field are never quoted ---------------------------------------------------------


def test_values_that_could_be_tokens_are_never_quoted_in_config_errors(config_file, capsys):
    path = config_file(
        f"""\
        profiles:
          a:
            scaffolder: {TOKEN}
            read_only: {PAGERDUTY_KEY}
            kubernetes: {{contexts: {OPSGENIE_KEY}}}
            oncall: {{provider: {PAGERDUTY_KEY}, url: {TOKEN}}}
            vault: {{address: {OPSGENIE_KEY}}}
            user: {NUMERIC}
            theme: !!binary aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA==
            {TOKEN}: x
            catalog: "ftp://deploy:{PASSWORD}@catalog.example.com/"
          b: {PASSWORD}
        """
    )
    status, _, err = show(capsys)
    assert status == 2
    lines = problem_lines(err, path)
    assert len(lines) == 11, lines
    for secret in (TOKEN, PAGERDUTY_KEY, OPSGENIE_KEY, NUMERIC, PASSWORD, "aGVsbG8"):
        assert secret not in err
    # Still useful: the line, the key and what was expected, and how long the value was.
    assert f"{path}:3: profiles.a.scaffolder: must be one of local, backstage (got a {len(TOKEN)}-character" in err
    assert f"{path}:10: profiles.a.<a {len(TOKEN)}-character key (not shown)>: unknown key" in err
    assert '(got "ftp://***@catalog.example.com/")' in err


def test_short_plain_mistakes_are_still_quoted(config_file, capsys):
    path = config_file("profiles:\n  a:\n    scaffolder: backstge\n    offline: maybe\n")
    status, _, err = show(capsys)
    assert status == 2
    assert err.splitlines() == [
        f'idp-tui: {path}:3: profiles.a.scaffolder: must be one of local, backstage (got "backstge")',
        f'idp-tui: {path}:4: profiles.a.offline: must be true or false (got "maybe")',
    ]


def test_environment_values_and_flags_that_could_be_tokens_are_not_quoted(config_file, capsys, monkeypatch):
    config_file("profiles: {}\n")
    monkeypatch.setenv("IDP_TUI_READ_ONLY", PAGERDUTY_KEY)
    status, _, err = show(capsys)
    assert status == 2 and PAGERDUTY_KEY not in err and "IDP_TUI_READ_ONLY: must be 1, true or yes" in err
    monkeypatch.delenv("IDP_TUI_READ_ONLY")
    status, _, err = show(capsys, "--profile", TOKEN)
    assert status == 2 and TOKEN not in err and "--profile: no profile named" in err


@pytest.mark.parametrize(
    ("value", "shown"),
    [("pagerdutty", True), ("prod-eu", True), ("yes", True), ("ftp://x", True), ("PAGERDUTY_TOKEN", True),
     (TOKEN, False), (PAGERDUTY_KEY, False), (OPSGENIE_KEY, False), (NUMERIC, False), ("hvs.CAESIJ", False),
     ("eyJhbGciOiJIUzI1NiJ9", False), ("sk-abc", False), ("x" * 40, False), ("a\x1b[2Jb", False)],
)  # fmt: skip
def test_the_quoting_rule(value, shown):
    assert quotable(value) is shown


# -- URL passwords: masked in config show (text and JSON) and in errors ------------------------------------------


def test_userinfo_in_urls_is_masked_by_config_show(config_file, capsys, monkeypatch):
    config_file(
        f"""\
        profiles:
          w:
            catalog: https://ci:{PASSWORD}@backstage.example.com
            oncall: {{provider: pagerduty, url: "https://pd:{PASSWORD}@pd.example.com/?token=abc123"}}
            vault: {{address: "https://root:{PASSWORD}@vault.example.com:8200"}}
        """
    )
    monkeypatch.setenv("IDP_TUI_PROFILE", "w")
    status, out, err = show(capsys)
    assert status == 0 and PASSWORD not in out + err
    assert "https://***@backstage.example.com" in out and "https://***@vault.example.com:8200" in out
    assert "https://***@pd.example.com/?token=***" in out
    status, out, err = show(capsys, as_json=True)
    assert status == 0 and PASSWORD not in out + err and "abc123" not in out
    shown = json.loads(out)
    assert shown["profile"]["catalog"] == "https://***@backstage.example.com"
    assert shown["profile"]["vault"]["address"] == "https://***@vault.example.com:8200"
    assert shown["profile"]["oncall"]["url"] == "https://***@pd.example.com/?token=***"


def test_a_token_written_into_a_token_command_is_masked_by_config_show(config_file, capsys, monkeypatch):
    config_file(f'profiles:\n  w:\n    catalog: https://b.example\n    token: {{command: "echo {TOKEN}"}}\n')
    monkeypatch.setenv("IDP_TUI_PROFILE", "w")
    status, out, _ = show(capsys)
    assert status == 0 and TOKEN not in out and 'command "echo ***"' in out


def test_a_catalog_flag_with_a_password_is_masked_in_show_and_in_errors(config_file, capsys):
    config_file("profiles: {}\n")
    status, out, _ = show(capsys, "--catalog", f"http://user:{PASSWORD}@backstage.example.com/")
    assert status == 0 and PASSWORD not in out and "http://***@backstage.example.com/" in out
    status, out, err = show(capsys, "--catalog", f"ftp://user:{PASSWORD}@backstage.example.com/")
    assert status == 2 and PASSWORD not in out + err and "ftp://***@backstage.example.com/" in err


def test_a_password_in_the_catalog_url_is_not_in_a_command_error(tmp_path):
    outcome = run_idp_tui(
        "--catalog",
        f"http://user:{PASSWORD}@127.0.0.1:9/",
        "--offline",
        "catalog",
        "list",
        env={"IDP_TUI_CONFIG": str(tmp_path / "none.yaml"), "XDG_CACHE_HOME": str(tmp_path / "cache")},
        wall_s=60,
    )
    outcome.assert_no_traceback()
    assert outcome.returncode != 0 and PASSWORD not in outcome.output


def test_the_config_loader_raises_only_config_errors_for_a_zoo_of_scalars(tmp_path):
    tags = ["!!int 0xZZ", "!!float abc", "!!bool maybe", "!!timestamp x", "!!binary '@@@'", "!!null x", "!!set x"]
    fields = ["catalog", "user", "theme", "read_only", "offline", "scaffolder", "token"]
    body = "".join(
        f"  p{n}:\n    {field}: {tag}\n" for n, (field, tag) in enumerate(zip(fields * 2, tags * 2, strict=True))
    )
    path = tmp_path / "config.yaml"
    path.write_text("profiles:\n" + body)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert len(raised.value.problems) == len(tags) * 2, raised.value.problems


# -- the keymap and user palettes take the same odd YAML ---------------------------------------------------------

ODD_YAML = {
    "float tag": "home.search: !!float abc\n",
    "mapping key": "? {a: 1}\n: x\n",
    "list key": "[a]: red\n",
    "aliases": "a: &x ctrl+f\nb: *x\n",
    "binary": "\x00\x01",
    "deep": "[" * 20_000,
    "deep mapping": "a: " + "{b: " * 20_000,
    "unknown tag": "x: !!python/object:os.system y\n",
    "bad bool": 'name: x\nprimary: "#112233"\ndark: !!bool maybe\n',
    "escapes": 'name: "\\e]52;c;QUFB\\a"\nprimary: "\\e[2Jred"\n"\\e]0;t\\a": ctrl+x\n',
    "second document": "a: b\n---\nc: d\n",
}
SCOPES = [Scope("everywhere", ())]


def _safe(text: str) -> bool:
    return not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


@pytest.mark.parametrize("case", list(ODD_YAML))
def test_odd_yaml_in_a_keymap_is_a_problem_with_its_line(tmp_path, case):
    path = tmp_path / "keymap.yaml"
    path.write_text(ODD_YAML[case])
    result = check_keymap(path.read_text(), path, SCOPES)
    assert all(re.match(rf"{re.escape(str(path))}(:\d+)?: ", problem) for problem in result.problems)
    assert all(_safe(problem) for problem in result.problems), result.problems


def test_a_keymap_that_is_not_utf8_or_huge_or_not_a_file(tmp_path):
    path = tmp_path / "keymap.yaml"
    path.write_bytes(b"home.search: ctrl+f\nhome.filter: \xff\n")
    assert load_user_keymap(path, SCOPES).problems == [f"{path}:2: not UTF-8 text (byte 0xff)"]
    path.write_text("# " + "x" * (2 * 1024 * 1024))
    assert load_user_keymap(path, SCOPES).problems == [f"{path}: too large (more than 1024 KiB)"]


@pytest.mark.parametrize("case", list(ODD_YAML))
def test_odd_yaml_in_a_palette_leaves_it_out_with_its_line(tmp_path, case):
    (tmp_path / "night.yaml").write_text(ODD_YAML[case])
    themes, problems = load_user_palettes(tmp_path)
    assert themes == [] and problems
    assert all(re.match(rf"{re.escape(str(tmp_path / 'night.yaml'))}:\d+: ", p) for p in problems), problems
    assert all(_safe(problem) for problem in problems), problems


def test_a_palette_that_is_not_utf8_names_its_line(tmp_path):
    (tmp_path / "night.yaml").write_bytes(b'name: night\nprimary: "#\xff"\n')
    themes, problems = load_user_palettes(tmp_path)
    assert themes == [] and problems == [f"{tmp_path / 'night.yaml'}:2: not UTF-8 text (byte 0xff)"]
