"""``idp-tui validate --policy``: manifests and catalog files judged by Rego and ValidatingAdmissionPolicies, beside
the catalog's own validation: text lines, ``--json``, ``--format sarif`` (checked against the SARIF 2.1.0 schema),
exit statuses and ``--fail-on-warn``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from idp_tui.cli import main
from idp_tui.commands.validate import NO_POLICY
from idp_tui.resources import demo_catalog_path

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "policies" / "sarif-schema-2.1.0.json").read_text())
DEMO_POLICIES = str(demo_catalog_path() / "policies")

PINNED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app.kubernetes.io/name: api, backstage.io/kubernetes-id: api}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: api}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: api, backstage.io/kubernetes-id: api}
    spec:
      containers:
        - name: api
          image: ghcr.io/myorg/api:1.4.2
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
          resources: {limits: {cpu: 500m, memory: 256Mi}}
          securityContext: {runAsNonRoot: true}
"""
LATEST = PINNED.replace("ghcr.io/myorg/api:1.4.2", "ghcr.io/myorg/api:latest")
NO_PROBE = PINNED.replace("          readinessProbe: {httpGet: {path: /readyz, port: 8080}}\n", "")
CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: broken
spec: {type: service, owner: team-a}
"""
BROKEN_REGO = """\
package main
import rego.v1

deny_broken contains msg if {
    msg :=
}
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in {"pinned.yaml": PINNED, "latest.yaml": LATEST, "no-probe.yaml": NO_PROBE}.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "catalog-info.yaml").write_text(CATALOG)
    return tmp_path


def test_exit_status_follows_denials_and_warnings_fail_only_when_asked(capsys, files):
    assert run(capsys, "validate", "--policy", DEMO_POLICIES, "pinned.yaml")[:2] == (0, "")
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "latest.yaml")
    assert status == 1
    assert out.splitlines() == [
        "latest.yaml:1: DENY idp-pinned-images: pin a version (a tag other than latest, or a digest) for: api "
        "(ghcr.io/myorg/api:latest)",
        "latest.yaml:1: DENY main.deny_latest_image: container api: image ghcr.io/myorg/api:latest uses :latest; "
        "pin a version",
    ]
    assert err.strip() == "policies: 2 denied, 0 warnings in 1 document"  # a manifest is no catalog file
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "no-probe.yaml")
    assert status == 0 and out.splitlines() == [
        "no-probe.yaml:1: WARN idp-readiness-probe: no readinessProbe in: api",
        "no-probe.yaml:1: WARN main.warn_missing_readiness_probe: container api has no readinessProbe",
    ]
    assert run(capsys, "validate", "--policy", DEMO_POLICIES, "--fail-on-warn", "no-probe.yaml")[0] == 1
    assert run(capsys, "validate", "--policy", DEMO_POLICIES, "--fail-on-warn", "pinned.yaml")[0] == 0


def test_json_lists_every_result_with_its_document(capsys, files):
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "latest.yaml", "pinned.yaml")
    assert status == 1
    results = json.loads(out)
    assert [set(result) for result in results] == [
        {"file", "line", "document", "kind", "name", "policy", "engine", "action", "message"},
        {"file", "line", "document", "kind", "name", "policy", "engine", "action", "message", "reason"},
    ]
    assert results[0] == {
        "file": "latest.yaml",
        "line": 1,
        "document": 0,
        "kind": "Deployment",
        "name": "api",
        "policy": "main.deny_latest_image",
        "engine": "rego",
        "action": "deny",
        "message": "container api: image ghcr.io/myorg/api:latest uses :latest; pin a version",
    }
    assert (results[1]["policy"], results[1]["engine"], results[1]["reason"]) == ("idp-pinned-images", "vap", "Invalid")


def test_catalog_files_get_the_catalogs_checks_and_the_catalog_guardrails_together(capsys, files):
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "catalog", "pinned.yaml")
    assert status == 1
    assert out.splitlines() == [
        "catalog/catalog-info.yaml:1: DENY catalog.deny_production_without_oncall: production service checkout has "
        "no pagerduty.com/service-id annotation (or opsgenie.com/team)",
        "catalog/catalog-info.yaml:11: component:default/broken: /spec must have required property 'lifecycle'",
    ]
    assert err.strip() == "1 problem; 1 valid entity in 1 file; policies: 1 denied, 0 warnings in 3 documents"
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "catalog")
    assert [(r["line"], r["engine"], r["policy"], r["action"], r["document"]) for r in json.loads(out)] == [
        (1, "rego", "catalog.deny_production_without_oncall", "deny", 0),
        (11, "backstage", "backstage.kind", "deny", None),
    ]


