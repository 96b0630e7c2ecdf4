"""Text from catalogs, templates, backends and logs never drives the reader's terminal.

A catalog entry can hold ``ESC ] 52`` (write the clipboard), ``ESC ] 0`` (retitle the window), ``ESC [ 2 J``
(clear the screen), the 8-bit CSI ``U+009B``, BEL, CR and bidi overrides. The headless commands run in a
resource-limited child (``run_idp_tui``) and their raw stdout and stderr are searched for any of them; ``--json``
escapes them; ``logs --color always`` keeps a log's SGR colours and nothing else. The TUI is driven with the
Pilot and the compositor's output (the strips Textual writes to the terminal) is searched the same way.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostile import run_idp_tui
from screen_cells import screen_rows, screen_text
from textual.app import App, ComposeResult
from textual.widgets import Input

from idp_tui.local_http import LocalRequestHandler, LocalServer

# Every kind of trouble at once; what is left once the sequences are removed whole is "ABCDEFGH".
PAYLOAD = "A\x1b]52;c;SGVsbG8=\x07B\x1b]0;pwned\x07C\x1b[2JD\x9b2JE\x07F\rG\u202eH"
CLEANED = "ABCDEFGH"
# C0 controls but tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")
LOG_LINES = [
    "plain request ok",
    "\x1b[31mred error\x1b[0m after",
    f"osc52 {PAYLOAD} end",
    "title \x1b]0;pwned\x07 clear \x1b[2J home \x1b[H done",
    "eight-bit \x9b2J csi",
    "bell \x07 cr \r over \u202e bidi",
]


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text)


DESCRIPTION = "Line one " + PAYLOAD + "\nline two [link=https://evil.example]click[/link]"
CATALOG = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: evil
  title: {_q("Evil [/x] " + PAYLOAD)}
  description: {_q(DESCRIPTION)}
  annotations:
    backstage.io/kubernetes-id: evil
    backstage.io/kubernetes-namespace: shop
    example.com/note: {_q("note " + PAYLOAD)}
  links:
    - url: https://runbook.example/evil
      title: {_q("Runbook " + PAYLOAD)}
spec:
  type: service
  lifecycle: {_q("p" + PAYLOAD)}
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
  title: {_q("Team A " + PAYLOAD)}
spec:
  type: team
  children: []
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: evil-template
  title: {_q("Template [/x] " + PAYLOAD)}
  description: {_q("Makes " + PAYLOAD)}
spec:
  owner: team-a
  type: service
  parameters:
    - title: {_q("Page " + PAYLOAD)}
      description: {_q("About [/x] " + PAYLOAD)}
      properties:
        name:
          title: {_q("Name " + PAYLOAD)}
          type: string
  steps: []
"""
INVALID = f"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {_q("bad" + PAYLOAD)}
spec:
  type: {_q(PAYLOAD)}
  lifecycle: production
  owner: team-a
