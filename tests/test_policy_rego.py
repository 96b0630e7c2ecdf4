"""Rego policies on regopy with conftest's conventions: rules, messages, namespaces, data, OPA bundles, broken
policies, what a policy may not reach (network, environment) and the time each document may take."""

from __future__ import annotations

import gzip
import http.server
import io
import json
import os
import tarfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from idp_tui.policy import bundle as bundle_module
from idp_tui.policy import (
    evaluate_documents,
    evaluate_entities,
    evaluate_files,
    format_problem,
    load_policies,
)
from idp_tui.policy.runtime import WorkerProcess

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:latest"}]}}},
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def problem_heads(policy_set) -> list[tuple[str, int, str]]:
    """Each load problem's file name, line and message up to its first comma, sorted."""
    return sorted((Path(p.file).name, p.line, p.message.split(",")[0]) for p in policy_set.problems)


def verdicts(evaluation) -> list[tuple[str, str, str]]:
    return [(result.policy, result.action, result.message) for result in evaluation.results]


@pytest.fixture
def policies(tmp_path):
    """Load a policy folder written from ``{name: text}``; every policy set is closed after the test."""
    loaded = []

    def load(files: dict[str, str], **options):
        policy_set = load_policies([write(tmp_path / "policies", files)], **options)
        loaded.append(policy_set)
        return policy_set

    yield load
    for policy_set in loaded:
        policy_set.close()


def test_deny_violation_warn_and_their_prefixed_forms_are_the_rules(policies):
    policy_set = policies(
        {
            "rules.rego": """
                package main
                import rego.v1

                deny contains "plain deny" if input.kind == "Deployment"
                violation contains "a violation" if input.kind == "Deployment"
                warn contains "plain warn" if input.kind == "Deployment"
                deny_latest contains "prefixed deny" if input.kind == "Deployment"
                violation_labels contains "prefixed violation" if input.kind == "Deployment"
                warn_probe contains "prefixed warn" if input.kind == "Deployment"
                denylist contains "not a conftest rule" if true
                warning contains "not a conftest rule either" if true
            """
        }
    )
    assert policy_set.problems == ()
    evaluation = evaluate_documents(policy_set, [("deploy.yaml", 3, DEPLOYMENT), ("svc.yaml", 1, {"kind": "Service"})])
    assert sorted(verdicts(evaluation)) == [
        ("main.deny", "deny", "plain deny"),
        ("main.deny_latest", "deny", "prefixed deny"),
        ("main.violation", "deny", "a violation"),
        ("main.violation_labels", "deny", "prefixed violation"),
        ("main.warn", "warn", "plain warn"),
        ("main.warn_probe", "warn", "prefixed warn"),
    ]
    assert {(r.file, r.line, r.document_index, r.kind, r.name, r.engine) for r in evaluation.results} == {
        ("deploy.yaml", 3, 0, "Deployment", "web", "rego")
    }
    assert evaluation.exit_status() == 1


def test_a_message_may_be_an_object_with_msg_and_a_value_of_another_shape_is_a_problem_said_once(policies):
    policy_set = policies(
        {
            "objects.rego": """
                package main
                import rego.v1

                violation contains {"msg": sprintf("%s has no owner", [input.metadata.name]), "details": {"x": 1}} if {
                    not input.metadata.labels.owner
                }
                deny_number contains 3 if true
                deny_number contains "a message after the number" if true
            """
        }
    )
    documents = [("a.yaml", 1, {"metadata": {"name": "a"}}), ("b.yaml", 1, {"metadata": {"name": "b"}})]
    evaluation = evaluate_documents(policy_set, documents)
    assert verdicts(evaluation) == [
        ("main.violation", "deny", "a has no owner"),
        ("main.deny_number", "deny", "a message after the number"),  # the stray 3 sorts first and hides nothing
        ("main.violation", "deny", "b has no owner"),
        ("main.deny_number", "deny", "a message after the number"),
    ]
    wrong = [p for p in evaluation.problems if p.policy == "main.deny_number"]
    assert len(wrong) == 1
    assert "yields 3, which is neither a message string nor an object with msg" in wrong[0].message


def test_namespaces_choose_the_packages_whose_rules_apply(policies):
    files = {
        "main.rego": 'package main\nimport rego.v1\ndeny contains "from main" if true\n',
        "security.rego": 'package k8s.security\nimport rego.v1\ndeny contains "from k8s.security" if true\n',
    }
    document = [("x.yaml", 1, {"kind": "Pod"})]
    by_namespace = {}
    for option in ("main", "k8s.security", ("main", "k8s.security"), "*"):
        policy_set = policies(files, rego_namespace=option)
        by_namespace[option] = sorted(message for _, _, message in verdicts(evaluate_documents(policy_set, document)))
    assert by_namespace == {
        "main": ["from main"],
        "k8s.security": ["from k8s.security"],
        ("main", "k8s.security"): ["from k8s.security", "from main"],
        "*": ["from k8s.security", "from main"],
    }


def test_a_package_split_over_files_is_one_set_of_rules_and_helpers_in_a_library_are_reachable(policies):
    policy_set = policies(
        {
            "a.rego": 'package main\nimport rego.v1\nimport data.lib.k8s\ndeny contains "a" if k8s.is_deployment(input)\n',
            "b.rego": 'package main\nimport rego.v1\ndeny contains "b" if input.kind == "Deployment"\n',
            "lib/k8s.rego": 'package lib.k8s\nimport rego.v1\nis_deployment(obj) if obj.kind == "Deployment"\n',
        }
    )
    assert policy_set.problems == ()
    evaluation = evaluate_documents(policy_set, [("d.yaml", 1, DEPLOYMENT)])
    assert sorted(verdicts(evaluation)) == [("main.deny", "deny", "a"), ("main.deny", "deny", "b")]


def test_policy_data_that_is_not_json_data_is_a_problem_and_the_rules_still_apply(policies):
    """A data file nested past the limit (Python's reader would recurse until it breaks) or holding NaN is said
    once with its reason; the rules still judge, without that data."""
    policy_set = policies(
        {
            "deep/data.json": '{"x": ' + "[" * 5000 + "]" * 5000 + "}",
            "nan/data.json": '{"minimum": NaN}',
            "policy.rego": """
                package main
                import rego.v1

                deny contains "no minimum" if not data.nan.minimum
            """,
        }
    )
    assert [(Path(p.file).name, p.line, p.message) for p in policy_set.problems] == [
        ("data.json", 1, "invalid JSON: nested deeper than 100 levels"),
        ("data.json", 1, "invalid JSON: NaN is not JSON"),
    ]
    assert verdicts(evaluate_documents(policy_set, [("d.yaml", 1, DEPLOYMENT)])) == [
        ("main.deny", "deny", "no minimum")
    ]


def test_a_rule_saying_too_much_is_cut_to_what_a_person_reads(policies):
    """250 messages from one rule: the first 100 and a count of the rest. A 6,000-character message: its first
    2,000 characters and its length."""
    policy_set = policies(
        {
            "policy.rego": """
                package main
                import rego.v1

                deny contains sprintf("item %d", [i]) if some i in numbers.range(1, 250)
                warn contains concat("", [x | some _ in numbers.range(1, 3000); x := "ab"]) if true
            """,
        }
    )
    results = evaluate_documents(policy_set, [("d.yaml", 1, DEPLOYMENT)]).results
    denies = [result.message for result in results if result.policy == "main.deny"]
    assert len(denies) == 101 and denies[-1] == "… and 150 more messages from this policy"
    assert all(message.startswith("item ") for message in denies[:100])
    (warning,) = [result.message for result in results if result.policy == "main.warn"]
    assert warning == "ab" * 1000 + "… (6,000 characters)"


