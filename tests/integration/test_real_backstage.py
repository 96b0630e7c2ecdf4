"""idp-tui against a real Backstage backend (catalog + scaffolder). Not part of the default suite: it needs Node.

    /work/shared/backstage-harness/start.sh      # or any Backstage with the harness catalog and templates
    IDP_TUI_BACKSTAGE_URL=http://127.0.0.1:7007 IDP_TUI_BACKSTAGE_TOKEN=idp-tui-harness-static-token \\
        .venv/bin/python -m pytest tests/integration

Every test drives the program the way a person does (the headless commands, or the runner the TUI uses), with the
token only in the environment, and checks that the token never shows.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from idp_tui.cli import main

URL = os.environ.get("IDP_TUI_BACKSTAGE_URL")
TOKEN = os.environ.get("IDP_TUI_BACKSTAGE_TOKEN")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN), reason="set IDP_TUI_BACKSTAGE_URL and IDP_TUI_BACKSTAGE_TOKEN to a running Backstage"
)


@pytest.fixture(autouse=True)
def token_in_env(monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", TOKEN or "")
    monkeypatch.setenv("IDP_TUI_CONFIG", "/nonexistent/idp-tui.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--catalog", URL, *argv])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


def test_the_whole_catalog_pages_through_by_query(capsys):
    import httpx

    total = httpx.get(
        f"{URL}/api/catalog/entities/by-query", params={"limit": 1}, headers={"Authorization": f"Bearer {TOKEN}"}
    ).json()["totalItems"]
    code, out, _ = run(capsys, "catalog", "list", "--json")
    assert code == 0 and len(json.loads(out)) == total


def test_an_entity_its_owner_and_relations(capsys):
    code, out, _ = run(capsys, "catalog", "show", "payment-processor", "--json")
    entity = json.loads(out)
    assert code == 0 and entity["spec"]["owner"]
    assert any(relation["type"] == "ownedBy" for relation in entity["relations"])
    code, out, _ = run(capsys, "who", "payment-processor", "--json")
    assert code == 0 and json.loads(out)["owner"]["ref"].startswith("group:")


def test_a_golden_path_runs_on_the_scaffolder_and_reports_its_links(capsys):
    name = f"it-{uuid.uuid4().hex[:8]}"
    code, out, _ = run(
        capsys,
        "scaffold",
        "python-service",
        "--json",
        "--set",
        f"name={name}",
        "--set",
        "owner=group:default/platform-team",
        "--set",
        "namespace=apps",
        "--set",
        "lifecycle=experimental",
    )
    result = json.loads(out)
    assert code == 0 and result["status"] == "completed"
    assert any(name in (link.get("url") or "") for link in result["output"]["links"])


def test_rejected_values_come_back_on_their_fields():
    from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner
    from idp_tui.backstage.scaffolder_forms import template_from_schema
    from idp_tui.config import TokenSource
    from idp_tui.session import Session

    session = Session.for_catalog(URL)
    scaffolder = BackstageScaffolder(session.backstage)
    template = template_from_schema("python-service", scaffolder.parameter_schema("template:default/python-service"))
    result = BackstageTaskRunner(scaffolder).run(template, {"name": "Bad Name!", "owner": "group:default/x"})
    assert result.status == "failed" and "name" in result.field_errors
    assert TokenSource("env", "BACKSTAGE_TOKEN").describe() == "env BACKSTAGE_TOKEN (set)"


def test_a_slow_task_is_cancelled():
    from idp_tui.backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner
    from idp_tui.backstage.scaffolder_forms import template_from_schema
    from idp_tui.session import Session

    session = Session.for_catalog(URL)
    scaffolder = BackstageScaffolder(session.backstage)
    key = "template:default/harness-diagnostics"
    template = template_from_schema(scaffolder.template_entity(key), scaffolder.parameter_schema(key))
    cancel = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if "Diagnostics run" in event.message:
            cancel.set()

    result = BackstageTaskRunner(scaffolder).run(
        template, {"outcome": "succeed", "waitSeconds": 60}, on_event=on_event, cancel=cancel
    )
    assert result.status == "failed" and result.cancelled


def test_a_wrong_token_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("BACKSTAGE_TOKEN", "not-the-token")
    code, out, err = run(capsys, "catalog", "list")
    assert code == 2 and out == ""
    assert err == "idp-tui: Backstage: token missing or rejected while reading the catalog (401: Illegal token)\n"


def test_offline_uses_the_cache_only(capsys, monkeypatch):
    assert run(capsys, "catalog", "list", "--json")[0] == 0
    monkeypatch.setenv("BACKSTAGE_TOKEN", "not-the-token")  # any request would now fail
    code, out, _ = run(capsys, "--offline", "catalog", "list", "--json")
    assert code == 0 and json.loads(out)


# -- policies on the scaffolder's dry run ------------------------------------------------------------------------------

# The harness serves this folder on 127.0.0.1:7010, a host its backend.reading.allow lets the server read.
SERVED = Path(os.environ.get("HARNESS_DIR", "/tmp/backstage-harness")) / "served"
FEW_REPLICAS = """\
package main
import rego.v1

