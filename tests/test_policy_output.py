"""What `idp-tui validate --policy` will print: text lines, SARIF 2.1.0 (checked against the OASIS schema), exit
statuses; and reading the files to validate (every document of a YAML stream with its line)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from idp_tui.policy import (
    evaluate_files,
    format_input_problem,
    format_problem,
    format_result,
    load_policies,
    to_sarif,
)
from idp_tui.policy.models import PolicyProblem, PolicyResult

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "policies" / "sarif-schema-2.1.0.json").read_text())

REGO = """\
package main
import rego.v1

deny_latest contains msg if {
    some c in input.spec.template.spec.containers
    endswith(c.image, ":latest")
    msg := sprintf("container %s uses :latest", [c.name])
}

warn_replicas contains "one replica" if input.spec.replicas == 1
"""

BROKEN_REGO = """\
package main
import rego.v1

deny_broken contains msg if {
    msg :=
}
"""

VAP = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: audit-names
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expression: "object.metadata.name.startsWith('svc-')"
      messageExpression: "'name ' + object.metadata.name + ' has no svc- prefix'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: audit-names}
spec: {policyName: audit-names, validationActions: [Audit]}
"""

MANIFESTS = """\
# two Deployments and a Service
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - {name: web, image: "nginx:latest"}
---
---
apiVersion: v1
kind: Service
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-api
spec:
  replicas: 3
  template:
    spec:
      containers:
        - {name: api, image: "ghcr.io/myorg/api:1.4.2"}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("validate")
    (root / "policies").mkdir()
    (root / "policies" / "k8s.rego").write_text(REGO)
    (root / "policies" / "admission.yaml").write_text(VAP)
    (root / "policies" / "broken.rego").write_text(BROKEN_REGO)
    (root / "deploy").mkdir()
    (root / "deploy" / "app.yaml").write_text(MANIFESTS)
    (root / "deploy" / "broken.yaml").write_text("kind: Deployment\nmetadata: {name: [unclosed\n---\nkind: ConfigMap\n")
    (root / "deploy" / "values.json").write_text(json.dumps({"kind": "Deployment", "spec": {"replicas": 1}}))
    (root / "deploy" / "with space.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n"
    )
    (root / "deploy" / ".hidden").mkdir()
    (root / "deploy" / ".hidden" / "skipped.yaml").write_text("spec: {replicas: 1}\n")
    (root / "deploy" / "notes.txt").write_text("not a manifest")
    return root


@pytest.fixture(scope="module")
def evaluated(workspace):
    policy_set = load_policies([workspace / "policies"])
    evaluation = evaluate_files(policy_set, [workspace / "deploy"])
    yield policy_set, evaluation
    policy_set.close()


def test_every_document_is_evaluated_at_its_own_line(evaluated, workspace):
    _, evaluation = evaluated
    deploy = workspace / "deploy"
    lines = [format_result(result) for result in evaluation.results]
    assert lines == [
        f"{deploy}/app.yaml:2: DENY main.deny_latest: container web uses :latest",
        f"{deploy}/app.yaml:2: WARN main.warn_replicas: one replica",
        f"{deploy}/app.yaml:2: AUDIT audit-names: name web has no svc- prefix",
        f"{deploy}/values.json:1: WARN main.warn_replicas: one replica",
        f"{deploy}/with space.yaml:1: WARN main.warn_replicas: one replica",
        f"{deploy}/with space.yaml:1: AUDIT audit-names: name x has no svc- prefix",
    ]
    assert [(r.document_index, r.kind, r.name) for r in evaluation.results][:3] == [(0, "Deployment", "web")] * 3
    assert evaluation.documents == 6  # app.yaml's three (the empty one is none), broken.yaml's ConfigMap, json, x
    assert [format_input_problem(problem) for problem in evaluation.input_problems] == [
        f"{deploy}/broken.yaml:3: invalid YAML: YAML error: did not find expected ',' or ']' (while parsing a flow "
        "sequence), column 1"
    ]
    assert [format_problem(problem) for problem in evaluation.problems] == [
        f"{workspace}/policies/broken.rego:5: policy main: Rego: Invalid assignment operator"
    ]


def test_exit_status_is_one_when_anything_is_denied_and_warnings_fail_only_when_asked(evaluated):
    _, evaluation = evaluated
    assert evaluation.exit_status() == 1
    passing = type(evaluation)(tuple(r for r in evaluation.results if r.action != "deny"), evaluation.problems)
    assert (passing.exit_status(), passing.exit_status(fail_on_warn=True)) == (0, 1)
    audited = type(evaluation)(tuple(r for r in evaluation.results if r.action == "audit"))
    assert (audited.exit_status(), audited.exit_status(fail_on_warn=True)) == (0, 0)


def test_sarif_is_valid_sarif_2_1_0_with_relative_locations(evaluated, workspace):
    policy_set, evaluation = evaluated
    log = to_sarif(evaluation.results, evaluation.problems, base=workspace, policy_set=policy_set)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    json.dumps(log)  # plain JSON
    [run] = log["runs"]
    assert log["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "idp-tui"
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["main.deny_latest", "main.warn_replicas", "audit-names"]
    assert rules[0]["shortDescription"]["text"] == f"Rego rule main.deny_latest ({workspace}/policies/k8s.rego:4)"
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("main.deny_latest", "error"),
        ("main.warn_replicas", "warning"),
        ("audit-names", "note"),
        ("main.warn_replicas", "warning"),
        ("main.warn_replicas", "warning"),
        ("audit-names", "note"),
    ]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    assert [(loc["artifactLocation"]["uri"], loc["region"]["startLine"]) for loc in locations] == [
        ("deploy/app.yaml", 2),
        ("deploy/app.yaml", 2),
        ("deploy/app.yaml", 2),
        ("deploy/values.json", 1),
        ("deploy/with%20space.yaml", 1),
        ("deploy/with%20space.yaml", 1),
    ]
    assert {loc["artifactLocation"]["uriBaseId"] for loc in locations} == {"%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == workspace.as_uri() + "/"
    [notification] = run["invocations"][0]["toolConfigurationNotifications"]
    assert notification["level"] == "error"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "policies/broken.rego"
    assert notification["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_sarif_of_files_outside_the_base_uses_absolute_file_uris_and_stays_valid(tmp_path):
    result = PolicyResult(
        "/elsewhere/x y.yaml", 3, 0, "Pod", "p", "no-root", "vap", "deny", "runs as root", "Forbidden"
    )
    problem = PolicyProblem("/srv/bundle.tar.gz!/main/k8s.rego", 9, "main", "Rego: Invalid assignment operator")
    log = to_sarif([result], [problem], base=tmp_path)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [run] = log["runs"]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///elsewhere/x%20y.yaml"}
    assert urlsplit(artifact["uri"]).scheme == "file"
    assert run["results"][0]["properties"]["reason"] == "Forbidden"
    location = run["invocations"][0]["toolConfigurationNotifications"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "file:///srv/bundle.tar.gz"
    assert location["message"]["text"] == "in the bundle, at main/k8s.rego"


def test_a_file_name_that_is_not_utf8_is_a_percent_encoded_uri(tmp_path):
    # Python reads the name's bytes as surrogates (x\udc80.yaml): quoting them as text raised UnicodeEncodeError.
    name = os.fsdecode(str(tmp_path).encode() + b"/x\x80.yaml")
    result = PolicyResult(name, 1, 0, "Pod", "p", "main.deny", "rego", "deny", "no")
    log = to_sarif([result], [], base=tmp_path)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uri"] == "x%80.yaml"


def test_empty_results_are_a_valid_sarif_log(tmp_path):
    log = to_sarif([], [], base=tmp_path)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_text_lines_carry_no_escape_sequences_from_policy_messages():
    result = PolicyResult("a.yaml", 1, 0, "Pod", "p", "main.deny", "rego", "deny", "evil\x1b]52;c;aGk=\x07\nnext line")
    line = format_result(result)
    assert line == "a.yaml:1: DENY main.deny: evil next line"
    problem = PolicyProblem("p.rego", 2, "", "bad \x1b[2J")
    assert format_problem(problem) == "p.rego:2: policy: bad "


def test_the_engines_run_in_the_worker_never_in_the_calling_process(workspace):
    import subprocess
    import sys

    code = textwrap.dedent(
        f"""
        import sys
        from idp_tui.policy import load_policies, evaluate_files, to_sarif, format_result
        with load_policies([{str(workspace / "policies")!r}]) as policy_set:
            evaluation = evaluate_files(policy_set, [{str(workspace / "deploy")!r}])
            assert evaluation.results and to_sarif(evaluation.results, evaluation.problems)
        print(sorted(m for m in ("regopy", "cel", "textual", "idp_tui.session", "idp_tui.render") if m in sys.modules))
        """
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