def test_without_policy_validate_is_unchanged_and_a_named_manifest_is_judged_only_by_the_policies(capsys, files):
    # Without --policy: the catalog's checks alone, in their own JSON shape (a Deployment is an unknown kind there).
    status, out, _ = run(capsys, "validate", "--json", "latest.yaml")
    assert status == 1 and json.loads(out)[0]["rule"] == "kind"
    assert "No processor recognized the entity deployment:default/api" in json.loads(out)[0]["message"]
    # With it, the manifest is the policies' to judge: no "unknown kind", only their verdicts.
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "pinned.yaml")
    assert (status, json.loads(out)) == (0, [])


def test_sarif_is_valid_and_carries_policy_catalog_and_unreadable_findings(capsys, files):
    (files / "bad.yaml").write_text("kind: Deployment\nmetadata: {name: [unclosed\n")
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "--format", "sarif", "catalog", "latest.yaml",
                         "bad.yaml")  # fmt: skip
    assert status == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [sarif_run] = log["runs"]
    found = [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in sarif_run["results"]
    ]  # fmt: skip
    assert found == [
        ("catalog.deny_production_without_oncall", "error", "catalog/catalog-info.yaml", 1),
        ("backstage.kind", "error", "catalog/catalog-info.yaml", 11),
        ("main.deny_latest_image", "error", "latest.yaml", 1),
        ("idp-pinned-images", "error", "latest.yaml", 1),
    ]
    rules = {rule["id"]: rule["shortDescription"]["text"] for rule in sarif_run["tool"]["driver"]["rules"]}
    assert rules["backstage.kind"] == "Backstage catalog rule backstage.kind"
    assert rules["main.deny_latest_image"].startswith("Rego rule main.deny_latest_image (")
    assert sarif_run["invocations"][0]["toolConfigurationNotifications"] == []
    [unreadable] = sarif_run["invocations"][0]["toolExecutionNotifications"]
    assert unreadable["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.yaml"
    assert unreadable["message"]["text"].startswith("invalid YAML: ")
    # Without --policy, the catalog's own findings make a valid log too.
    status, out, _ = run(capsys, "validate", "--format", "sarif", "catalog")
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads(out))
    assert status == 1 and [r["ruleId"] for r in json.loads(out)["runs"][0]["results"]] == ["backstage.kind"]


def test_a_broken_policy_is_said_once_and_the_others_still_judge(capsys, files):
    (files / "broken.rego").write_text(BROKEN_REGO)
    status, out, err = run(capsys, "validate", "--policy", "broken.rego", "--policy", DEMO_POLICIES, "latest.yaml")
    assert status == 1
    assert err.count("broken.rego") == 1
    assert "idp-tui: broken.rego:5: policy main: Rego: Invalid assignment operator" in err.splitlines()
    assert "latest.yaml:1: DENY main.deny_latest_image" in out
    # In SARIF, as a notification about the tool's configuration (code scanning shows it beside the results).
    _, out, _ = run(capsys, "validate", "--policy", "broken.rego", "--policy", DEMO_POLICIES, "latest.yaml",
                    "--format", "sarif")  # fmt: skip
    [notification] = json.loads(out)["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert notification["message"]["text"].endswith("Rego: Invalid assignment operator")
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.rego"


def test_an_unreadable_manifest_fails_validation_and_is_said_once(capsys, files):
    (files / "bad.yaml").write_text("kind: Deployment\nmetadata: {name: [unclosed\n")
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "bad.yaml", "pinned.yaml")
    assert status == 1
    assert out.splitlines() == [
        "bad.yaml:3: invalid YAML: YAML error: did not find expected ',' or ']' (while parsing a flow sequence), "
        "column 1"
    ]


def test_a_document_of_too_many_nodes_is_refused_at_its_line_and_the_other_files_are_judged(capsys, files):
    """Composed whole, 8 MiB of ``{a,a,…}`` took 2.7 GB and two minutes in the reader: a document is refused once
    it holds more than ``limits.MAX_DOCUMENT_NODES`` nodes (here a list of 500,001 numbers, 1 MB)."""
    (files / "huge.yaml").write_text("kind: ConfigMap\n---\ndata: [" + "0," * 500_000 + "0]\n")
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "huge.yaml", "latest.yaml")
    assert status == 1
    assert (
        "huge.yaml:2: invalid YAML: YAML error: the document holds more than 500,000 values, lists and maps: "
        "idp-tui reads no larger document"
    ) in err
    assert {(result["file"], result["action"]) for result in json.loads(out)} == {("latest.yaml", "deny")}