deny_few_replicas contains msg if {
    input.kind == "Deployment"
    input.spec.replicas < 3
    msg := sprintf("%s runs %d replicas; at least 3", [input.metadata.name, input.spec.replicas])
}
"""
URL_TEMPLATE = """\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: {name}
spec:
  owner: group:default/platform-team
  type: service
  parameters:
    - required: [name]
      properties:
        name: {{type: string}}
  steps:
    - id: fetch
      name: Fetch the Deployment
      action: fetch:template:file
      input:
        url: ./k8s/deployment.yaml
        targetPath: ./k8s/deployment.yaml
        values:
          name: ${{{{ parameters.name }}}}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${{ values.name }}
spec:
  replicas: 1
"""


def tasks() -> int:
    import httpx

    answer = httpx.get(f"{URL}/api/scaffolder/v2/tasks", headers={"Authorization": f"Bearer {TOKEN}"})
    return len(answer.json()["tasks"])


def test_a_templates_files_on_the_server_fail_its_dry_run_so_its_policies_stop_it_and_say_why(capsys, tmp_path):
    (tmp_path / "replicas.rego").write_text(FEW_REPLICAS)
    before = tasks()
    code, _, err = run(capsys, "scaffold", "python-service", "--set", "name=it-policy", "--set",
                       "owner=group:default/platform-team", "--policy", str(tmp_path))  # fmt: skip
    assert code == 1 and tasks() == before
    assert "step fetch-base fetches ./skeleton from the Backstage server's own files (file:///" in err
    assert "ENOENT" in err and "a dry run reads only the files sent with it" in err  # what failed, then why


@pytest.mark.skipif(not SERVED.is_dir(), reason=f"the harness's served folder {SERVED} is not here")
def test_a_url_located_templates_dry_run_fetches_its_files_and_a_deny_stops_the_task(capsys, tmp_path):
    import httpx

    name = f"url-template-{uuid.uuid4().hex[:8]}"
    folder = SERVED / name
    (folder / "k8s").mkdir(parents=True)
    (folder / "template.yaml").write_text(URL_TEMPLATE.format(name=name))
    (folder / "k8s" / "deployment.yaml").write_text(DEPLOYMENT)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    target = f"http://127.0.0.1:7010/{name}/template.yaml"
    httpx.post(f"{URL}/api/catalog/locations", json={"type": "url", "target": target}, headers=headers)
    for _ in range(100):  # the catalog processes a new location in the background
        if httpx.get(f"{URL}/api/catalog/entities/by-name/template/default/{name}", headers=headers).status_code == 200:
            break
        time.sleep(0.1)
    (tmp_path / "replicas.rego").write_text(FEW_REPLICAS)
    before = tasks()
    code, out, err = run(capsys, "--no-cache", "scaffold", name, "--set", "name=it-svc", "--policy", str(tmp_path))
    assert code == 1 and tasks() == before  # the dry run fetched the file by URL; the deny stopped the task
    assert "k8s/deployment.yaml:1: DENY main.deny_few_replicas: it-svc runs 1 replicas; at least 3" in out
    assert "nothing was published, registered or provisioned" in err
