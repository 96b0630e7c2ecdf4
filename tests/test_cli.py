"""Headless commands: catalog list/show and validate, human and JSON output, exit statuses."""

import json
import subprocess
import sys

import pytest

from idp_tui.cli import main

COMPONENTS = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payment-processor
  title: Payment Processor
  tags: [payments, pci-dss]
spec: {type: service, lifecycle: production, owner: team-payments, system: checkout, dependsOn: [resource:payments-db, component:gone]}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: payments-db}
spec: {type: database, owner: team-payments}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-payments}
spec:
  type: team
  profile: {displayName: Payments Team, email: payments@example.com}
  children: []
  members: [ana]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ana}
spec: {profile: {displayName: Ana Lima, email: ana@example.com}, memberOf: [team-payments]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web, tags: [frontend]}
spec: {type: website, lifecycle: experimental, owner: user:ana}
"""


@pytest.fixture
def catalog_dir(write_catalog):
    return write_catalog({"catalog-info.yaml": COMPONENTS})


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_json_has_backstage_entity_shape(capsys, catalog_dir):
    status, out, _ = run(capsys, "--catalog", str(catalog_dir), "catalog", "list", "--json")
    assert status == 0
    entities = json.loads(out)
    assert {e["metadata"]["name"] for e in entities} == {
        "payment-processor",
        "payments-db",
        "team-payments",
        "ana",
        "web",
    }
    processor = next(e for e in entities if e["metadata"]["name"] == "payment-processor")
    assert list(processor) == ["apiVersion", "kind", "metadata", "spec", "relations"]
    assert processor["metadata"]["namespace"] == "default"
    assert processor["metadata"]["annotations"]["backstage.io/managed-by-location"].startswith("file:/")
    assert {"type": "dependsOn", "targetRef": "resource:default/payments-db"} in processor["relations"]
    assert processor["relations"] == sorted(processor["relations"], key=lambda r: (r["type"], r["targetRef"]))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--kind", "component"], ["payment-processor", "web"]),
        (["--owner", "team-payments"], ["payment-processor", "payments-db"]),
        (["--owner", "user:ana"], ["web"]),
        (["--lifecycle", "experimental"], ["web"]),
        (["--tag", "pci-dss"], ["payment-processor"]),
        (["--search", "paymnts"], ["payments-db", "team-payments", "payment-processor"]),
        (["--kind", "Resource", "--search", "pay"], ["payments-db"]),
    ],
)
def test_list_filters(capsys, catalog_dir, filters, expected):
    status, out, _ = run(capsys, "--catalog", str(catalog_dir), "catalog", "list", *filters, "--json")
    assert status == 0
    assert [e["metadata"]["name"] for e in json.loads(out)] == expected


def test_list_prints_a_readable_table(capsys, catalog_dir):
    status, out, err = run(capsys, "--catalog", str(catalog_dir), "catalog", "list")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split() == ["KIND", "NAME", "OWNER", "LIFECYCLE", "SYSTEM", "TAGS"]
    assert any(row.split()[:4] == ["Component", "payment-processor", "team-payments", "production"] for row in rows)
    assert "5 of 5 entities" in err


def test_show_json_and_human(capsys, catalog_dir):
    status, out, _ = run(capsys, "--catalog", str(catalog_dir), "catalog", "show", "payment-processor", "--json")
    assert status == 0 and json.loads(out)["metadata"]["title"] == "Payment Processor"

    status, out, _ = run(
        capsys, "--catalog", str(catalog_dir), "catalog", "show", "component:default/Payment-Processor"
    )
    assert status == 0
    assert "Payment Processor" in out and "Depends on" in out
    assert "component:gone  (missing)" in out
    assert "Payments Team" in out and "ana@example.com" in out  # the owner card with members


def test_unknown_ref_is_a_one_line_error(capsys, catalog_dir):
    status, out, err = run(capsys, "--catalog", str(catalog_dir), "catalog", "show", "component:nope")
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and 'no entity "component:nope"' in err


def test_validate_reports_file_line_and_exit_status(capsys, write_catalog, monkeypatch):
    root = write_catalog(
        {
            "good.yaml": COMPONENTS,
            "bad.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: service\n",
        }
    )
    monkeypatch.chdir(root)
    status, out, err = run(capsys, "validate", "good.yaml")
    assert (status, out) == (0, "")
    assert "0 problems; 5 valid entities in 1 file" in err

    status, out, _ = run(capsys, "validate", "good.yaml", "bad.yaml")
    assert status == 1
    assert out.splitlines() == [
        "bad.yaml:5: component:default/x: /spec must have required property 'lifecycle'",
        "bad.yaml:5: component:default/x: /spec must have required property 'owner'",
    ]
    status, out, _ = run(capsys, "validate", "bad.yaml", "--json")
    assert status == 1
    assert json.loads(out)[0] == {
        "path": "bad.yaml",
        "line": 5,
        "message": "/spec must have required property 'lifecycle'",
        "rule": "kind",
        "entity": "component:default/x",
        "severity": "error",
    }


def test_validate_a_missing_path(capsys, tmp_path):
    status, out, _ = run(capsys, "validate", str(tmp_path / "missing.yaml"))
    assert status == 1 and "no such file or directory" in out


def test_module_entry_point_runs_headless(catalog_dir):
    result = subprocess.run(
        [sys.executable, "-m", "idp_tui", "--catalog", str(catalog_dir), "catalog", "show", "web", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["owner"] == "user:ana"


def test_a_catalog_path_that_does_not_exist_is_a_one_line_error(capsys, tmp_path):
    status, out, err = run(capsys, "--catalog", str(tmp_path / "nope"), "catalog", "list")
    assert (status, out) == (2, "")
    assert err == f"idp-tui: catalog {tmp_path / 'nope'}: no such file or directory\n"


def test_the_tuis_options_are_read_without_loading_every_command(catalog_dir):
    # Every command's module would load before the TUI's first frame (a sixth of its time); a plain
    # `idp-tui --catalog DIR` needs none of them. (Piped, the TUI says what to run instead and returns.)
    script = (
        "import sys; from idp_tui.cli import main; status = main(['--catalog', sys.argv[1], '--read-only']); "
        "print(status, sorted(m for m in sys.modules if m.startswith('idp_tui.commands')), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(catalog_dir)], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.startswith("idp-tui: stdout is not a terminal")
    assert result.stderr.strip() == "0 []"


def test_options_then_a_command_mistakes_and_help_still_read_by_the_whole_parser(capsys, catalog_dir):
    status, out, _ = run(capsys, "--catalog", str(catalog_dir), "--read-only", "catalog", "list", "--json")
    assert status == 0 and {e["metadata"]["name"] for e in json.loads(out)} >= {"web", "ana"}
    with pytest.raises(SystemExit):
        main(["--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "COMMAND" in capsys.readouterr().out  # the commands are listed, as before