def test_data_files_are_mounted_at_their_folder(policies):
    policy_set = policies(
        {
            "data.json": '{"registries": {"allowed": ["ghcr.io/myorg"]}}',
            "teams/data.yaml": "owners:\n  - team-a\n",
            "policy.rego": """
                package main
                import rego.v1

                deny contains msg if {
                    some c in input.spec.template.spec.containers
                    not startswith(c.image, data.registries.allowed[0])
                    msg := sprintf("%s is not from an allowed registry", [c.image])
                }
                warn contains msg if {
                    not input.metadata.labels.owner in data.teams.owners
                    msg := "owner is not a known team"
                }
            """,
        }
    )
    assert policy_set.problems == ()
    evaluation = evaluate_documents(policy_set, [("d.yaml", 1, DEPLOYMENT)])
    assert verdicts(evaluation) == [
        ("main.deny", "deny", "nginx:latest is not from an allowed registry"),
        ("main.warn", "warn", "owner is not a known team"),
    ]


def test_every_json_value_reaches_rego_as_itself(policies):
    """The document is handed to Rego node by node: each type, nesting, empty objects and lists, and text beyond
    ASCII arrive as written (each rule compares one value with what it should be)."""
    policy_set = policies(
        {
            "policy.rego": r"""
                package main
                import rego.v1

                warn contains "text" if input.values.text == "café ☕ \"quoted\""
                warn contains "integer" if input.values.integer == -42
                warn contains "real" if input.values.real == 2.5
                warn contains "true" if input.values.yes == true
                warn contains "false" if input.values.no == false
                warn contains "null" if input.values.nothing == null
                warn contains "list" if input.values.list == [1, "two", [3.5, null], {}]
                warn contains "object" if input.values.object == {"nested": {"deeper": [true]}, "empty": []}
                warn contains "types" if {
                    [type_name(x) | some x in input.values.list] == ["number", "string", "array", "object"]
                }
                warn contains "count" if count(input.values) == 8
            """,
        }
    )
    values = {
        "text": 'café ☕ "quoted"',
        "integer": -42,
        "real": 2.5,
        "yes": True,
        "no": False,
        "nothing": None,
        "list": [1, "two", [3.5, None], {}],
        "object": {"nested": {"deeper": [True]}, "empty": []},
    }
    evaluation = evaluate_documents(policy_set, [("values.json", 1, {"values": values})])
    assert evaluation.problems == ()
    assert sorted(result.message for result in evaluation.results) == sorted(
        ["text", "integer", "real", "true", "false", "null", "list", "object", "types", "count"]
    )


def make_bundle(path: Path, members: dict[str, bytes | str], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


def test_an_opa_bundle_loads_its_modules_and_data_within_its_roots(tmp_path):
    bundle = make_bundle(
        tmp_path / "bundle.tar.gz",
        {
            ".manifest": json.dumps({"revision": "7", "roots": ["main", "config"]}),
            "config/data.json": json.dumps({"max_replicas": 3}),
            "policies/replicas.rego": textwrap.dedent(
                """
                package main
                import rego.v1

                deny_replicas contains msg if {
                    input.spec.replicas > data.config.max_replicas
                    msg := sprintf("%d replicas is more than %d", [input.spec.replicas, data.config.max_replicas])
                }
                """
            ),
            "policies/replicas_test.rego": "package main\ntest_x if false\n",  # an OPA test: not a policy
            "other/outside.rego": 'package other\nimport rego.v1\ndeny contains "outside" if true\n',
        },
    )
    with load_policies([bundle], rego_namespace="*") as policy_set:
        assert [module.file for module in policy_set.rego_modules] == [f"{bundle}!/policies/replicas.rego"]
        assert [(p.file, p.message) for p in policy_set.problems] == [
            (f"{bundle}!/other/outside.rego", "package other is outside the bundle's roots")
        ]
        evaluation = evaluate_documents(policy_set, [("d.yaml", 1, {"kind": "Deployment", "spec": {"replicas": 5}})])
        assert verdicts(evaluation) == [("main.deny_replicas", "deny", "5 replicas is more than 3")]


def test_a_bundle_with_no_policy_or_data_is_said_not_silently_empty(tmp_path):
    """An archive of zeros reads as a tar with no members; one of only a README has nothing to apply either: both
    are said, or a CI job would pass with no policy at all."""
    readme = make_bundle(tmp_path / "readme.tar.gz", {"README.md": "# policies\n"})
    zeros = tmp_path / "zeros.tar.gz"
    with gzip.open(zeros, "wb") as archive:
        archive.write(bytes(64 * 1024))
    for bundle in (readme, zeros):
        policy_set = load_policies([bundle])
        assert [(p.file, p.message) for p in policy_set.problems] == [
            (str(bundle), "OPA bundle with no policy or data file (.rego, data.json or data.yaml)")
        ]
        policy_set.close()


def test_a_bundle_member_that_could_leave_the_bundle_is_refused_and_the_others_load(tmp_path):
    bundle = make_bundle(
        tmp_path / "b.tgz",
        {
            "../escape.rego": 'package main\nimport rego.v1\ndeny contains "escaped" if true\n',
            "/absolute.rego": 'package main\nimport rego.v1\ndeny contains "absolute" if true\n',
            "ok.rego": 'package main\nimport rego.v1\ndeny contains "inside" if true\n',
        },
        links={"link.rego": "/etc/passwd"},
    )
    with load_policies([bundle]) as policy_set:
        refused = sorted(problem.message for problem in policy_set.problems)
        assert refused == [
            "not read: its path points outside the bundle",
            "not read: not a regular file (links and devices are not read)",
        ]
        assert [module.file for module in policy_set.rego_modules] == [f"{bundle}!/absolute.rego", f"{bundle}!/ok.rego"]
        evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {})])
        assert sorted(message for _, _, message in verdicts(evaluation)) == ["absolute", "inside"]
    assert not (tmp_path.parent / "escape.rego").exists()