def test_manifests_in_a_folder_are_found_whatever_the_case_of_their_suffix(capsys, files):
    (files / "k8s").mkdir()
    (files / "k8s" / "deployment.YAML").write_text(LATEST)
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "k8s")
    assert status == 1
    assert {(result["file"], result["action"]) for result in json.loads(out)} == {("k8s/deployment.YAML", "deny")}


def test_hostile_strings_reach_both_engines_as_written_and_leave_every_policy_standing(capsys, files):
    """A quote, a newline and a lone surrogate (which a JSON file can hold and UTF-8 cannot) in a manifest: each
    engine judges it (the surrogate as U+FFFD, as Kubernetes' JSON decoder reads it), the JSON output stays
    valid, and no policy is lost for the next file."""
    hostile = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "w\ud800", "annotations": {"note": 'say "hi"\nbye\\'}},
        "spec": {"template": {"spec": {"containers": [{"name": 'c"\ud800', "image": "nginx:latest"}]}}},
    }
    (files / "a-hostile.json").write_text(json.dumps(hostile))
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "--json", "a-hostile.json", "latest.yaml")
    assert status == 1
    assert "policy" not in err.replace("policies: ", "")  # no policy failed or was left out
    out.encode("utf-8")  # as stdout writes it: the surrogate of the name is a \u escape, not a raw character
    pinned = [(r["file"], r["name"], r["engine"], r["message"]) for r in json.loads(out) if "pin" in r["message"]]
    assert sorted(pinned) == sorted([
        ("a-hostile.json", "w\ud800", "vap", 'pin a version (a tag other than latest, or a digest) for: c"\ufffd '
         "(nginx:latest)"),
        ("a-hostile.json", "w\ud800", "rego", 'container c"\ufffd: image nginx:latest uses :latest; pin a version'),
        ("latest.yaml", "api", "vap", "pin a version (a tag other than latest, or a digest) for: api "
         "(ghcr.io/myorg/api:latest)"),
        ("latest.yaml", "api", "rego", "container api: image ghcr.io/myorg/api:latest uses :latest; pin a version"),
    ])  # fmt: skip


def test_json_that_kubernetes_would_not_read_is_a_clear_error_and_the_other_files_are_judged(capsys, files):
    """Python's JSON reader takes NaN, 1e400, and nesting until its recursion limit: each such file is said
    with its line and reason (never a traceback), and the files beside it are still judged."""
    hostile = {
        "a-deep.json": "[" * 100_000 + "]" * 100_000,
        "b-nested.json": '{"a":' * 150 + "1" + "}" * 150,
        "c-infinite.json": '{"kind": "Deployment", "spec": {"replicas": 1e400}}',
    }
    for name, text in hostile.items():
        (files / name).write_text(text)
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, *hostile, "latest.yaml")
    assert status == 1
    assert [line.split(": YAML error: ")[1] for line in out.splitlines() if "invalid YAML" in line] == [
        "exceeded maximum nesting depth (while increasing flow level), column 1001",
        "the document is nested deeper than 100 levels, column 501",
        "!!float 1e400 is not a finite number (JSON has no NaN or infinity), column 45",
    ]
    assert [line.split(":")[0] for line in out.splitlines() if "invalid YAML" in line] == list(hostile)
    assert sum("latest.yaml:1: DENY" in line for line in out.splitlines()) == 2
    assert err.strip() == "policies: 2 denied, 0 warnings in 1 document"


def test_a_symlink_in_a_folder_is_read_only_when_it_stays_inside_the_folder(capsys, files, tmp_path):
    """A policy can echo its input: a symlink in the validated folder leading to a file outside it (here a stand-in
    for /etc/passwd) is not read; one leading to a file inside it is read as itself."""
    secret = tmp_path / "outside.yaml"
    secret.write_text("password: hunter2-outside\n")
    folder = files / "manifests"
    folder.mkdir()
    (folder / "latest.yaml").write_text(LATEST)
    (folder / "again.yaml").symlink_to(folder / "latest.yaml")
    (folder / "stolen.yaml").symlink_to(secret)
    echo = files / "echo"
    echo.mkdir()
    (echo / "echo.rego").write_text('package main\nimport rego.v1\n\ndeny contains sprintf("%v", [input]) if true\n')
    status, out, err = run(capsys, "validate", "--policy", str(echo), "--json", "manifests")
    assert status == 1
    assert "hunter2" not in out + err
    judged = {result["file"] for result in json.loads(out) if result["engine"] == "rego"}
    assert sorted(judged) == ["manifests/again.yaml", "manifests/latest.yaml"]


