"""The demo's golden paths end to end through ``idp-tui scaffold``: real git repositories, registered entities."""

from __future__ import annotations

import json
import subprocess

import pytest

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.cli import main
from idp_tui.golden.forms import build_form, initial_values
from idp_tui.golden.template import templates_in
from idp_tui.resources import demo_catalog_path

DEMO_VALUES = {
    "template:default/microservice-golden-path": {
        "name": "invoice-svc",
        "description": "Renders invoices",
        "owner": "group:default/team-payments",
        "system": "system:default/checkout-platform",
        "language": "python",
        "repoUrl": "github.com?owner=myorg&repo=invoice-svc",
    },
    "template:default/documentation-site": {
        "name": "handbook",
        "owner": "group:default/team-platform",
        "repoUrl": "github.com?owner=myorg&repo=handbook",
    },
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def assignments(values: dict[str, str]) -> list[str]:
    return [item for key, value in values.items() for item in ("--set", f"{key}={value}")]


def demo_templates():
    return templates_in(LocalCatalogSource([demo_catalog_path()], use_cache=False).load().entities)


def test_every_demo_template_has_values_here_and_a_form():
    templates = demo_templates()
    assert {t.key for t in templates} == set(DEMO_VALUES)
    for template in templates:
        form = build_form(list(template.parameter_pages), title=template.title)
        assert form.pages and all(page.fields(initial_values(form)) for page in form.pages)


@pytest.mark.parametrize("template_key", sorted(DEMO_VALUES))
def test_each_demo_template_runs_end_to_end_and_registers_its_entity(capsys, tmp_path, template_key):
    values = DEMO_VALUES[template_key]
    root = tmp_path / "repos"
    status, out, err = run(
        capsys, "scaffold", template_key, *assignments(values), "--publish-root", str(root), "--json"
    )
    result = json.loads(out)
    assert status == 0, (result, err)
    assert result["status"] == "completed"
    assert all(step["status"] == "completed" for step in result["steps"])
    repository = root / "github.com" / "myorg" / values["name"]
    assert (repository / ".git").is_dir()
    log = subprocess.run(["git", "-C", str(repository), "log", "--format=%s"], capture_output=True, text=True)
    assert log.stdout.strip() == "initial commit"
    status, out, _ = run(capsys, "catalog", "show", values["name"], "--json")
    assert status == 0
    assert json.loads(out)["metadata"]["name"] == values["name"]


def test_the_articles_template_fills_the_chosen_language_skeleton(capsys, tmp_path):
    values = {**DEMO_VALUES["template:default/microservice-golden-path"], "language": "go"}
    root = tmp_path / "repos"
    status, out, err = run(
        capsys, "scaffold", "microservice-golden-path", *assignments(values), "--publish-root", str(root)
    )
    assert status == 0, err
    repository = root / "github.com/myorg/invoice-svc"
    branch = subprocess.run(["git", "-C", str(repository), "branch", "--show-current"], capture_output=True, text=True)
    assert branch.stdout.strip() == "main"  # the template asks for defaultBranch: main
    assert (repository / "main.go").is_file() and (repository / "go.mod").is_file()
    assert "invoice-svc" in (repository / "go.mod").read_text()
    assert "${{" not in (repository / "catalog-info.yaml").read_text()
    assert "Open in catalog: component:default/invoice-svc" in out
    # The Vault step provisioned the service's secrets home in the demo Vault (through hvac), seen by `secrets`.
    status, out, _ = run(capsys, "secrets", "invoice-svc", "--json")
    listing = json.loads(out)
    assert status == 0 and (listing["mount"], listing["path"]) == ("secret", "team-payments/invoice-svc")
    assert [key["name"] for key in listing["keys"]] == ["placeholder"]
    assert "team-payments-invoice-svc" in listing["readers"]


def test_running_again_fails_clearly_and_changes_nothing(capsys, tmp_path):
    values = DEMO_VALUES["template:default/microservice-golden-path"]
    args = ["scaffold", "microservice-golden-path", *assignments(values), "--publish-root", str(tmp_path)]
    assert run(capsys, *args)[0] == 0
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    status, _, err = run(capsys, *args)
    assert status == 1
    assert "Repository github.com/myorg/invoice-svc already exists" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_failing_step_leaves_no_repository_entry_or_output_directory(capsys, tmp_path):
    # An entity name that already exists in the demo catalog: registration fails after publishing was staged.
    values = {**DEMO_VALUES["template:default/microservice-golden-path"], "name": "payment-processor"}
    values["repoUrl"] = "github.com?owner=myorg&repo=payment-processor"
    output = tmp_path / "out"
    status, _, err = run(
        capsys,
        "scaffold",
        "microservice-golden-path",
        *assignments(values),
        "--publish-root",
        str(tmp_path / "repos"),
        "--output",
        str(output),
    )
    assert status == 1
    assert "register" in err and "already exists" in err
    assert not (tmp_path / "repos").exists() and not output.exists()


def test_bad_values_exit_2_with_every_problem_listed_by_field(capsys):
    status, _, err = run(
        capsys, "scaffold", "microservice-golden-path", "--set", "name=Not Valid!", "--set", "language=cobol"
    )
    assert status == 2
    assert "name" in err and "language" in err and "owner" in err and "repoUrl" in err


def test_dry_run_json_lists_steps_and_files_and_writes_nothing(capsys, tmp_path):
    values = DEMO_VALUES["template:default/microservice-golden-path"]
    status, out, _ = run(
        capsys,
        "scaffold",
        "microservice-golden-path",
        *assignments(values),
        "--dry-run",
        "--json",
        "--publish-root",
        str(tmp_path),
    )
    assert status == 0
    result = json.loads(out)
    files = {item["path"]: item["content"] for item in result["files"]}
    assert "app/main.py" in files and "invoice-svc" in files["catalog-info.yaml"]
    assert [step["id"] for step in result["plan"]] == ["fetch", "publish", "register", "vault"]
    assert list(tmp_path.iterdir()) == []


def test_output_writes_the_final_workspace(capsys, tmp_path):
    values = DEMO_VALUES["template:default/documentation-site"]
    output = tmp_path / "site"
    status, _, err = run(
        capsys,
        "scaffold",
        "documentation-site",
        *assignments(values),
        "--output",
        str(output),
        "--publish-root",
        str(tmp_path / "repos"),
    )
    assert status == 0, err
    assert (output / "mkdocs.yml").is_file()


def test_validate_reports_template_problems_with_file_and_line(capsys, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "apiVersion: scaffolder.backstage.io/v1beta3\n"
        "kind: Template\n"
        "metadata:\n"
        "  name: broken\n"
        "spec:\n"
        "  owner: team-a\n"
        "  type: service\n"
        "  parameters:\n"
        "    - properties:\n"
        "        name:\n"
        "          type: strng\n"
        "  steps:\n"
        "    - id: a\n"
        "      action: fetch:template\n"
        "      input:\n"
        "        url: ${{ parameters.name | }}\n"
        "    - id: a\n"
        "      action: acme:deploy\n"
    )
    status, out, _ = run(capsys, "validate", str(template))
    assert status == 1
    lines = out.splitlines()
    assert any(":11:" in line and "not a valid JSON Schema" in line for line in lines), out
    assert any(":16:" in line and "template syntax error" in line for line in lines), out
    assert any(":17:" in line and "duplicate step id 'a'" in line for line in lines), out
    assert any(":18:" in line and "acme:deploy" in line for line in lines), out