def test_a_bundle_that_unpacks_past_its_budget_is_refused_quickly(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_UNPACKED_BYTES", 1024 * 1024)
    bomb = make_bundle(tmp_path / "bomb.tar.gz", {"zeros/data.json": b" " * (6 * 1024 * 1024)})
    started = time.monotonic()
    policy_set = load_policies([bomb])
    assert time.monotonic() - started < 5
    assert [(p.file, p.message) for p in policy_set.problems] == [
        (str(bomb), "OPA bundle not loaded: it unpacks to more than 1 MiB")
    ]
    assert policy_set.is_empty


def test_a_broken_module_is_reported_once_at_its_line_and_every_other_policy_applies(policies):
    policy_set = policies(
        {
            "broken.rego": "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n",
            "good.rego": 'package main\nimport rego.v1\nwarn_good contains "still applied" if true\n',
            "nopackage.rego": "import rego.v1\n",
        }
    )
    broken = [format_problem(p).split(": ", 1)[0] + ": " + p.message for p in policy_set.problems]
    assert sorted(broken) == [
        f"{policy_set.sources[0]}/broken.rego:5: Rego: Invalid assignment operator",
        f"{policy_set.sources[0]}/nopackage.rego:1: Rego: the module has no package declaration",
    ]
    documents = [(f"{n}.yaml", 1, {}) for n in range(3)]
    evaluation = evaluate_documents(policy_set, documents)
    assert verdicts(evaluation) == [("main.warn_good", "warn", "still applied")] * 3
    assert len([p for p in evaluation.problems if p.file.endswith("broken.rego")]) == 1
    assert evaluation.exit_status() == 0 and evaluation.exit_status(fail_on_warn=True) == 1


def test_a_rule_a_broken_module_also_defines_still_applies_from_the_modules_that_compile(policies):
    # `deny` in package main is one policy written in two files: the broken file loses only its own part of it.
    policy_set = policies(
        {
            "a_broken.rego": "package main\nimport rego.v1\ndeny contains msg if {\n  input.kind ==\n}\n",
            "b_good.rego": 'package main\nimport rego.v1\ndeny contains "no deployments" if input.kind == "Deployment"\n',
        }
    )
    assert [(Path(p.file).name, p.line) for p in policy_set.problems] == [("a_broken.rego", 4)]
    evaluation = evaluate_documents(policy_set, [("d.yaml", 1, DEPLOYMENT)])
    assert verdicts(evaluation) == [("main.deny", "deny", "no deployments")]
    assert evaluation.exit_status() == 1


def test_modules_that_do_not_compile_together_lose_only_the_later_one(policies):
    policy_set = policies(
        {
            "a.rego": 'package main\nimport rego.v1\ndeny contains "a set rule" if true\n',
            "b.rego": "package main\nimport rego.v1\ndeny := 1\n",
        }
    )
    assert [(Path(p.file).name, p.policy) for p in policy_set.problems] == [("b.rego", "main")]
    assert "does not compile together" in policy_set.problems[0].message
    assert verdicts(evaluate_documents(policy_set, [("x.yaml", 1, {})])) == [("main.deny", "deny", "a set rule")]


def test_a_rule_failing_at_run_time_is_a_problem_for_that_rule_and_the_others_apply(policies):
    policy_set = policies(
        {
            "a.rego": "package main\nimport rego.v1\ndeny_missing contains m if { m := nope(1) }\n",
            "b.rego": 'package main\nimport rego.v1\ndeny_ok contains "fine" if true\n',
        }
    )
    evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {}), ("y.yaml", 1, {})])
    assert verdicts(evaluation) == [("main.deny_ok", "deny", "fine")] * 2
    [problem] = [p for p in evaluation.problems if p.policy == "main.deny_missing"]
    assert "Function not found: nope" in problem.message and problem.line == 3


def test_a_document_that_makes_a_rule_fail_goes_unjudged_by_it_and_the_documents_after_it_are_judged(policies):
    # level has two values when a and b differ: Rego's conflict, found at run time on that document only.
    policy_set = policies(
        {
            "levels.rego": """\
                package main
                import rego.v1

                level := input.a if input.a
                level := input.b if input.b

                deny_level contains sprintf("level %v", [level]) if level
                deny_other contains "judged" if input.a
            """
        }
    )
    documents = [(f"{n}.yaml", 1, {"a": a, "b": b}) for n, (a, b) in enumerate([("x", "x"), (1, 2), ("y", "y")])]
    evaluation = evaluate_documents(policy_set, documents)
    assert [(r.file, r.policy, r.message) for r in evaluation.results] == [
        ("0.yaml", "main.deny_level", "level x"),
        ("0.yaml", "main.deny_other", "judged"),
        ("1.yaml", "main.deny_other", "judged"),
        ("2.yaml", "main.deny_level", "level y"),  # the rule still judges after the document it failed on
        ("2.yaml", "main.deny_other", "judged"),
    ]
    [problem] = evaluation.problems
    assert (problem.policy, problem.line) == ("main.deny_level", 7)
    assert problem.message.endswith("; the rule does not judge a document where it fails")


def test_a_regular_expression_the_engine_cannot_read_is_said_instead_of_never_matching(policies):
    # Go's RE2 reads (?i); rego-cpp answers undefined, so this deny would never fire on nginx:LATEST.
    policy_set = policies(
        {
            "flags.rego": 'package main\nimport rego.v1\n\ndeny contains "latest" if {\n'
            "    regex.match(`(?i):latest$`, input.image)\n}\n",
            "plain.rego": 'package main\nimport rego.v1\ndeny_plain contains "tagless" if regex.match(`^[^:]+$`, input.image)\n',
        }
    )
    [problem] = policy_set.problems
    assert (Path(problem.file).name, problem.line, problem.policy) == ("flags.rego", 5, "main")
    assert problem.message == (
        "Rego: the regular expression '(?i):latest$' uses (?i), which regopy's regex engine lacks (it would answer "
        "undefined, or match otherwise than OPA, so the rule would not judge as written)"
    )
    evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {"image": "nginx"})])
    assert verdicts(evaluation) == [("main.deny_plain", "deny", "tagless")]


@pytest.mark.parametrize(
    ("written", "construct"),
    [
        ("regex.match(`\\Aab`, input.x)", "\\A"),  # rego-cpp: never matches; RE2: the start of the text
        ("regex.match(`ab\\z`, input.x)", "\\z"),
        ("regex.match(`\\Qa.b\\E`, input.x)", "\\Q"),
        ("regex.match(`a\\Cb`, input.x)", "\\C"),
        ("regex.match(`\\x41`, input.x)", "\\x"),
        ("regex.match(`[[:word:]]`, input.x)", "[[:word:]]"),  # rego-cpp: undefined
        ("regex.match(`[[:^alpha:]]`, input.x)", "[[:^alpha:]]"),
        ("regex.match(`a{,2}`, input.x)", "{,"),  # RE2: the literal text
        # Written other ways: in parentheses, as a template string without code, in a template_match template.
        ('regex.match(("(?i)ab"), input.x)', "(?i)"),
        ('regex.match($"(?i)ab", input.x)', "(?i)"),
        ("regex.match($`(?i)\\{ab`, input.x)", "(?i)"),
        ('regex.template_match("{(?i)ab}", input.x, "{", "}")', "(?i)"),
    ],
)
def test_each_pattern_the_engine_reads_otherwise_than_opa_is_said(policies, written, construct):
    policy_set = policies({"p.rego": f'package main\nimport rego.v1\ndeny contains "x" if {written}\n'})
    [problem] = policy_set.problems
    assert problem.line == 3
    assert f" uses {construct}, which regopy's regex engine lacks" in problem.message


def test_conftest_exceptions_except_the_named_rules_for_the_documents_they_match(policies):
    policy_set = policies(
        {
            "rules.rego": """\
                package main
                import rego.v1

                deny_root contains "runs as root" if input.root
                deny contains "plain deny" if input.root
                warn_labels contains "no labels" if not input.labels

                # The legacy agent needs root until it is rewritten; "" excepts the plain deny.
                exception contains ["root", ""] if input.name == "legacy-agent"
                exception contains ["labels"] if input.name == "legacy-agent"
            """,
            "other.rego": 'package other\nimport rego.v1\nexception contains ["root"] if true\n',
        }
    )
    documents = [("a.yaml", 1, {"name": "legacy-agent", "root": True}), ("b.yaml", 1, {"name": "web", "root": True})]
    evaluation = evaluate_documents(policy_set, documents)
    assert [(r.file, r.policy, r.action) for r in evaluation.results] == [
        ("a.yaml", "main.deny_root", "exception"),
        ("a.yaml", "main.deny", "exception"),
        ("a.yaml", "main.warn_labels", "exception"),
        ("b.yaml", "main.deny_root", "deny"),  # package other's exception excepts nothing in main
        ("b.yaml", "main.deny", "deny"),
        ("b.yaml", "main.warn_labels", "warn"),
    ]
    assert evaluation.problems == ()
    only_excepted = evaluate_documents(policy_set, documents[:1])
    assert not only_excepted.denied and only_excepted.exit_status(fail_on_warn=True) == 0