def test_a_file_of_more_documents_than_the_cap_is_read_up_to_it_and_says_so(capsys, files, monkeypatch):
    """8 MB of one-line documents is 900,000 of them (135 s and 1.1 GB before the cap): here the cap is 5."""
    from idp_tui.policy import reading

    monkeypatch.setattr(reading, "MAX_DOCUMENTS_PER_FILE", 5)
    (files / "many.yaml").write_text("".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n" for n in range(8)))
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "many.yaml")
    assert status == 1  # what was not read fails the check, as an unreadable file does
    assert out.splitlines() == ["many.yaml:16: more than 5 documents: the rest are not read"]
    assert err.strip() == "policies: 0 denied, 0 warnings in 5 documents"


def test_the_yaml_errors_of_one_file_are_said_up_to_a_number(capsys, files, monkeypatch):
    """100 files of 10,000 broken documents each printed a million lines: each file says at most a few (here 3)."""
    from idp_tui.policy import reading

    monkeypatch.setattr(reading, "MAX_ERRORS_PER_FILE", 3)
    (files / "broken.yaml").write_text("---\n[\n" * 5)
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "broken.yaml")
    assert status == 1
    lines = out.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "broken.yaml:3",
        "broken.yaml:5",
        "broken.yaml:7",
        "broken.yaml:9",
    ]
    assert lines[-1] == "broken.yaml:9: … and 2 more YAML errors"


def configmaps(count: int, first: int = 0) -> str:
    return "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n" for n in range(first, first + count))


def test_the_files_together_are_read_up_to_a_number_of_documents_and_say_where_reading_stopped(
    capsys, files, monkeypatch
):
    """100,000 files of 10,000 documents each would be a billion documents: the files together are capped too
    (100,000 documents; here 6)."""
    from idp_tui.policy import reading

    monkeypatch.setattr(reading, "MAX_DOCUMENTS", 6)
    folder = files / "inputs"
    folder.mkdir()
    (folder / "a.yaml").write_text(configmaps(4))
    (folder / "b.yaml").write_text(configmaps(4, first=4))
    (folder / "c.yaml").write_text(configmaps(1, first=8))
    (folder / "d.yaml").write_text(configmaps(1, first=9))
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "inputs")
    assert status == 1  # what was not read fails the check, as an unreadable file does
    assert out.splitlines() == [
        "inputs/b.yaml:7: the files hold 6 documents here: the rest are not read",
        "inputs/c.yaml:1: not read, nor the 1 file after it: the files before hold 6 documents already",
    ]
    assert err.strip().endswith("policies: 0 denied, 0 warnings in 6 documents")


def test_the_files_together_are_read_up_to_a_number_of_bytes(capsys, files, monkeypatch):
    from idp_tui.bounded_read import MIB
    from idp_tui.policy import reading

    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 2 * MIB)
    folder = files / "inputs"
    folder.mkdir()
    for name in "abcd":  # a little over 1 MiB each: a and b are read, and then the budget is spent
        (folder / f"{name}.yaml").write_text(f"kind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{x: {'y' * MIB}}}\n")
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "inputs")
    assert status == 1
    assert out.splitlines() == [
        "inputs/c.yaml:1: not read, nor the 1 file after it: the files before hold 2 MiB already"
    ]
    assert err.strip().endswith("policies: 0 denied, 0 warnings in 2 documents")


TEAM_REGO = """\
package team.k8s
import rego.v1

deny_unowned contains msg if {
    not input.metadata.labels.team
    msg := sprintf("%s %s has no team label", [input.kind, input.metadata.name])
}
"""
ENTITY_REGO = """\
package team.catalog
import rego.v1

warn_no_description contains "no description" if not input.metadata.description
"""


