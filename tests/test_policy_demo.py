"""The demo bundle (demo_catalog/policies): its Rego rules and its ValidatingAdmissionPolicies state the same
guardrails, so on the same manifests they must flag the same documents with the same action."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path

import pytest

from idp_tui.policy import evaluate_documents, evaluate_files, load_policies
from idp_tui.resources import demo_catalog_path

MANIFESTS = Path(__file__).parent / "fixtures" / "policies" / "manifests"

# Rego rule -> the ValidatingAdmissionPolicy stating the same guardrail.
SAME_RULE = {
    "main.deny_latest_image": "idp-pinned-images",
    "main.deny_missing_limits": "idp-resource-limits",
    "main.deny_run_as_root": "idp-run-as-non-root",
    "main.warn_missing_readiness_probe": "idp-readiness-probe",
    "main.deny_production_replicas": "idp-production-replicas",
    "main.warn_missing_labels": "idp-backstage-labels",
}


@pytest.fixture(scope="module")
def demo():
    policy_set = load_policies([demo_catalog_path() / "policies"])
    yield policy_set
    policy_set.close()


def flagged(evaluation) -> dict[tuple[str, int], dict[str, set[tuple[str, str]]]]:
    """Per document: the guardrails each engine flagged, as (VAP name, action)."""
    found: dict[tuple[str, int], dict[str, set[tuple[str, str]]]] = {}
    for result in evaluation.results:
        if result.policy.startswith("catalog."):
            continue
        rule = SAME_RULE.get(result.policy, result.policy)
        engines = found.setdefault((Path(result.file).name, result.document_index), {"rego": set(), "vap": set()})
        engines[result.engine].add((rule, result.action))
    return found


def test_the_demo_bundle_loads_whole(demo):
    assert demo.problems == ()
    assert sorted(rule.policy for rule in demo.rego_rules) == sorted(
        [*SAME_RULE, "catalog.deny_production_without_oncall", "catalog.deny_tier1_without_runbook"]
    )
    assert sorted(policy.name for policy in demo.policies) == sorted(SAME_RULE.values())
    assert sorted(binding.name for binding in demo.bindings) == sorted(SAME_RULE.values())
    assert demo.rego_data == {"idp": {"min_production_replicas": 2}}


EXPECTED = {
    ("compliant.yaml", 0): set(),
    ("compliant.yaml", 1): set(),
    ("compliant.yaml", 2): set(),
    ("images.yaml", 0): {("idp-pinned-images", "deny")},
    ("images.yaml", 1): {("idp-pinned-images", "deny")},
    ("images.yaml", 2): {("idp-pinned-images", "deny")},
    ("resources.yaml", 0): {("idp-resource-limits", "deny")},
    ("resources.yaml", 1): {("idp-resource-limits", "deny")},
    ("resources.yaml", 2): {("idp-resource-limits", "deny")},
    ("security.yaml", 0): {("idp-run-as-non-root", "deny")},
    ("security.yaml", 1): {("idp-run-as-non-root", "deny")},
    ("security.yaml", 2): set(),
    ("operations.yaml", 0): {("idp-readiness-probe", "warn")},
    ("operations.yaml", 1): {("idp-production-replicas", "deny")},
    ("operations.yaml", 2): {("idp-production-replicas", "deny")},
    ("operations.yaml", 3): set(),
    ("operations.yaml", 4): {("idp-backstage-labels", "warn")},
    ("operations.yaml", 5): {("idp-backstage-labels", "warn")},
    ("operations.yaml", 6): set(),
    ("operations.yaml", 7): {
        ("idp-pinned-images", "deny"),
        ("idp-resource-limits", "deny"),
        ("idp-run-as-non-root", "deny"),
    },
    ("operations.yaml", 8): set(),
    ("operations.yaml", 9): {
        ("idp-pinned-images", "deny"),
        ("idp-resource-limits", "deny"),
        ("idp-run-as-non-root", "deny"),
    },
}


def test_rego_and_admission_policies_agree_on_every_fixture_manifest(demo):
    evaluation = evaluate_files(demo, [MANIFESTS])
    assert evaluation.problems == () and evaluation.input_problems == ()
    assert evaluation.documents == len(EXPECTED)
    found = flagged(evaluation)
    for document, expected in EXPECTED.items():
        engines = found.get(document, {"rego": set(), "vap": set()})
        assert engines["rego"] == engines["vap"] == expected, document


def test_the_messages_name_what_to_fix_in_both_engines(demo):
    evaluation = evaluate_files(demo, [MANIFESTS / "images.yaml"])
    assert [(r.name, r.engine, r.message) for r in evaluation.results] == [
        ("latest", "rego", "container web: image nginx:latest uses :latest; pin a version"),
        ("latest", "vap", "pin a version (a tag other than latest, or a digest) for: web (nginx:latest)"),
        (
            "untagged",
            "rego",
            "container web: image registry.example.com:5000/team/web has no tag; pin a version "
            "(a tag other than latest, or a digest)",
        ),
        (
            "untagged",
            "vap",
            "pin a version (a tag other than latest, or a digest) for: web (registry.example.com:5000/team/web)",
        ),
        (
            "init-latest",
            "rego",
            "container setup: image alpine has no tag; pin a version (a tag other than latest, or a digest)",
        ),
        ("init-latest", "vap", "pin a version (a tag other than latest, or a digest) for: setup (alpine)"),
    ]


GOOD = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "svc",
        "labels": {"app.kubernetes.io/name": "svc", "backstage.io/kubernetes-id": "svc", "environment": "production"},
    },
    "spec": {
        "replicas": 2,
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "svc", "backstage.io/kubernetes-id": "svc"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "ghcr.io/myorg/svc:1.2.3",
                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                        "securityContext": {"runAsNonRoot": True},
                    }
                ]
            },
        },
    },
}


KIND_MUTATIONS = frozenset({"statefulset", "daemonset", "replicaset", "job", "cron-job", "rollout"})


def _mutations():
    """Each a way to break (or keep) one guardrail; combined in pairs and triples below."""

    def template(doc):
        spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
        return spec["template"]

    def container(doc):
        return template(doc)["spec"]["containers"][0]

    def into_cron_job(doc):
        doc.update(kind="CronJob", apiVersion="batch/v1")
        doc["spec"] = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": doc["spec"]["template"]}}}

    return {
        "latest": lambda d: container(d).update(image="nginx:latest"),
        "untagged": lambda d: container(d).update(image="nginx"),
        "digest": lambda d: container(d).update(image="nginx@sha256:" + "a" * 64),
        "no-cpu": lambda d: container(d)["resources"]["limits"].pop("cpu", None),
        "no-memory": lambda d: container(d)["resources"]["limits"].pop("memory", None),
        "root": lambda d: container(d).update(securityContext={"runAsNonRoot": False}),
        "pod-non-root": lambda d: (
            container(d).pop("securityContext", None),
            template(d)["spec"].update(securityContext={"runAsNonRoot": True}),
        ),
        "no-probe": lambda d: container(d).pop("readinessProbe", None),
        "one-replica": lambda d: d["spec"].update(replicas=1),
        "no-replicas": lambda d: d["spec"].pop("replicas", None),
        "staging": lambda d: d["metadata"]["labels"].update(environment="staging"),
        "no-name-label": lambda d: d["metadata"]["labels"].pop("app.kubernetes.io/name", None),
        "no-pod-id-label": lambda d: template(d)["metadata"]["labels"].pop("backstage.io/kubernetes-id", None),
        "statefulset": lambda d: d.update(kind="StatefulSet"),
        "daemonset": lambda d: (d.update(kind="DaemonSet"), d["spec"].pop("replicas", None)),
        "replicaset": lambda d: d.update(kind="ReplicaSet"),
        "job": lambda d: (d.update(kind="Job", apiVersion="batch/v1"), d["spec"].pop("replicas", None)),
        "cron-job": into_cron_job,
        "rollout": lambda d: d.update(kind="Rollout", apiVersion="argoproj.io/v1alpha1"),
        "sidecar": lambda d: template(d)["spec"]["containers"].append(
            dict(copy.deepcopy(container(d)), name="sidecar", image="envoyproxy/envoy:latest")
        ),
    }


def test_rego_and_admission_policies_agree_on_generated_variants(demo):
    mutations = _mutations()
    documents = []
    for size in (1, 2, 3):
        for combination in itertools.combinations(sorted(mutations), size):
            if len(KIND_MUTATIONS.intersection(combination)) > 1:
                continue  # a document is of one kind
            document = copy.deepcopy(GOOD)
            for name in combination:
                mutations[name](document)
            documents.append(("+".join(combination), 1, document))
    evaluation = evaluate_documents(demo, documents)
    assert evaluation.problems == ()
    found = flagged(evaluation)
    disagreements = {
        documents[index][0]: engines
        for (_, index), engines in ((key, value) for key, value in found.items())
        if engines["rego"] != engines["vap"]
    }
    assert disagreements == {}
    # Not vacuous: most variants break something, and every guardrail fires somewhere.
    fired = {rule for engines in found.values() for rule, _ in engines["vap"]}
    assert fired == set(SAME_RULE.values())
    assert len(documents) > 600 and len(found) > len(documents) // 2


def test_the_golden_path_skeletons_are_judged_alike_by_both_engines(demo, tmp_path):
    skeletons = sorted((demo_catalog_path() / "templates").glob("*/skeleton/*/k8s/*.yaml"))
    assert skeletons
    # As shipped, the demo's golden paths comply (the image tag is the form's, pinned by default).
    assert flagged(evaluate_files(demo, skeletons)) == {}
    # With :latest typed and the CPU limit taken out, both engines flag the same documents alike.
    broken = []
    for index, skeleton in enumerate(skeletons):
        text = skeleton.read_text().replace("${{ values.imageTag }}", "latest")
        text = re.sub(r"(limits:\n)\s+cpu: .*\n", r"\1", text)
        broken.append(tmp_path / f"{index}-{skeleton.name}")
        broken[-1].write_text(text)
    found = flagged(evaluate_files(demo, broken))
    assert len(found) == len(skeletons)
    for engines in found.values():
        assert engines["rego"] == engines["vap"]
        assert {("idp-pinned-images", "deny"), ("idp-resource-limits", "deny")} <= engines["rego"]


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
  name: search
  annotations: {opsgenie.com/team: team-search}
  labels: {tier: tier-1}
  links:
    - {url: "https://wiki.example.com/search", title: Docs}
spec: {type: service, lifecycle: production, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart
  annotations: {pagerduty.com/service-id: P123}
  tags: [tier-1]
  links:
    - {url: "https://wiki.example.com/runbooks/cart"}
spec: {type: service, lifecycle: production, owner: team-c}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: sdk
spec: {type: library, lifecycle: production, owner: team-d}
"""


def test_the_catalog_rules_on_entities(demo, tmp_path):
    (tmp_path / "catalog-info.yaml").write_text(CATALOG)
    evaluation = evaluate_files(demo, [tmp_path])
    assert [(r.name, r.policy, r.action, r.message) for r in evaluation.results] == [
        (
            "checkout",
            "catalog.deny_production_without_oncall",
            "deny",
            "production service checkout has no pagerduty.com/service-id annotation (or opsgenie.com/team)",
        ),
        (
            "search",
            "catalog.deny_tier1_without_runbook",
            "deny",
            "tier-1 search needs a runbook link (a link whose title or URL says runbook)",
        ),
    ]


def test_the_demo_catalog_itself_keeps_its_guardrails(demo):
    root = demo_catalog_path()
    entity_files = [
        path
        for path in sorted(root.rglob("*.yaml"))
        if "skeleton" not in path.parts and "apiVersion: backstage.io/" in path.read_text()
    ]
    evaluation = evaluate_files(demo, entity_files)
    assert evaluation.input_problems == ()
    assert [r for r in evaluation.results if r.policy.startswith("catalog.")] == []
    assert evaluation.documents > 80