def test_a_rule_asked_on_its_own_after_a_runaway_is_still_excepted():
    # A runaway is found by asking each rule alone: the package's exception must come along.
    from idp_tui.policy.rego import Module, RegoEngine, Rule

    text = 'package main\nimport rego.v1\ndeny_root contains "root" if input.root\nexception contains ["root"] if input.a\n'
    rules = [Rule("main", "deny_root", "p.rego", 3), Rule("main", "exception", "p.rego", 4)]
    engine = RegoEngine([Module("p.rego", text, "main", rules, [], {})], {}, rules, [])
    assert engine.check() == []
    alone = {"main.deny_root"}
    assert engine.evaluate({"a": True, "root": True}, "manifest", only=alone) == (
        [("main.deny_root", "exception", "root")],
        [],
    )
    assert engine.evaluate({"a": False, "root": True}, "manifest", only=alone) == (
        [("main.deny_root", "deny", "root")],
        [],
    )


def test_only_a_pattern_the_engine_cannot_read_is_refused_not_text_that_looks_like_one(policies):
    policy_set = policies(
        {
            # An escaped backslash before "Pr", and "(?i)" in the subject of regex.replace (its pattern is second).
            "paths.rego": "package main\nimport rego.v1\n"
            'deny_program_files contains "program files" if regex.match(`^C:\\\\Program Files`, input.path)\n'
            'warn_spaces contains regex.replace("image (?i) is", `\\s+`, " ") if input.spaces\n',
            # A local value after `with … as` is an ordinary Rego test fixture, not a built-in.
            "fixtures.rego": "package tests\nimport rego.v1\n"
            'deny_plain contains "plain" if input.path == "x"\n'
            'test_plain if { item := {"spec": {"path": "x"}}; deny_plain with input as item.spec }\n',
        }
    )
    assert policy_set.problems == ()
    evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {"path": "D:", "spaces": True})])
    assert verdicts(evaluation) == [("main.warn_spaces", "warn", "image (?i) is")]


def test_modules_that_crash_the_engine_only_together_lose_the_later_one(policies):
    # rego-cpp stops the process on `with input as <ref>` of a rule that calls regex.match; each compiles alone.
    policy_set = policies(
        {
            "a_rules.rego": 'package main\nimport rego.v1\ndeny_c contains "on C" if regex.match(`^C`, input.path)\n',
            "b_tests.rego": "package main\nimport rego.v1\n"
            'test_c if { item := {"spec": {"path": "C"}}; deny_c with input as item.spec }\n',
        }
    )
    [problem] = policy_set.problems
    assert (Path(problem.file).name, problem.message) == (
        "b_tests.rego",
        "compiling it stopped idp-tui's policy worker (it crashed), together with the modules before it",
    )
    assert verdicts(evaluate_documents(policy_set, [("x.yaml", 1, {"path": "C:"})])) == [
        ("main.deny_c", "deny", "on C")
    ]


def test_an_exception_names_a_rule_as_conftest_does_each_prefix_trimmed_in_turn(policies):
    policy_set = policies(
        {
            "root.rego": "package main\nimport rego.v1\n"
            'violation_deny_root contains "root" if input.root\n'
            'exception contains ["root"] if input.excepted\n'
        }
    )
    evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {"root": True, "excepted": True})])
    assert [(r.policy, r.action) for r in evaluation.results] == [("main.violation_deny_root", "exception")]


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        CountingHandler.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


def test_http_send_is_reported_and_never_executed(policies):
    server = http.server.HTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    CountingHandler.requests = []
    url = f"http://127.0.0.1:{server.server_port}/exfiltrate"
    try:
        policy_set = policies(
            {
                "net.rego": f"""
                    package main
                    import rego.v1

                    deny contains msg if {{
                        response := http.send({{"method": "get", "url": "{url}"}})
                        msg := response.raw_body
                    }}
                """,
                "dns.rego": 'package main\nimport rego.v1\ndeny_dns contains "x" if net.lookup_ip_addr("example.com")\n',
                "cidr.rego": 'package main\nimport rego.v1\ndeny_cidr contains "x" if net.cidr_contains("10.0.0.0/8", "10.1.1.1")\n',
                "ok.rego": 'package main\nimport rego.v1\ndeny_ok contains "applied" if true\n',
            }
        )
        evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {})])
    finally:
        server.shutdown()
    assert CountingHandler.requests == []
    messages = sorted((Path(p.file).name, p.line, p.message) for p in policy_set.problems)
    reason = "policies cannot reach the network, the file system or the environment"
    assert messages == [
        # Computing on addresses reaches nothing: the reason is the engine's, not a network refusal.
        (
            "cidr.rego",
            3,
            "uses net.cidr_contains, which idp-tui's Rego engine does not provide: regopy does not implement it",
        ),
        ("dns.rego", 3, f"uses net.lookup_ip_addr, which idp-tui's Rego engine does not provide: {reason}"),
        ("net.rego", 6, f"uses http.send, which idp-tui's Rego engine does not provide: {reason}"),
    ]
    assert verdicts(evaluation) == [("main.deny_ok", "deny", "applied")]


def test_opa_runtime_is_refused_and_the_worker_has_no_environment_to_give(policies, monkeypatch):
    monkeypatch.setenv("IDP_TUI_POLICY_CANARY", "canary-token-5f1e")
    text = "package main\nimport rego.v1\ndeny contains json.marshal(opa.runtime().env) if true\n"
    policy_set = policies({"env.rego": text})
    assert [p.message for p in policy_set.problems] == [
        "uses opa.runtime, which idp-tui does not provide to policies: it would read idp-tui's environment"
    ]
    # Even past that check (a module whose calls were not scanned), the worker's environment is empty.
    setup = {
        "op": "setup",
        "rego": {
            "modules": [
                {
                    "file": "env.rego",
                    "text": text,
                    "package": "main",
                    "calls": [],
                    "imports": {},
                    "rules": [{"package": "main", "name": "deny", "file": "env.rego", "line": 3}],
                }
            ],
            "data": {},
            "manifest_packages": ["main"],
            "entity_packages": [],
        },
    }
    worker = WorkerProcess(setup)
    try:
        [answer] = list(worker.evaluate({"docs": [{"i": 0, "class": "manifest", "data": {}}]}, timeout=10))
    finally:
        worker.close()
    assert answer["results"] == [["main.deny", "rego", "deny", "{}", None]]
    assert "canary" not in json.dumps(answer)


def test_a_refused_builtin_put_in_place_of_another_with_with_is_refused_too(policies):
    text = 'package main\nimport rego.v1\n\ndeny contains sprintf("%v", [x]) if {\n    x := time.now_ns() with time.now_ns as opa.runtime\n}\n'
    policy_set = policies({"with.rego": text})
    assert [(p.line, p.message) for p in policy_set.problems] == [
        (5, "uses opa.runtime, which idp-tui does not provide to policies: it would read idp-tui's environment")
    ]
    assert evaluate_documents(policy_set, [("x.yaml", 1, {})]).results == ()


def test_a_call_inside_a_template_string_is_scanned_like_any_other(policies):
    # rego-cpp evaluates the code between a template string's braces: `$"{opa.runtime()}"` returned the
    # environment (the worker's is empty) past the refusal, and `http.send` there went unreported.
    policy_set = policies(
        {
            "env.rego": 'package main\nimport rego.v1\ndeny contains $"env: {opa.runtime()}" if true\n',
            # rego-cpp ignores a brace that closes nothing open innermost: the code part goes on after `}]`.
            "stray.rego": 'package main\nimport rego.v1\ndeny_s contains $"{[[0 }], opa.runtime()][1]}" if true\n',
            "net.rego": (
                "package main\nimport rego.v1\n"
                'deny_net contains $`#{ {"k": 1} } a \\{ literal }\n{\n  http.send({"url": "x"}).body\n}` if true\n'
            ),
            "regex.rego": 'package main\nimport rego.v1\nwarn_case contains $"{regex.match(`(?i)x`, input.x)}" if true\n',
            "ok.rego": 'package main\nimport rego.v1\ndeny_ok contains $"kind {input.kind}, not {"}"}" if true\n',
        }
    )
    assert problem_heads(policy_set) == [
        ("env.rego", 3, "uses opa.runtime"),
        ("net.rego", 5, "uses http.send"),
        ("regex.rego", 3, "Rego: the regular expression '(?i)x' uses (?i)"),
        ("stray.rego", 3, "uses opa.runtime"),
    ]
    evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {"kind": "Pod"})])
    assert verdicts(evaluation) == [("main.deny_ok", "deny", "kind Pod, not }")]