"""


def assert_terminal_safe(*texts: str) -> None:
    for text in texts:
        found = FORBIDDEN.search(text)
        assert found is None, f"{found.group()!r} reached the terminal: {text[max(0, found.start() - 60) :][:160]!r}"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog-info.yaml").write_text(CATALOG, encoding="utf-8")
    return folder


# -- headless commands, in a limited child -----------------------------------------------------------------------


def test_catalog_show_prints_no_escape_from_the_entity(catalog_dir):
    outcome = run_idp_tui("--catalog", str(catalog_dir), "catalog", "show", "evil")
    outcome.assert_no_traceback()
    assert outcome.returncode == 0, outcome.output
    assert_terminal_safe(outcome.stdout, outcome.stderr)
    # Sequences are removed whole (no "]52;c;" left behind), and markup in the data is printed as written.
    assert f"Evil [/x] {CLEANED}" in outcome.stdout and "SGVsbG8=" not in outcome.stdout
    assert f"note {CLEANED}" in outcome.stdout and f"p{CLEANED}" in outcome.stdout
    assert "[link=https://evil.example]click[/link]" in outcome.stdout


def test_catalog_list_and_who_print_no_escape_from_the_catalog(catalog_dir):
    listed = run_idp_tui("--catalog", str(catalog_dir), "catalog", "list")
    listed.assert_no_traceback()
    assert listed.returncode == 0 and f"p{CLEANED}" in listed.stdout
    who = run_idp_tui("--catalog", str(catalog_dir), "who", "evil")
    who.assert_no_traceback()
    assert who.returncode == 0, who.output
    assert f"Evil [/x] {CLEANED}" in who.stdout and f"Team A {CLEANED}" in who.stdout
    assert_terminal_safe(listed.stdout, listed.stderr, who.stdout, who.stderr)


def test_validate_quotes_bad_values_without_their_escapes(tmp_path):
    (tmp_path / "bad.yaml").write_text(INVALID, encoding="utf-8")
    outcome = run_idp_tui("validate", str(tmp_path / "bad.yaml"))
    outcome.assert_no_traceback()
    assert outcome.returncode == 1 and outcome.stdout.strip(), outcome.output
    assert_terminal_safe(outcome.stdout, outcome.stderr)


def test_json_output_escapes_what_a_terminal_would_act_on(catalog_dir):
    outcome = run_idp_tui("--catalog", str(catalog_dir), "catalog", "show", "evil", "--json")
    outcome.assert_no_traceback()
    assert_terminal_safe(outcome.stdout)
    assert "\\u009b" in outcome.stdout and "\\u202e" in outcome.stdout
    assert json.loads(outcome.stdout)["metadata"]["title"] == "Evil [/x] " + PAYLOAD  # escaped, not altered
    listed = run_idp_tui("--catalog", str(catalog_dir), "catalog", "list", "--json")
    assert_terminal_safe(listed.stdout)
    assert {e["spec"].get("lifecycle") for e in json.loads(listed.stdout)} >= {"p" + PAYLOAD}


# -- logs from a cluster: a stand-in API server speaking the two calls `idp-tui logs` makes ------------------------

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "evil-7d9f-abcde", "namespace": "shop", "labels": {"backstage.io/kubernetes-id": "evil"}},
    "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
    "status": {"phase": "Running"},
}


class _PodsAndLogs(LocalRequestHandler):
    """``GET .../pods`` (the list) and ``GET .../pods/NAME/log`` (the hostile lines), as the API server answers."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        if path == "/api/v1/namespaces/shop/pods":
            body = {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": [POD]}
            self._send(200, "application/json", json.dumps(body).encode())
        elif path == "/api/v1/namespaces/shop/pods/evil-7d9f-abcde/log":
            self._send(200, "text/plain", ("\n".join(LOG_LINES) + "\n").encode())
        else:
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "not found", "code": 404}
            self._send(404, "application/json", json.dumps(status).encode())

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def cluster_profile(tmp_path: Path, catalog_dir: Path):
    """A config file whose profile reads ``catalog_dir`` and a kubeconfig of a live cluster and a dead one."""
    server = LocalServer(_PodsAndLogs, quiet_errors=True)
    url = server.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Config
            clusters:
            - {{name: live, cluster: {{server: "{url}"}}}}
            - {{name: dead, cluster: {{server: "http://127.0.0.1:1"}}}}
            contexts:
            - {{name: live, context: {{cluster: live, user: u}}}}
            - {{name: dead, context: {{cluster: dead, user: u}}}}
            current-context: live
            users:
            - {{name: u, user: {{token: placeholder}}}}
            """
        )
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"profiles:\n  t:\n    catalog: {catalog_dir}\n    kubernetes: {{kubeconfig: {kubeconfig}}}\n")
    yield {"IDP_TUI_CONFIG": str(config), "IDP_TUI_PROFILE": "t"}
    server.stop()


def test_logs_remove_every_escape_by_default(cluster_profile):
    outcome = run_idp_tui("logs", "evil", "--tail", "5", "--context", "live", env=cluster_profile)
    outcome.assert_no_traceback()
    assert outcome.returncode == 0, outcome.output
    assert_terminal_safe(outcome.stdout, outcome.stderr)
    assert "\x1b" not in outcome.stdout
    lines = outcome.stdout.splitlines()
    assert len(lines) == len(LOG_LINES) and all(line.startswith("evil-7d9f-abcde/app ") for line in lines)
    assert f"evil-7d9f-abcde/app osc52 {CLEANED} end" in lines
    assert "evil-7d9f-abcde/app red error after" in lines


def test_logs_with_color_keep_the_lines_colours_and_nothing_else(cluster_profile):
    outcome = run_idp_tui("logs", "evil", "--tail", "5", "--context", "live", "--color", env=cluster_profile)
    outcome.assert_no_traceback()
    assert outcome.returncode == 0, outcome.output
    assert "\x1b[31mred error\x1b[0m" in outcome.stdout  # the log's own colour, even piped and under NO_COLOR
    without_sgr = SGR.sub("", outcome.stdout)
    assert_terminal_safe(without_sgr, outcome.stderr)
    assert f"osc52 {CLEANED} end" in without_sgr


def test_an_unreachable_cluster_is_one_line_and_the_others_still_tail(cluster_profile):
    outcome = run_idp_tui(
        "logs", "evil", "--tail", "5", "--context", "live", "--context", "dead", env=cluster_profile, wall_s=80
    )
    outcome.assert_no_traceback()
    assert outcome.returncode == 2
    errors = outcome.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("idp-tui: dead: unreachable"), errors
    assert len(outcome.stdout.splitlines()) == len(LOG_LINES)  # the live cluster's lines, prefixed with it
    assert all(line.startswith("live evil-7d9f-abcde/app ") for line in outcome.stdout.splitlines())

    dead_only = run_idp_tui("logs", "evil", "--tail", "5", "--context", "dead", env=cluster_profile, wall_s=80)
    dead_only.assert_no_traceback()
    assert dead_only.returncode == 2 and dead_only.stdout == ""
    assert [line.split(":")[1].strip() for line in dead_only.stderr.splitlines()] == ["dead"]


# -- the console and JSON writers, in process --------------------------------------------------------------------


def test_the_command_console_keeps_richs_own_colours_and_links_on_a_terminal():
    from rich.style import Style
    from rich.text import Text

    from idp_tui.commands.output import safe_console

    out = io.StringIO()
    console = safe_console(file=out, force_terminal=True, color_system="standard", width=200, markup=False)
    console.print(Text("ok", style="red"), Text("linked", style=Style(link="https://example.com/")), f"x{PAYLOAD}")
    written = out.getvalue()
    assert "\x1b[31mok" in written  # Rich's own colour
    assert "\x1b]8;" in written and "https://example.com/" in written  # Rich's own OSC 8 link
    assert "52;c;" not in written and "\x1b[2J" not in written and "\x9b" not in written and "\x07" not in written


def test_print_json_escapes_c1_del_and_bidi(capsys):
    from idp_tui.commands.output import error, print_json

    print_json({"t": "a\x9b2Jb\x7fc\u202ed\x85e"})
    out = capsys.readouterr().out
    assert_terminal_safe(out)
    assert json.loads(out) == {"t": "a\x9b2Jb\x7fc\u202ed\x85e"}
    error(f"cannot reach http://user:pw@host/: {PAYLOAD}\nsecond line")
    err = capsys.readouterr().err
    assert_terminal_safe(err)
    assert err.count("\n") == 1 and "user:pw" not in err and CLEANED in err


# -- the TUI: what the compositor sends to the terminal ----------------------------------------------------------


async def _until(pilot, condition, timeout: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def _assert_screen_safe(app) -> str:
    """Every segment on screen, as composed for the terminal, free of escapes and control characters."""
    for row in screen_rows(app):
        assert_terminal_safe(*(segment.text for segment in row))
    return screen_text(app)


async def test_the_tui_draws_no_escape_from_entities_or_templates(catalog_dir, monkeypatch, tmp_path):
    from idp_tui.screens.deployments import DeploymentsScreen
    from idp_tui.screens.entity import EntityScreen
    from idp_tui.screens.golden_paths import GoldenPathsScreen
    from idp_tui.screens.home import HomeScreen
    from idp_tui.screens.template_form import TemplateFormScreen

    from idp_tui.app import IdpApp
    from idp_tui.session import Session
    from idp_tui.widgets.entity_list import EntityList

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # Deployments: "no clusters", quickly
    # Named as a catalog URL with a password would be: the top bar shows it without the password.
    session = dataclasses.replace(Session.for_catalog(str(catalog_dir)), name="https://ci:hunter2@backstage.example")
    app = IdpApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(
            pilot,
            lambda: (
                app.catalog is not None
                and isinstance(app.screen, HomeScreen)
                and len(app.screen.query_one(EntityList).entities) == 3
            ),
        )
        await pilot.pause(0.2)
        shown = _assert_screen_safe(app)
        assert f"p{CLEANED}" in shown  # the list's lifecycle column: Segments built by us
        assert "https://***@backstage.example" in shown and "hunter2" not in shown

        names = [entity.name for entity in app.screen.query_one(EntityList).entities]
        app.screen.query_one(EntityList).move_to(names.index("evil"))
        app.screen.query_one(EntityList).focus()
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen) and app.screen.entity.name == "evil")
        await pilot.pause(0.2)
        shown = _assert_screen_safe(app)
        assert f"Evil [/x] {CLEANED}" in shown and f"note {CLEANED}" in shown

        await pilot.press("d")  # the title holds "[/x]": shown as written, not read as markup
        await _until(pilot, lambda: isinstance(app.screen, DeploymentsScreen))
        await pilot.pause(0.3)
        assert f"Deployments · Evil [/x] {CLEANED}" in _assert_screen_safe(app)

        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, EntityScreen))
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, GoldenPathsScreen))
        await pilot.pause(0.2)
        assert f"Template [/x] {CLEANED}" in _assert_screen_safe(app)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TemplateFormScreen) and isinstance(app.focused, Input))
        await pilot.pause(0.3)
        shown = _assert_screen_safe(app)
        assert f"Page {CLEANED}" in shown and f"About [/x] {CLEANED}" in shown
        await pilot.press(*"a[/x]b", "ctrl+n")  # the review table shows the typed value as written
        await _until(pilot, lambda: app.screen.in_review)
        await pilot.pause(0.3)
        assert "a[/x]b" in _assert_screen_safe(app)


class _LogApp(App):
    def compose(self) -> ComposeResult:
        from idp_tui.widgets.log_view import LogView

        yield LogView()


async def test_the_log_view_draws_no_escape_from_log_lines():
    from idp_tui.kube.logs import LogLine
    from idp_tui.widgets.log_view import LogView

    app = _LogApp()
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.query_one(LogView)
        view.show_cluster = True
        view.append([LogLine("demo\x1b]0;x\x07", "api-1", "app", text) for text in LOG_LINES])
        view.append([f"stream failed: {PAYLOAD}"])
        view.search("osc52")
        await pilot.pause(0.2)
        shown = _assert_screen_safe(app)
        assert f"osc52 {CLEANED} end" in shown and "red error after" in shown
        assert f"stream failed: {CLEANED}" in shown


def test_an_output_encoding_without_the_views_symbols_gets_an_answer_not_a_traceback(tmp_path):
    # `who` prints "·" and "→"; an ASCII or Latin-1 stdout (PYTHONIOENCODING, an old terminal) used to end the
    # command with UnicodeEncodeError. The answer comes, with "?" for what the encoding lacks.
    import os
    import subprocess
    import sys

    environment = {**os.environ, "PYTHONIOENCODING": "ascii", "XDG_CACHE_HOME": str(tmp_path)}
    environment.pop("IDP_TUI_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "idp_tui", "who", "payment-processor"],
        capture_output=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode("ascii", "replace")
    assert b"Priya Raman" in result.stdout and b"?" in result.stdout
