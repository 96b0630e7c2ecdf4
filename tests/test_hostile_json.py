"""JSON that Python's reader takes and Go's refuses, from every kind of backend: nesting past the recursion limit
(``RecursionError`` is not a ``ValueError``), ``1e400`` (infinity), and lone surrogates (valid JSON escapes that
UTF-8 cannot write). Met through the real ``idp-tui`` in a resource-limited child (tests/hostile.py), against
raw-socket servers (tests/hostile_server.py): a clear line for that source, never a traceback, and text that can
be printed."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hostile import run_idp_tui
from hostile_server import HostileServer, Request, Wire, deeply_nested

from idp_tui.widgets.log_row_text import pretty_json


@pytest.fixture
def cluster_env(tmp_path: Path):
    """A catalog with one component and a kubeconfig whose one cluster is the test's server (set ``server``)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog-info.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata:
              name: svc-a
              annotations: {backstage.io/kubernetes-id: svc-a}
            spec: {type: service, lifecycle: production, owner: team-a}
            """
        )
    )
    config = tmp_path / "config"
    config.mkdir()

    def deployments(server_url: str):
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "hostile", "cluster": {"server": server_url}}],
                    "users": [{"name": "u", "user": {"token": "kube-token-5e1f"}}],
                    "contexts": [{"name": "hostile", "context": {"cluster": "hostile", "user": "u"}}],
                    "current-context": "hostile",
                }
            )
        )
        env = {"XDG_CONFIG_HOME": str(config), "KUBECONFIG": str(kubeconfig)}
        return run_idp_tui("--catalog", str(catalog), "deployments", "svc-a", env=env, wall_s=60)

    return deployments


def test_a_cluster_error_whose_body_is_nested_100000_deep_is_said_in_one_line(cluster_env):
    with HostileServer(lambda request, wire: wire.answer(500, deeply_nested(), reason="Internal Server Error")) as srv:
        outcome = cluster_env(srv.url)
    outcome.assert_no_traceback()
    assert "✗ 500 Internal Server Error listing" in outcome.stdout
    assert "kube-token-5e1f" not in outcome.output


def test_a_cluster_answering_a_number_past_float_is_said_and_nothing_is_shown_from_it(cluster_env):
    def lists(request: Request, wire: Wire) -> None:
        workload = {
            "metadata": {"name": "svc-a", "namespace": "shop", "labels": {"backstage.io/kubernetes-id": "svc-a"}}
        }
        body = json.dumps({"metadata": {"resourceVersion": "1"}, "items": [{**workload, "spec": {"replicas": 7}}]})
        wire.answer(200, body.replace("7", "1e400").encode(), [("Content-Type", "application/json")])

    with HostileServer(lists) as server:
        outcome = cluster_env(server.url)
    outcome.assert_no_traceback()
    assert "the number 1e400 is past what a JSON number carries" in outcome.stdout


def test_a_backstage_entity_holding_a_lone_surrogate_is_listed_as_json_and_shown_as_a_replacement(tmp_path):
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "svc-a", "namespace": "default", "description": "evil \ud800 text"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-a"},
    }
    page = json.dumps({"items": [entity], "totalItems": 1, "pageInfo": {}}).encode()  # "\ud800" as an escape

    def backstage(request: Request, wire: Wire) -> None:
        if request.path == "/api/catalog/entities/by-query":
            wire.answer(200, page, [("Content-Type", "application/json")])
        else:
            wire.answer(404, b"{}")

    config = tmp_path / "config"
    config.mkdir()
    env = {"XDG_CONFIG_HOME": str(config), "XDG_CACHE_HOME": str(tmp_path / "cache"), "BACKSTAGE_TOKEN": "bs-tok"}
    with HostileServer(backstage) as server:
        listed = run_idp_tui("--catalog", server.url, "catalog", "list", "--json", env=env, wall_s=60)
        shown = run_idp_tui("--catalog", server.url, "catalog", "show", "svc-a", env=env, wall_s=60)
    listed.assert_no_traceback()
    assert listed.returncode == 0
    assert json.loads(listed.stdout)[0]["metadata"]["description"] == "evil \ud800 text"  # the escape it came as
    assert "\\ud800" in listed.stdout
    shown.assert_no_traceback()
    assert "evil \ufffd text" in shown.stdout


def test_a_log_line_nested_past_the_recursion_limit_is_shown_as_written():
    line = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert pretty_json(line) is None  # the row shows the line itself
    assert pretty_json('{"a": [1, {"b": 2}]}') == (
        "{",
        '  "a": [',
        "    1,",
        "    {",
        '      "b": 2',
        "    }",
        "  ]",
        "}",
    )