def test_a_builtin_called_by_a_bracketed_name_is_scanned_like_a_dotted_one(policies):
    # rego-cpp calls opa["runtime"]() as it calls opa.runtime().
    policy_set = policies(
        {
            "env.rego": 'package main\nimport rego.v1\ndeny contains json.marshal(opa [ "runtime" ] ( )) if true\n',
            "raw.rego": "package main\nimport rego.v1\ndeny_raw contains json.marshal(opa[`runtime`]()) if true\n",
            "regex.rego": 'package main\nimport rego.v1\nwarn_case contains "x" if regex["match"](`(?i)x`, input.x)\n',
        }
    )
    assert problem_heads(policy_set) == [
        ("env.rego", 3, "uses opa.runtime"),
        ("raw.rego", 3, "uses opa.runtime"),
        ("regex.rego", 3, "Rego: the regular expression '(?i)x' uses (?i)"),
    ]


def test_what_is_plain_characters_inside_a_class_is_not_refused(policies):
    # [(?i)] and [{,] are sets of characters in both engines: rego-cpp matches them as OPA does.
    policy_set = policies(
        {
            "p.rego": 'package main\nimport rego.v1\ndeny contains "odd" if {\n  regex.match(`^[(?i)][{,]$`, input.x)\n}\n'
        }
    )
    assert policy_set.problems == ()
    assert verdicts(evaluate_documents(policy_set, [("x.yaml", 1, {"x": "?,"})])) == [("main.deny", "deny", "odd")]


def test_opa_runtime_put_in_place_of_a_function_in_parentheses_is_refused(policies):
    # `with g as (opa.runtime)`: a call to g calls opa.runtime (the worker's environment is empty all the same).
    text = 'package main\nimport rego.v1\ng() := "x"\ndeny contains sprintf("%v", [y]) if {\n  y := g() with g as ((opa . runtime))\n}\n'
    policy_set = policies({"env.rego": text})
    assert [(p.line, p.message.split(",")[0]) for p in policy_set.problems] == [(5, "uses opa.runtime")]
    assert evaluate_documents(policy_set, [("x.yaml", 1, {})]).results == ()


def test_input_keys_are_the_top_level_keys_a_module_can_read():
    from idp_tui.policy.rego_scan import input_keys, outline

    written = """
        package main
        import rego.v1
        import input.metadata as meta
        # input[k] in a comment, and "input" in a string, read nothing
        deny contains $"{input.kind}: {input["api-version"]} {input[`spec`].replicas}" if data.lib.input.x
    """
    assert input_keys(textwrap.dedent(written)) == {"metadata", "kind", "api-version", "spec"}
    # rego-cpp ignores a brace closing nothing open innermost: the template's code goes on after `}]`.
    assert input_keys('x := $"{[[0 }], input.secret][1]}"') == {"secret"}
    # Nor does that brace close the rule's body: deny_x is a local value, not a rule.
    assert outline('package main\np if {\n x := $"{[0 }]}"\n deny_x := 1\n}\n').rules == []
    for whole in ("count(input)", "input[k]", "input .kind", "f(input)", "x with input as {}", '$"{input}"'):
        assert input_keys(f"package main\nx := {whole}\n") is None, whole


def test_only_the_keys_the_modules_read_are_made_the_input(monkeypatch):
    # Building rego-cpp's input costs more than most rules: a workflow's jobs, which no rule reads, are left out.
    from idp_tui.policy import rego
    from idp_tui.policy.rego import Module, RegoEngine, Rule

    given = []
    build = rego._set_input
    monkeypatch.setattr(
        rego, "_set_input", lambda interpreter, document: given.append(document) or build(interpreter, document)
    )
    text = "package main\nimport rego.v1\ndeny contains input.kind if input.spec.replicas < 2\n"
    rules = [Rule("main", "deny", "p.rego", 3)]
    engine = RegoEngine([Module("p.rego", text, "main", rules, [], {})], {}, rules, [])
    assert engine.check() == []
    document = {"kind": "Deployment", "spec": {"replicas": 1}, "metadata": {"name": "a"}, "jobs": {"b": {}}}
    assert engine.evaluate(document, "manifest") == ([("main.deny", "deny", "Deployment")], [])
    assert given == [{"kind": "Deployment", "spec": {"replicas": 1}}]
    whole = "package main\nimport rego.v1\ndeny contains input.kind if count(input) > 3\n"
    engine = RegoEngine([Module("p.rego", whole, "main", rules, [], {})], {}, rules, [])
    assert engine.check() == []
    assert engine.evaluate(document, "manifest") == ([("main.deny", "deny", "Deployment")], [])
    assert given[-1] == document


def test_documents_holding_no_key_the_rules_read_are_asked_once_and_each_keeps_its_verdicts(monkeypatch):
    # An mkdocs.yml and a CI workflow are the same input to rules reading only kind and spec: asked once, not per
    # document, unless a module calls a built-in that answers the same input differently.
    from idp_tui.policy import rego
    from idp_tui.policy.rego import Module, RegoEngine, Rule
    from idp_tui.policy.rego_scan import outline

    given = []
    build = rego._set_input
    monkeypatch.setattr(
        rego, "_set_input", lambda interpreter, document: given.append(document) or build(interpreter, document)
    )
    rules = [Rule("main", "deny", "p.rego", 3), Rule("main", "warn", "p.rego", 4)]

    def engine_for(text: str) -> RegoEngine:
        calls = outline(text).calls
        engine = RegoEngine([Module("p.rego", text, "main", rules, calls, {})], {}, rules, [])
        assert engine.check() == []
        return engine

    plain = engine_for(
        "package main\nimport rego.v1\n"
        'deny contains "no kind" if not input.kind\n'
        'warn contains sprintf("%d replicas", [input.spec.replicas]) if input.spec.replicas < 2\n'
    )
    mkdocs, workflow = {"site_name": "a", "nav": []}, {"on": {"push": {}}, "jobs": {"b": {}}}
    no_kind = ([("main.deny", "deny", "no kind")], [])
    assert [plain.evaluate(document, "manifest") for document in (mkdocs, workflow, {})] == [no_kind] * 3
    assert plain.evaluate({"kind": "D", "spec": {"replicas": 1}}, "manifest") == (
        [("main.warn", "warn", "1 replicas")],
        [],
    )
    assert given == [{}, {"kind": "D", "spec": {"replicas": 1}}]
    assert plain.evaluate(mkdocs, "manifest", only={"main.deny"}) == no_kind  # asked on its own: asked again
    assert plain.evaluate(mkdocs, "entity") == ([], [])  # no entity rule

    given.clear()
    clock = engine_for(
        'package main\nimport rego.v1\ndeny contains sprintf("%d", [time.now_ns()]) if not input.kind\n'
        'warn contains "never" if false\n'
    )
    first, second = (clock.evaluate(document, "manifest")[0] for document in (mkdocs, workflow))
    assert given == [{}, {}] and first != second


