"""A golden path's files read by the two workers themselves: once a spare worker runs, each worker reads the files
of the (file, engine) tasks it takes, so neither waits for idp-tui to read them all first. What they say is what
one worker says after idp-tui read the files: the same verdicts, lines, kinds, names and problems, in the same
order."""

from __future__ import annotations

import copy
import json
import textwrap

import pytest
import yaml
from test_policy_parallel import ADMISSION, CATALOG_REGO, REGO, deployment, spare_of

from idp_tui.policy import evaluate as evaluate_module
from idp_tui.policy import evaluate_texts, load_policies
from idp_tui.policy import parallel as parallel_module
from idp_tui.policy.parallel import start_spare


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(parallel_module, "default_workers", lambda: 2)


@pytest.fixture
def policies(tmp_path):
    """Load a policy set from ``{file name: text}`` (its spare started); closed after the test."""
    loaded = []

    def load(files: dict[str, str], **options):
        folder = tmp_path / f"policies{len(loaded)}"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
        policy_set = load_policies([folder], **options)
        loaded.append(policy_set)
        start_spare(policy_set)
        spare_of(policy_set)
        return policy_set

    yield load
    for policy_set in loaded:
        policy_set.close()


BOTH_ENGINES = {
    "rules.rego": textwrap.dedent(REGO),
    "catalog.rego": CATALOG_REGO,
    "admission.yaml": yaml.safe_dump_all(ADMISSION),
}


def no_reading_here(monkeypatch) -> None:
    def refuse(files, budget=None):
        raise AssertionError("idp-tui read the files itself")

    monkeypatch.setattr(evaluate_module, "read_texts", refuse)


def everything(evaluation) -> tuple:
    return (
        [
            (r.file, r.line, r.document_index, r.kind, r.name, r.engine, r.policy, r.action, r.message)
            for r in evaluation.results
        ],
        evaluation.problems,
        evaluation.input_problems,
        evaluation.documents,
    )


GOLDEN_FILES = {
    "k8s/deployment.yaml": (
        yaml.safe_dump(deployment("web", "nginx:latest"))
        + "---\n"
        + yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}})
    ).encode(),
    "catalog-info.yaml": yaml.safe_dump(
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "web"}}
    ).encode(),
    "mkdocs.yml": b"site_name: web\nnav:\n  - Home: index.md\n",
    # A broken document costs only itself: the Deployment after it is judged, at its own line.
    "broken.yaml": b"a: [\n---\n" + yaml.safe_dump(deployment("after", "nginx")).encode(),
    # JSON holds a lone surrogate; neither engine takes one: it becomes U+FFFD, as in a request.
    "lone.json": json.dumps(deployment("x\ud800y", "nginx:latest")).encode(),
    "list.yaml": b"- 1\n- two\n",
    # A tag idp-tui does not read (kubectl would): said where it is, as a broken document is.
    "tagged.yaml": b"kind: Pod\nmetadata:\n  annotations: {a: !!binary aGk=}\n",
}


def test_two_workers_read_the_files_themselves_and_say_what_one_worker_says(policies, two_cores, monkeypatch):
    policy_set = policies(BOTH_ENGINES)
    alone = evaluate_texts(policy_set, GOLDEN_FILES, workers=1)
    main, spare = policy_set.runtime.worker, policy_set.runtime.extra_workers[0]
    answered = main.tasks_answered + spare.tasks_answered

    no_reading_here(monkeypatch)
    shared = evaluate_texts(policy_set, GOLDEN_FILES)

    assert everything(shared) == everything(alone)
    assert main.tasks_answered + spare.tasks_answered - answered == 2 * len(GOLDEN_FILES)  # (file, engine) each
    assert [(r.file, r.line, r.engine, r.policy) for r in shared.results if r.action == "deny"] == [
        ("k8s/deployment.yaml", 1, "rego", "main.deny_latest"),
        ("k8s/deployment.yaml", 1, "vap", "pinned"),
        ("catalog-info.yaml", 1, "rego", "catalog.deny_component"),
        ("lone.json", 1, "rego", "main.deny_latest"),
        ("lone.json", 1, "vap", "pinned"),
    ]
    assert [m for r in shared.results if r.file == "lone.json" for m in [r.message] if "uses latest" in m] == [
        "x\ufffdy uses latest"
    ]
    assert [(p.file, p.line) for p in shared.input_problems] == [("broken.yaml", 2), ("tagged.yaml", 3)]
    assert ("broken.yaml", 3, "after") in {(r.file, r.line, r.name) for r in shared.results}