def test_namespace_flags_choose_the_rego_packages_as_conftest_does(capsys, files):
    policies = files / "team-policies"
    policies.mkdir()
    (policies / "k8s.rego").write_text(TEAM_REGO)
    (policies / "entity.rego").write_text(ENTITY_REGO)
    both = ("--policy", DEMO_POLICIES, "--policy", str(policies))

    def denials(*flags: str) -> set[str]:
        status, out, _ = run(capsys, "validate", *both, *flags, "pinned.yaml", "--json")
        assert status == (1 if json.loads(out) else 0)
        return {result["policy"] for result in json.loads(out)}

    assert denials() == set()  # main's rules: the pinned Deployment complies; team.k8s is not chosen
    assert denials("--namespace", "team.k8s") == {"team.k8s.deny_unowned"}
    assert denials("--namespace", "team.k8s", "--namespace", "main") == {"team.k8s.deny_unowned"}
    assert run(capsys, "validate", *both, "--namespace", "team.k8s", "latest.yaml", "--json")[0] == 1
    every = denials("--all-namespaces")
    assert "team.k8s.deny_unowned" in every and "team.catalog.warn_no_description" in every

    # Only the team's policies, with the default package: main would judge nothing, and that is said.
    status, _, err = run(capsys, "validate", "--policy", str(policies), "latest.yaml", "--fail-on-problem")
    assert "no Rego package main among the policies (they declare team.catalog, team.k8s)" in err and status == 1
    status, out, _ = run(capsys, "validate", *both, "--catalog-namespace", "team.catalog", "catalog", "--json")
    entity_rules = {r["policy"] for r in json.loads(out) if r["engine"] == "rego"}
    assert entity_rules == {"team.catalog.warn_no_description"}  # the demo's package catalog is not chosen


def test_a_chosen_package_no_policy_declares_is_said_so_a_typo_does_not_pass_silently(capsys, files):
    status, out, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "--namespace", "mian", "latest.yaml")
    assert "no Rego package mian among the policies (they declare catalog, main): nothing is judged by it" in err
    assert "main.deny_latest_image" not in out and "idp-pinned-images" in out  # the admission policies still judge
    assert status == 1
    _, _, err = run(capsys, "validate", "--policy", DEMO_POLICIES, "--namespace", "main", "latest.yaml")
    assert "no Rego package" not in err


def test_a_policy_path_that_is_not_there_or_holds_no_policy_fails_rather_than_pass_everything(capsys, files):
    (files / "empty").mkdir()
    status, out, err = run(capsys, "validate", "--policy", "nowhere", "--policy", DEMO_POLICIES, "pinned.yaml")
    assert status == 1 and out == ""  # the demo's policies pass the pinned Deployment, but a path was mistyped
    assert "idp-tui: nowhere:1: policy: no such file or directory" in err.splitlines()
    status, _, err = run(capsys, "validate", "--policy", "empty", "pinned.yaml")
    assert status == 1 and f"idp-tui: {NO_POLICY}" in err.splitlines()
    assert run(capsys, "validate", "--policy", DEMO_POLICIES, "pinned.yaml")[0] == 0


EXCEPTED_REGO = """\
package main
import rego.v1

deny_latest contains "the image uses latest" if endswith(input.spec.template.spec.containers[0].image, ":latest")

# The load test pins nothing on purpose (OPS-42).
exception contains ["latest"] if input.metadata.name == "load-test"
"""