def test_each_way_of_reading_input_sees_the_document_it_was_given(policies):
    # Only the keys the policies read are given to rego-cpp: every way of reading one must still find it.
    policy_set = policies(
        {
            "keys.rego": """
                package main
                import rego.v1
                import input.metadata as meta
                deny_dotted contains input.kind if true
                deny_quoted contains input["odd-key"] if true
                deny_raw contains input[`raw`] if true
                deny_template contains $"{input.templated}" if true
                deny_imported contains meta.name if true
            """,
        }
    )
    document = {"kind": "Pod", "odd-key": "q", "raw": "r", "templated": "t", "metadata": {"name": "n"}, "other": 1}
    assert sorted(message for *_, message in verdicts(evaluate_documents(policy_set, [("x.yaml", 1, document)]))) == [
        "Pod", "n", "q", "r", "t",
    ]  # fmt: skip
    # A module reading input as a whole (written beside the first: the fixture's folder) is given every key.
    whole = policies({"whole.rego": "package main\nimport rego.v1\ndeny contains key if some key, _ in input\n"})
    results = verdicts(evaluate_documents(whole, [("x.yaml", 1, document)]))
    assert sorted(message for policy, _, message in results if policy == "main.deny") == sorted(document)


# Ten billion steps on a document of kind Slow (its line 5 is the rule): a runaway for any deadline.
SLOW_RULE = """
    package main
    import rego.v1

    deny_slow contains "never" if {
        input.kind == "Slow"
        some i in numbers.range(1, 100000)
        some j in numbers.range(1, 100000)
        i * j == -1
    }
"""


def test_a_golden_path_whose_files_a_policy_could_not_judge_is_blocked(policies):
    # A template can render a document so large that a policy runs past its deadline on it: the policy is then
    # left out from there on. Passing that run, and the next ones, would let the template switch a guardrail off.
    from idp_tui.policy import PolicyGuardrails

    policy_set = policies({"slow.rego": SLOW_RULE}, timeout=1.0)
    guardrails = PolicyGuardrails(lambda: policy_set)
    report = guardrails.check({"k8s/slow.yaml": b"kind: Slow\n"})
    assert report.denials == () and report.blocked
    [unjudged] = report.unjudged
    assert "main.deny_slow" in unjudged and "not applied from there on" in unjudged
    assert report.failure_message().startswith("Blocked: the policies could not judge a file: ")
    assert report.summary().startswith("Policies: 1 not judged")
    later = guardrails.check({"k8s/fine.yaml": b"kind: Quick\n"})
    assert later.blocked and later.unjudged  # the rule is still left out: still not judged


def test_a_golden_path_file_using_a_yaml_merge_key_is_blocked(policies):
    # kubectl's reader (YAML 1.1) merges `<<`; idp-tui reads YAML 1.2 as Backstage does, where it is a plain key:
    # the rule would not see the image the cluster gets. go-yaml merges a `<<` tagged `!` even when quoted, lets a
    # later `!!merge` win over the key before it, and a merge can turn a catalog entity into a Deployment.
    from idp_tui.golden.guardrails import GuardrailReport
    from idp_tui.policy import PolicyGuardrails

    policy_set = policies({"latest.rego": LATEST_RULE})
    guardrails = PolicyGuardrails(lambda: policy_set)
    merged = {
        "pod.yaml": b"kind: Pod\nspec:\n  <<: {image: nginx:latest}\n",
        "flow.yml": b"kind: Pod\nspec: {name: a, <<: {image: x}}\n",
        "quoted.yaml": b'kind: Pod\nspec:\n  image: nginx:1\n  ! "<<": {image: nginx:latest}\n',
        "later.yaml": b"kind: Pod\nspec:\n  image: nginx:1\n  !!merge <<: {image: nginx:latest}\n",
        "entity.yaml": b"apiVersion: backstage.io/v1alpha1\nkind: Component\n<<: {apiVersion: v1, kind: Pod}\n",
    }
    report = guardrails.check(merged)
    assert report.denials == () and report.blocked
    assert [line.split(": a YAML merge key")[0] for line in report.unjudged] == [
        "pod.yaml:3",
        "flow.yml:2",
        "quoted.yaml:4",
        "later.yaml:4",
        "entity.yaml:3",
    ]
    # `<<` in a value or a block scalar is no merge key. Nor do YAML 1.1's words stop anything as keys (a
    # workflow's `on:`), quoted, or in a catalog entity (Backstage reads YAML 1.2).
    plain = {
        "ok.yaml": b"kind: Pod\nspec: {image: 'nginx:1', note: 'cat <<EOF'}\n",
        "script.yaml": b"kind: ConfigMap\ndata:\n  run.sh: |\n    <<: not a key\n",
        "ci.yaml": b"name: ci\non: [push]\njobs: {build: {runs-on: ubuntu-latest}}\n",
        "quoted.yaml": b"kind: Pod\nspec: {hostNetwork: 'yes', replicas: '010'}\n",
        "entity.yaml": b"apiVersion: backstage.io/v1alpha1\nkind: Component\nspec: {x: yes}\n",
    }
    assert guardrails.check(plain) == GuardrailReport((), 5, 5)
    assert guardrails.check({"pod.yaml": b"kind: Pod\nspec: {hostNetwork: yes}\n"}).blocked


LATEST_RULE = 'package main\nimport rego.v1\ndeny contains "latest" if endswith(input.spec.image, ":latest")\n'


LATEST_POD = b"kind: Pod\nspec: {image: 'nginx:latest'}\n"


def test_a_golden_path_file_the_policies_could_not_read_blocks_the_run(policies):
    # As conftest fails on a file it cannot parse: kubectl reads more than YAML 1.2 does (UTF-16, a JSON stream, a
    # document after a broken one, an `!!binary` value), and idp-tui stops reading a file at its budgets, so a
    # file the policies could not read may still be applied unjudged. Each of these hides a `:latest` image.
    from idp_tui.golden.guardrails import GuardrailReport
    from idp_tui.policy import PolicyGuardrails

    guardrails = PolicyGuardrails(lambda: policies({"latest.rego": LATEST_RULE}))
    pod = {"kind": "Pod", "spec": {"image": "nginx:latest"}}
    hiding = {
        "chart/templates/pod.yaml": b"{{- if .Values.enabled }}\n" + LATEST_POD + b"{{- end }}\n",
        "tsconfig.json": b'{\n  /* Bundler mode */\n  "compilerOptions": {}\n}\n',
        "utf16.yaml": LATEST_POD.decode().encode("utf-16"),
        "stream.json": (json.dumps(pod) + "\n" + json.dumps(pod)).encode(),
        "cr.yaml": LATEST_POD + b"\r...\r@: [\n",
        "tagged.yaml": b"kind: Pod\nmetadata:\n  annotations: {a: !!binary aGk=}\nspec: {image: 'nginx:latest'}\n",
        "padded.yaml": LATEST_POD + b"#" * (8 * 1024 * 1024),
        "many.yaml": b"kind: Pod\n---\n" * 10_000 + LATEST_POD,
        "many-cr.yaml": b"kind: Pod\r---\r" * 10_000 + LATEST_POD,  # a lone CR breaks lines too
        "noisy.yaml": b"a: [\n---\n" * 100 + b"x: !!binary aGk=\n",  # past the 100 errors said of a file
    }
    for name, content in hiding.items():
        report = guardrails.check({name: content})
        assert report.denials == () and report.blocked, name
        assert report.failure_message().startswith(f"Blocked: the policies could not judge a file: {name}:"), name
    report = guardrails.check(hiding)
    heads = [line.split(": ", 1)[0] for line in report.unjudged]
    assert [head for head in heads if not head.startswith(("chart/", "tsconfig", "noisy"))] == [
        "utf16.yaml:1",
        "stream.json:2",
        "cr.yaml:5",
        "tagged.yaml:3",
        "padded.yaml:1",
        "many.yaml:20000",
        "many-cr.yaml:20001",
    ]
    assert report.unjudged[heads.index("many-cr.yaml:20001")].endswith(
        "more than 10,000 documents: the rest are not read"
    )
    assert "noisy.yaml:201: … and 1 more YAML errors" in report.unjudged
    assert guardrails.check({"ok.yaml": LATEST_POD.replace(b"latest", b"1.0")}) == GuardrailReport((), 1, 1)