def test_an_engine_that_took_less_on_a_file_than_reading_it_goes_with_the_files_other_engine(
    policies, two_cores, monkeypatch
):
    """No admission policy can judge a YAML list, so on ``list.yaml`` they take nothing, less than reading it:
    from the second check on, the worker that reads it for Rego answers for them too (the other would read it
    again for nothing)."""
    policy_set = policies(BOTH_ENGINES)
    no_reading_here(monkeypatch)
    main, spare = policy_set.runtime.worker, policy_set.runtime.extra_workers[0]
    first = evaluate_texts(policy_set, GOLDEN_FILES)
    answered = main.tasks_answered + spare.tasks_answered
    second = evaluate_texts(policy_set, GOLDEN_FILES)
    tasks = main.tasks_answered + spare.tasks_answered - answered
    assert tasks < 2 * len(GOLDEN_FILES)
    assert parallel_module._file_tasks("list.yaml", 10, ("rego", "vap"), policy_set.runtime.task_costs)[0][1] == [
        "rego",
        "vap",
    ]
    assert everything(second) == everything(first)


def test_a_file_that_is_not_utf8_is_said_so_by_the_workers_as_here(policies, two_cores, monkeypatch):
    policy_set = policies(BOTH_ENGINES)
    files = {**GOLDEN_FILES, "latin1.yaml": "name: caf\xe9\n".encode("latin-1")}
    alone = evaluate_texts(policy_set, files, workers=1)
    no_reading_here(monkeypatch)
    shared = evaluate_texts(policy_set, files)  # the files' bytes go to the workers as they are
    assert everything(shared) == everything(alone)
    assert [(p.file, p.message) for p in shared.input_problems if p.file == "latin1.yaml"] == [
        ("latin1.yaml", "not UTF-8 text (byte 9)")
    ]


def test_files_that_may_use_aliases_are_read_here_under_one_budget(policies, two_cores, monkeypatch):
    """What aliases add is budgeted over all the files of a check; a worker reads only some of them, so a file with
    an anchor and an alias is read here."""
    policy_set = policies(BOTH_ENGINES)
    files = {**GOLDEN_FILES, "anchored.yaml": b"kind: Pod\nmetadata: &m {name: a}\nspec: {copy: *m}\n"}
    no_reading_here(monkeypatch)
    with pytest.raises(AssertionError, match="idp-tui read the files itself"):
        evaluate_texts(policy_set, files)
    assert evaluate_texts(policy_set, GOLDEN_FILES).documents  # without it, the workers read them


def namespaced_admission() -> list[dict]:
    """The admission policy of ``ADMISSION``, for namespaces labelled ``env: prod`` only, denying ``web`` there."""
    policy, binding = copy.deepcopy(ADMISSION)
    policy["spec"]["matchConstraints"]["namespaceSelector"] = {"matchLabels": {"env": "prod"}}
    policy["spec"]["validations"] = [{"expression": "object.metadata.name != 'web'", "message": "not in prod"}]
    return [policy, binding]