def test_an_excepted_verdict_is_shown_as_such_in_every_format_and_fails_nothing(capsys, files):
    (files / "excepted.rego").write_text(EXCEPTED_REGO)
    (files / "load-test.yaml").write_text(LATEST.replace("name: api\n", "name: load-test\n", 1))
    status, out, err = run(capsys, "validate", "--policy", "excepted.rego", "load-test.yaml")
    assert status == 0
    assert out == "load-test.yaml:1: EXCEPTION main.deny_latest: the image uses latest\n"
    assert err == "policies: 0 denied, 0 warnings, 1 excepted in 1 document\n"
    status, out, _ = run(capsys, "validate", "--policy", "excepted.rego", "load-test.yaml", "latest.yaml", "--json")
    assert status == 1 and [(r["name"], r["action"]) for r in json.loads(out)] == [
        ("api", "deny"),
        ("load-test", "exception"),
    ]
    _, out, _ = run(capsys, "validate", "--policy", "excepted.rego", "load-test.yaml", "--format", "sarif")
    log = json.loads(out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [result] = log["runs"][0]["results"]
    assert result["level"] == "note" and result["suppressions"][0]["kind"] == "inSource"
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"] == "error"


def test_fail_on_problem_fails_when_a_policy_could_not_judge_a_document(capsys, files):
    (files / "broken.rego").write_text(BROKEN_REGO)
    both = ("--policy", "broken.rego", "--policy", DEMO_POLICIES, "pinned.yaml")
    assert run(capsys, "validate", *both)[0] == 0  # the pinned Deployment passes every policy that loads
    assert run(capsys, "validate", *both, "--fail-on-problem")[0] == 1
    # A namespace selector whose Namespace is not among the documents: that policy cannot judge the Deployment.
    (files / "selector.yaml").write_text(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: prod}\n"
        "spec:\n  matchConstraints:\n    namespaceSelector: {matchLabels: {env: prod}}\n    resourceRules:\n"
        "    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n"
        "  validations: [{expression: 'false'}]\n---\n"
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: prod}\n"
        "spec: {policyName: prod, validationActions: [Deny]}\n"
    )
    (files / "in-shop.yaml").write_text(PINNED.replace("  name: api\n", "  name: api\n  namespace: shop\n", 1))
    status, _, err = run(capsys, "validate", "--policy", "selector.yaml", "in-shop.yaml", "--fail-on-problem")
    assert status == 1 and "cannot evaluate: the namespaceSelector needs the labels of namespace 'shop'" in err
    assert run(capsys, "validate", "--policy", "selector.yaml", "in-shop.yaml")[0] == 0
    assert run(capsys, "validate", "--policy", DEMO_POLICIES, "pinned.yaml", "--fail-on-problem")[0] == 0


SLOW_REGO = """\
package main
import rego.v1

deny_slow contains "never" if {
    some i in numbers.range(1, 100000)
    some j in numbers.range(1, 100000)
    i * j == -1
}
"""


def test_time_budget_ends_the_check_and_says_what_was_not_judged(capsys, files):
    (files / "slow.rego").write_text(SLOW_REGO)
    status, out, err = run(
        capsys,
        "validate",
        "--policy",
        "slow.rego",
        "--time-budget",
        "1",
        "--fail-on-problem",
        "pinned.yaml",
        "latest.yaml",
    )
    assert status == 1 and out == ""
    assert err.splitlines()[0] == (
        "idp-tui: pinned.yaml:1: policy: not judged, nor the next: the check ran past its time budget (1 s)"
    )
    for wrong in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(SystemExit) as exited:
            main(["validate", "--policy", "slow.rego", "--time-budget", wrong, "pinned.yaml"])
        assert exited.value.code == 2
        assert f"not a number of seconds above 0: {wrong!r}" in capsys.readouterr().err


def test_a_manifest_with_a_yaml_merge_key_is_not_judged_and_fails_the_check(capsys, files):
    # kubectl merges `<<`; read as YAML 1.2 (as Backstage reads it) the rule would not see the image kubectl applies.
    (files / "merged.yaml").write_text(
        LATEST.replace(
            "          image: ghcr.io/myorg/api:latest\n", "          <<: {image: ghcr.io/myorg/api:latest}\n"
        )
    )
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "merged.yaml")
    assert status == 1
    assert out.splitlines() == [
        "merged.yaml:15: a YAML merge key (<<): kubectl merges it, and idp-tui reads YAML 1.2 (as Backstage does), "
        "where it is a plain key; the policies would not judge what the cluster gets"
    ]


def test_a_document_the_policies_could_not_read_fails_even_where_the_catalog_only_warns(capsys, files):
    # The catalog warns of the step's action (idp-tui lacks it) at the very line of the merge key the policies
    # refuse: the warning fails nothing, so the refusal must be said, and fail the check.
    (files / "template.yaml").write_text(
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\nspec:\n"
        "  owner: team-a\n  type: service\n  steps:\n"
        "    - {id: a, name: A, action: 'acme:deploy', <<: {input: {x: 1}}}\n"
    )
    status, out, _ = run(capsys, "validate", "--policy", DEMO_POLICIES, "template.yaml")
    assert status == 1
    assert [line.split(": ", 1)[1][:40] for line in out.splitlines()] == [
        "a YAML merge key (<<): kubectl merges it",
        "template:default/t: warning: action 'acm",
    ]


def test_the_time_budget_help_names_the_default(capsys):
    from idp_tui.policy.models import DEFAULT_TIME_BUDGET

    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert f"(default {DEFAULT_TIME_BUDGET:g})" in " ".join(capsys.readouterr().out.split())