def test_kubectl_applies_the_objects_of_a_list_and_so_they_are_judged(policies, tmp_path):
    # kubectl expands a List (and a *List with items) and applies each object: the API server never sees the List.
    from idp_tui.policy import PolicyGuardrails

    policy_set = policies({"latest.rego": LATEST_RULE})
    latest = {"kind": "Pod", "metadata": {"name": "inner"}, "spec": {"image": "nginx:latest"}}
    nested = {"apiVersion": "v1", "kind": "List", "items": [{"kind": "PodList", "items": [latest]}]}
    (tmp_path / "list.yaml").write_text("kind: Service\n---\n" + json.dumps(nested) + "\n")
    (tmp_path / "list.json").write_text(json.dumps({"kind": "List", "items": [latest, latest]}))
    evaluation = evaluate_files(policy_set, [tmp_path])
    assert [(Path(r.file).name, r.line, r.document_index, r.kind, r.name, r.message) for r in evaluation.results] == [
        ("list.json", 1, 0, "Pod", "inner", "latest"),
        ("list.json", 1, 0, "Pod", "inner", "latest"),
        ("list.yaml", 3, 1, "Pod", "inner", "latest"),
    ]
    assert evaluation.documents == 4
    report = PolicyGuardrails(lambda: policy_set).check({"k8s/list.yaml": json.dumps(nested).encode()})
    assert [(finding.kind, finding.name) for finding in report.denials] == [("Pod", "inner")]


def aliased_file(added: int) -> bytes:
    """A YAML document whose aliases add ``added`` nodes (a thousand per alias), in 5 KB of text."""
    base = "[" + ",".join("0" * 1000) + "]"
    return f"kind: Pod\nbase: &b {base}\ncopies: [{', '.join(['*b'] * (added // 1000))}]\n".encode()


def test_what_aliases_add_is_budgeted_over_all_the_files_of_a_check(policies):
    # Fifty files of 20 KB, each within the budget of one file, added 14 MB of data each and kept the workers at
    # their memory cap for minutes. The files of one check may add 2,000,000 nodes in all; past that a document is
    # refused before it is built.
    from idp_tui.policy import PolicyGuardrails, evaluate_texts

    policy_set = policies({"kind.rego": "package main\nimport rego.v1\nwarn contains input.kind if true\n"})
    files = {name: aliased_file(900_000) for name in ("a.yaml", "b.yaml", "c.yaml", "d.yaml")}
    started = time.monotonic()
    evaluation = evaluate_texts(policy_set, files)
    assert [(r.file, r.message) for r in evaluation.results] == [("a.yaml", "Pod"), ("b.yaml", "Pod")]
    assert [(p.file, p.message) for p in evaluation.input_problems] == [
        (name, "invalid YAML: YAML error: its aliases would add more than the 198,200 nodes left for aliases "
         "among the files read together, column 1")
        for name in ("c.yaml", "d.yaml")
    ]  # fmt: skip
    assert time.monotonic() - started < 60  # far from minutes (the budget is what this checks, not the speed)
    assert PolicyGuardrails(lambda: policy_set).check(files).blocked


def test_the_entries_of_all_files_of_a_check_are_budgeted(monkeypatch):
    # 17 files of 8 MiB of `[],` held 47 million lists: 4.7 GB in idp-tui. Every mapping's and sequence's entries
    # are charged as they are built, YAML and JSON alike (5,000,000 in all; here 10).
    from idp_tui.policy import reading
    from idp_tui.policy.evaluate import read_texts

    monkeypatch.setattr(reading, "MAX_ENTRIES", 10)
    fits = b"kind: Pod\nspec: {x: [1, 2]}\n"  # 5 entries
    json_past = b'{"kind": "Pod", "items": [1, 2, 3, 4, 5, 6, 7]}'  # 9 more
    yaml_past = b"kind: Pod\nspec: [1, 2, 3, 4, 5]\n"  # 7 more: refused as it is built
    documents, problems = read_texts({"a.yaml": fits, "b.json": json_past, "c.yaml": fits})
    assert [file for file, *_ in documents] == ["a.yaml"]
    assert [(p.file, p.message) for p in problems] == [
        ("b.json", "not read: the files read together would hold more than 10 entries"),
        ("c.yaml", "not read: the files before hold 10 YAML entries already"),
    ]
    documents, problems = read_texts({"a.yaml": fits, "c.yaml": yaml_past})
    assert [file for file, *_ in documents] == ["a.yaml"]
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("c.yaml", 2, "invalid YAML: YAML error: the files read together hold more YAML entries than idp-tui reads "
         "at once, column 7")
    ]  # fmt: skip


def test_a_check_past_its_time_budget_says_the_rest_not_judged_and_leaves_no_policy_out(policies):
    # Each document has its deadline (60 s here); the whole check has its budget (1 s), which is no policy's doing.
    policy_set = policies(
        {"slow.rego": SLOW_RULE, "kind.rego": "package main\nimport rego.v1\nwarn contains input.kind if true\n"},
        timeout=60.0,
    )
    documents = [("a.yaml", 1, {"kind": "Quick"}), ("b.yaml", 4, {"kind": "Slow"}), ("c.yaml", 1, {"kind": "Slow"})]
    started = time.monotonic()
    evaluation = evaluate_documents(policy_set, documents, time_budget=1.0)
    assert time.monotonic() - started < 30
    assert verdicts(evaluation) == [("main.warn", "warn", "Quick")]
    assert [(p.file, p.line, p.policy, p.message) for p in evaluation.problems] == [
        ("b.yaml", 4, "", "not judged, nor the next: the check ran past its time budget (1 s)")
    ]
    again = evaluate_documents(policy_set, documents[:1])
    assert verdicts(again) == [("main.warn", "warn", "Quick")] and not again.problems  # nothing was left out


def test_files_are_not_read_once_the_time_budget_is_spent(tmp_path):
    from idp_tui.policy.evaluate import read_documents
    from idp_tui.policy.models import TimeBudget

    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text("kind: Pod\n")
    documents, problems = read_documents([tmp_path], TimeBudget(1.0, time.monotonic() - 1))
    assert documents == []
    assert [(Path(p.file).name, p.message) for p in problems] == [
        ("a.yaml", "not read, nor the 2 files after it: the check ran past its time budget (1 s)")
    ]


def test_a_runaway_rule_is_stopped_reported_once_and_the_other_rules_keep_their_verdicts(policies):
    policy_set = policies(
        {
            "slow.rego": SLOW_RULE,
            "fast.rego": "package main\nimport rego.v1\ndeny_fast contains input.kind if true\n",
        },
        timeout=1.0,
    )
    documents = [("a.yaml", 1, {"kind": "Quick"}), ("b.yaml", 4, {"kind": "Slow"}), ("c.yaml", 1, {"kind": "Slow"})]
    started = time.monotonic()
    evaluation = evaluate_documents(policy_set, documents)
    elapsed = time.monotonic() - started
    assert verdicts(evaluation) == [
        ("main.deny_fast", "deny", "Quick"),
        ("main.deny_fast", "deny", "Slow"),
        ("main.deny_fast", "deny", "Slow"),
    ]
    [problem] = [p for p in evaluation.problems if p.policy == "main.deny_slow"]
    assert problem.message == "evaluation took longer than 1 s on b.yaml:4; it is not applied from there on"
    assert Path(problem.file).name == "slow.rego" and problem.line == 5
    assert elapsed < 8  # one deadline to notice, one to confirm the culprit; c.yaml does not wait again
    # The same policy set remembers: a later evaluation neither waits for the rule nor forgets to say so.
    started = time.monotonic()
    again = evaluate_documents(policy_set, [("d.yaml", 1, {"kind": "Slow"})])
    assert time.monotonic() - started < 1 and verdicts(again) == [("main.deny_fast", "deny", "Slow")]
    assert problem in again.problems