def test_policies_that_read_namespaces_have_the_files_read_here(policies, two_cores):
    """A worker reads only the files of its tasks, so it cannot see a Namespace in another file: where a namespace
    selector (or namespaceObject) could decide, idp-tui reads the files and gives every worker the namespaces."""
    policy_set = policies({**BOTH_ENGINES, "admission.yaml": yaml.safe_dump_all(namespaced_admission())})
    web = deployment("web")
    web["metadata"]["namespace"] = "shop"
    files = {
        "k8s/deployment.yaml": yaml.safe_dump(web).encode(),
        "k8s/namespace.yaml": yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}}
        ).encode(),
    }
    shared = evaluate_texts(policy_set, files)
    assert [(r.file, r.policy, r.message) for r in shared.results if r.engine == "vap"] == [
        ("k8s/deployment.yaml", "pinned", "not in prod")
    ]
    assert not shared.problems
    assert everything(shared) == everything(evaluate_texts(policy_set, files, workers=1))


def test_a_runaway_rule_met_by_workers_reading_is_found_and_left_out(policies, two_cores):
    """Where a worker misses its deadline, both stop; the files are read here, the first worker finds the runaway
    while the spare starts again, and from then on the workers read the files without it."""
    policy_set = policies(BOTH_ENGINES, timeout=1.0)
    files = {"slow.yaml": yaml.safe_dump(deployment("slow")).encode(), **GOLDEN_FILES}

    evaluation = evaluate_texts(policy_set, files)

    assert [(p.policy, p.message.split(";")[0]) for p in evaluation.problems] == [
        ("main.deny_slow", "evaluation took longer than 1 s on slow.yaml:1")
    ]
    assert ("slow.yaml", "main.warn_named") in {(r.file, r.policy) for r in evaluation.results}
    assert everything(evaluate_texts(policy_set, files)) == everything(evaluation)  # the spare starts without it
    spare_of(policy_set)
    main, spare = policy_set.runtime.worker, policy_set.runtime.extra_workers[0]
    answered = main.tasks_answered + spare.tasks_answered
    again = evaluate_texts(policy_set, files)
    assert main.tasks_answered + spare.tasks_answered - answered == 2 * len(files)
    assert everything(again) == everything(evaluation)


BUSY_REGO = """
    package main
    import rego.v1

    warn_busy contains "busy" if {
        input.kind == "Busy"
        count([1 | some i in numbers.range(1, 250); some j in numbers.range(1, 250); i * j == -1]) == 0
    }
"""


def test_each_document_of_a_file_a_worker_reads_has_its_own_deadline(policies, two_cores):
    """Ten documents of a quarter of a second each in one file: 2.5 s for the file, within 1 s for each document,
    so no worker is stopped and no policy is said to run away."""
    policy_set = policies({**BOTH_ENGINES, "busy.rego": textwrap.dedent(BUSY_REGO)}, timeout=1.0)
    main, spare = policy_set.runtime.worker, policy_set.runtime.extra_workers[0]
    files = {"busy.yaml": "".join("---\nkind: Busy\n" for _ in range(10)).encode()}
    answered = main.tasks_answered + spare.tasks_answered

    evaluation = evaluate_texts(policy_set, files)

    assert main.tasks_answered + spare.tasks_answered - answered == 2  # the shared run finished: no fallback
    assert [r.message for r in evaluation.results] == ["busy"] * 10
    assert not evaluation.problems


def test_the_documents_of_all_the_files_are_capped_together_when_the_workers_read_them(
    policies, two_cores, monkeypatch
):
    """Each worker reads a file on its own, so the cap on all the files' documents (100,000; here 5) is checked
    on what they answer: past it, idp-tui reads the files itself, and says where reading stopped."""
    from idp_tui.policy import reading

    monkeypatch.setattr(reading, "MAX_DOCUMENTS", 5)
    policy_set = policies(BOTH_ENGINES)
    items = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [deployment(n) for n in "abc"]}).encode()
    files = {"one.yaml": items, "two.yaml": items, "three.yaml": items}
    shared = evaluate_texts(policy_set, files)
    assert shared.documents == 3
    assert [(p.file, p.message) for p in shared.input_problems] == [
        ("two.yaml", "the files hold 5 documents here: the rest are not read"),
        ("three.yaml", "the files hold 5 documents here: the rest are not read"),
    ]
    assert everything(shared) == everything(evaluate_texts(policy_set, files, workers=1))