@dataclass
class Source:
    path: str
    line: int


@dataclass
class FakeEntity:
    raw: dict
    source: Source


def test_catalog_rules_apply_to_entities_and_manifest_rules_to_manifests(policies, tmp_path):
    policy_set = policies(
        {
            "catalog.rego": """
                package catalog
                import rego.v1

                deny contains sprintf("%s has no owner", [input.metadata.name]) if not input.spec.owner
            """,
            "main.rego": 'package main\nimport rego.v1\nwarn contains "manifest rule" if true\n',
        }
    )
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "svc"}, "spec": {}}
    by_entity = evaluate_entities(policy_set, [FakeEntity(entity, Source("catalog-info.yaml", 4))])
    assert [(r.file, r.line, r.kind, r.name, r.policy, r.message) for r in by_entity.results] == [
        ("catalog-info.yaml", 4, "Component", "svc", "catalog.deny", "svc has no owner")
    ]
    files = write(
        tmp_path / "out",
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\nspec: {}\n",
            "k8s.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n",
        },
    )
    by_file = evaluate_files(policy_set, [files])
    assert [(Path(r.file).name, r.policy) for r in by_file.results] == [
        ("catalog-info.yaml", "catalog.deny"),
        ("k8s.yaml", "main.warn"),
    ]


def test_unreadable_and_missing_policy_paths_are_problems(tmp_path):
    folder = write(tmp_path / "p", {"ok.rego": 'package main\nimport rego.v1\ndeny contains "x" if true\n'})
    (folder / "latin1.rego").write_bytes(b"package main\n# caf\xe9\n")
    outside = tmp_path / "outside.rego"
    outside.write_text('package main\nimport rego.v1\ndeny contains "outside" if true\n')
    os.symlink(outside, folder / "link.rego")
    os.mkfifo(folder / "fifo.rego")
    with load_policies([folder, tmp_path / "missing", tmp_path / "p" / "ok.rego"], check=False) as policy_set:
        problems = sorted((Path(p.file).name, p.message) for p in policy_set.problems)
    assert problems == [
        ("fifo.rego", "not read: not a regular file (a named pipe (FIFO))"),
        ("latin1.rego", "not UTF-8 text (byte 18)"),
        ("link.rego", "a symlink that leads outside the policy folder: not read"),
        ("missing", "no such file or directory"),
    ]


def test_a_large_evaluation_shared_by_two_workers_keeps_document_order_and_what_ran_away(policies, monkeypatch):
    from idp_tui.policy import evaluate as evaluate_module

    monkeypatch.setattr(evaluate_module, "PARALLEL_MIN_DOCUMENTS", 4)
    policy_set = policies(
        {
            "rules.rego": """
                package main
                import rego.v1

                deny_name contains sprintf("document %d", [input.n]) if input.n % 2 == 0
                deny_slow contains "never" if {
                    input.n == 7
                    some i in numbers.range(1, 100000)
                    some j in numbers.range(1, 100000)
                    i * j == -1
                }
            """
        },
        timeout=1.0,
    )
    documents = [("many.yaml", n + 1, {"n": n}) for n in range(12)]
    evaluation = evaluate_documents(policy_set, documents, workers=2)
    assert [r.message for r in evaluation.results] == [f"document {n}" for n in range(0, 12, 2)]
    assert [r.line for r in evaluation.results] == [n + 1 for n in range(0, 12, 2)]
    assert [p.policy for p in evaluation.problems] == ["main.deny_slow"]
    assert len(policy_set.runtime.extra_workers) == 1
    again = evaluate_documents(policy_set, documents[:1], workers=2)
    assert [p.policy for p in again.problems] == ["main.deny_slow"]


def test_a_document_with_too_many_policies_to_try_one_by_one_is_not_judged_and_a_slow_run_ends(policies, monkeypatch):
    """Finding the runaway among 3,000 rules would take most of an hour: past MAX_ISOLATED_POLICIES (here 2) the
    document is said not judged, and after three such documents in a row the rest are not tried."""
    from idp_tui.policy import runtime

    monkeypatch.setattr(runtime, "MAX_ISOLATED_POLICIES", 2)
    policy_set = policies(
        {
            "slow.rego": SLOW_RULE,
            "fast.rego": "package main\nimport rego.v1\ndeny_fast contains input.kind if true\n",
            "other.rego": "package main\nimport rego.v1\nwarn_other contains input.kind if true\n",
        },
        timeout=0.5,
    )
    slow = {"kind": "Slow"}
    documents = [("a.yaml", 1, {"kind": "Quick"}), *((f"{name}.yaml", 2, slow) for name in "bcdef")]
    evaluation = evaluate_documents(policy_set, documents)
    assert verdicts(evaluation) == [("main.deny_fast", "deny", "Quick"), ("main.warn_other", "warn", "Quick")]
    said = [(p.file, p.message) for p in evaluation.problems]
    too_many = "not judged: its 3 policies together took longer than 0.5 s, too many to try one by one"
    assert said == [
        ("b.yaml", too_many),
        ("c.yaml", too_many),
        ("d.yaml", too_many),
        ("e.yaml", "not judged, nor the next: the policies were too slow for 3 documents in a row"),
    ]


def test_a_rule_that_eats_memory_is_stopped_at_the_workers_memory_cap(policies, monkeypatch):
    from idp_tui.policy import runtime

    # rego-cpp reserves 256 GiB of address space at start, so no rlimit can cap it: the parent watches the
    # worker's resident memory instead. A lower cap keeps the test quick.
    monkeypatch.setattr(runtime, "MAX_WORKER_MEMORY", 256 * 1024 * 1024)
    policy_set = policies(
        {
            "huge.rego": """
                package main
                import rego.v1

                deny_huge contains "never" if {
                    input.kind == "Huge"
                    count([x | some x in numbers.range(1, 300000000)]) < 0
                }
                deny_kind contains input.kind if true
            """
        },
        timeout=30.0,
    )
    started = time.monotonic()
    evaluation = evaluate_documents(policy_set, [("a.yaml", 1, {"kind": "Huge"}), ("b.yaml", 1, {"kind": "Small"})])
    assert time.monotonic() - started < 20  # well before the deadline
    assert verdicts(evaluation) == [("main.deny_kind", "deny", "Huge"), ("main.deny_kind", "deny", "Small")]
    assert [(p.policy, p.message) for p in evaluation.problems] == [
        ("main.deny_huge", "evaluation used more than 256 MiB of memory on a.yaml:1; it is not applied from there on")
    ]


def test_a_policy_set_loaded_unchecked_still_says_what_does_not_compile_when_evaluated(tmp_path):
    folder = write(
        tmp_path / "p",
        {
            "broken.rego": "package main\nimport rego.v1\ndeny contains msg if {\n  msg := \n}\n",
            "good.rego": 'package main\nimport rego.v1\ndeny_good contains "applied" if true\n',
        },
    )
    with load_policies([folder], check=False) as policy_set:
        assert policy_set.problems == ()
        evaluation = evaluate_documents(policy_set, [("x.yaml", 1, {})])
    assert verdicts(evaluation) == [("main.deny_good", "deny", "applied")]
    assert [(Path(p.file).name, p.line, p.message) for p in evaluation.problems] == [
        ("broken.rego", 4, "Rego: Invalid assignment operator")
    ]
