"""Two workers where there are two cores: a policy set with Rego rules and admission policies gets a spare worker
when a golden path is first checked, started in the background, and from then on a small evaluation runs the
engines side by side; the verdicts and problems are the ones a single worker gives, in the same order."""

from __future__ import annotations

import os
import textwrap
import threading

import pytest
import yaml

from idp_tui.policy import evaluate_documents, load_policies
from idp_tui.policy import parallel as parallel_module
from idp_tui.policy.parallel import deal_tasks, start_spare, wait_for_spare

READY_BUDGET = 30.0  # seconds a spare may take to start on a loaded machine (a wait, not a measure)

REGO = """
    package main
    import rego.v1

    deny_latest contains sprintf("%s uses latest", [input.metadata.name]) if {
        some c in input.spec.template.spec.containers
        endswith(c.image, ":latest")
    }
    warn_named contains sprintf("seen %s", [input.metadata.name]) if input.metadata.name
    deny_slow contains "never" if {
        input.metadata.name == "slow"
        some i in numbers.range(1, 100000)
        some j in numbers.range(1, 100000)
        i * j == -1
    }
"""

CATALOG_REGO = 'package catalog\nimport rego.v1\ndeny_component contains "a component" if input.kind == "Component"\n'

ADMISSION = [
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "pinned"},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "resources": ["deployments"],
                        "operations": ["CREATE"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))",
                    "message": "pin the image",
                }
            ],
        },
    },
    {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "pinned"},
        "spec": {"policyName": "pinned", "validationActions": ["Deny"]},
    },
]


def deployment(name: str, image: str = "nginx:1.27", env: int = 0) -> dict:
    container = {"name": "app", "image": image, "env": [{"name": f"V{n}", "value": "x" * 40} for n in range(env)]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


DOCUMENTS = [
    ("big.yaml", 1, deployment("big", "nginx:latest", env=40)),
    ("small.yaml", 1, deployment("small", "nginx:latest")),
    ("small.yaml", 20, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}}),
    ("notes.yaml", 1, {"title": "not a Kubernetes object"}),
]


@pytest.fixture
def both_engines(tmp_path):
    """A policy set with Rego rules and an admission policy, loaded (so its spare starts); closed after the test."""
    loaded = []

    def load(**options):
        folder = tmp_path / f"policies{len(loaded)}"
        folder.mkdir()
        (folder / "rules.rego").write_text(textwrap.dedent(REGO))
        (folder / "catalog.rego").write_text(CATALOG_REGO)
        (folder / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
        policy_set = load_policies([folder], **options)
        loaded.append(policy_set)
        start_spare(policy_set)
        return policy_set

    yield load
    for policy_set in loaded:
        policy_set.close()


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(parallel_module, "default_workers", lambda: 2)


def spare_of(policy_set):
    assert wait_for_spare(policy_set, READY_BUDGET), "the spare worker did not start"
    return policy_set.runtime.extra_workers[0]


def listed(evaluation) -> list[tuple]:
    return [(r.file, r.line, r.engine, r.policy, r.action, r.message) for r in evaluation.results]


def test_a_small_evaluation_runs_the_engines_side_by_side_with_a_single_workers_verdicts(both_engines, two_cores):
    policy_set = both_engines()
    spare = spare_of(policy_set)
    main = policy_set.runtime.worker
    alone = evaluate_documents(policy_set, DOCUMENTS, workers=1)
    assert spare.documents_sent == 0  # one worker: the spare stayed idle
    side_by_side = evaluate_documents(policy_set, DOCUMENTS, workers=2)
    assert listed(side_by_side) == listed(alone)
    assert listed(alone) == [
        ("big.yaml", 1, "rego", "main.deny_latest", "deny", "big uses latest"),
        ("big.yaml", 1, "rego", "main.warn_named", "warn", "seen big"),
        ("big.yaml", 1, "vap", "pinned", "deny", "pin the image"),
        ("small.yaml", 1, "rego", "main.deny_latest", "deny", "small uses latest"),
        ("small.yaml", 1, "rego", "main.warn_named", "warn", "seen small"),
        ("small.yaml", 1, "vap", "pinned", "deny", "pin the image"),
        ("small.yaml", 20, "rego", "main.warn_named", "warn", "seen svc"),
    ]
    assert spare.documents_sent > 0 and main.documents_sent > len(DOCUMENTS)  # both workers had a share


def test_the_largest_tasks_go_to_different_workers_and_every_task_is_dealt_once():
    docs = [{"i": n, "class": "manifest", "data": data} for n, (_, _, data) in enumerate(DOCUMENTS)]
    docs.append({"i": 4, "class": "entity", "data": {"apiVersion": "backstage.io/v1alpha1", "kind": "Component"}})
    engines = {"manifest": ("rego", "vap"), "entity": ("rego",)}
    first, second = deal_tasks(docs, engines, 2)
    dealt = sorted((doc["i"], engine) for share in (first, second) for doc in share for engine in doc["engines"])
    # notes.yaml (3) is no Kubernetes object: no admission policy can match it, so it is no admission task.
    assert dealt == sorted([(n, engine) for n in range(3) for engine in ("rego", "vap")] + [(3, "rego"), (4, "rego")])
    big = [doc["engines"] for share in (first, second) for doc in share if doc["i"] == 0]
    assert sorted(big) == [["rego"], ["vap"]]  # the big Deployment's two engines run at once
    for share in (first, second):
        assert [doc["i"] for doc in share] == sorted(doc["i"] for doc in share)


def test_a_runaway_rule_in_the_spares_share_is_left_out_once_and_remembered(both_engines, two_cores):
    policy_set = both_engines(timeout=1.0)
    spare = spare_of(policy_set)
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "c", "x": "y" * 4000}}
    documents = [("catalog-info.yaml", 1, entity), ("slow.yaml", 1, deployment("slow"))]
    docs = [{"i": 0, "class": "entity", "data": entity}, {"i": 1, "class": "manifest", "data": documents[1][2]}]
    _, spares_share = deal_tasks(docs, {"manifest": ("rego", "vap"), "entity": ("rego",)}, 2)
    assert {"i": 1, "engines": ["rego", "vap"]}.items() <= spares_share[0].items()  # the slow Rego is the spare's

    evaluation = evaluate_documents(policy_set, documents, workers=2)
    assert [p.policy for p in evaluation.problems] == ["main.deny_slow"]
    assert [(r.file, r.policy) for r in evaluation.results] == [
        ("catalog-info.yaml", "catalog.deny_component"),
        ("slow.yaml", "main.warn_named"),
    ]
    # Both documents for the shared queue, where a worker ran past its deadline; then the dealt share, where the
    # runaway rule was found.
    assert spare.documents_sent == 2 + 1
    # Every worker that evaluates from now on is set up without the rule: none runs it (and times out) again.
    spare_of(policy_set)
    main = policy_set.runtime.worker
    again = evaluate_documents(policy_set, documents, workers=2)
    assert [p.policy for p in again.problems] == ["main.deny_slow"]
    assert listed(again) == listed(evaluation)
    process = main.worker.process
    evaluate_documents(policy_set, documents, workers=1)
    assert main.worker.process is process  # not killed for a missed deadline


def test_closing_the_policy_set_while_its_spare_starts_leaves_no_worker(both_engines, two_cores):
    policy_set = both_engines()
    spare = policy_set.runtime.extra_workers[0]
    policy_set.close()
    starting = [thread for thread in threading.enumerate() if thread.name == "idp-tui policy spare"]
    for thread in starting:
        thread.join(READY_BUDGET)
    assert spare.worker is None or not spare.worker.alive


def test_a_set_with_one_engine_has_no_spare(tmp_path, two_cores):
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    with load_policies([tmp_path]) as policy_set:
        start_spare(policy_set)
        assert policy_set.runtime.extra_workers == []


def test_a_golden_paths_first_check_starts_the_spare_and_the_next_runs_side_by_side(tmp_path, two_cores):
    from idp_tui.policy import PolicyGuardrails

    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    files = {"k8s/deployment.yaml": yaml.safe_dump(deployment("web", "nginx:latest")).encode()}
    with load_policies([tmp_path]) as policy_set:
        guardrails = PolicyGuardrails(lambda: policy_set)
        assert policy_set.runtime.extra_workers == []  # loading alone starts one worker
        first = guardrails.check(files)
        spare = spare_of(policy_set)
        main = policy_set.runtime.worker
        answered = main.tasks_answered + spare.tasks_answered
        second = guardrails.check(files)
        # One task per engine, the file read by each worker that took one, taken from the shared queue.
        assert main.tasks_answered + spare.tasks_answered - answered == 2
        assert first.findings == second.findings
        assert [(f.engine, f.policy) for f in second.findings] == [
            ("rego", "main.deny_latest"),
            ("rego", "main.warn_named"),
            ("vap", "pinned"),
        ]


def component(name: str, padding: int) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": name, "x": "y" * padding}}


def test_a_documents_verdicts_keep_engine_order_when_its_rego_runs_in_the_spare(both_engines, two_cores):
    policy_set = both_engines()
    spare = spare_of(policy_set)
    documents = [
        ("one.yaml", 1, component("one", 2800)),
        ("two.yaml", 1, component("two", 1700)),
        ("web.yaml", 1, deployment("web", "nginx:latest", env=18)),
    ]
    docs = [{"i": n, "class": "entity" if n < 2 else "manifest", "data": d} for n, (_, _, d) in enumerate(documents)]
    mains, spares = deal_tasks(docs, {"manifest": ("rego", "vap"), "entity": ("rego",)}, 2)
    assert {"i": 2, "engines": ["vap"]}.items() <= mains[-1].items()  # the Deployment's admission policies: main
    assert {"i": 2, "engines": ["rego"]}.items() <= spares[-1].items()  # its Rego rules: the spare

    main = policy_set.runtime.worker
    answered_before = main.tasks_answered + spare.tasks_answered
    side_by_side = evaluate_documents(policy_set, documents, workers=2)
    # Four tasks, each answered once through the queue (which worker takes which depends on who is faster).
    assert main.tasks_answered + spare.tasks_answered - answered_before == 4
    assert [(r.file, r.engine, r.policy) for r in side_by_side.results if r.file == "web.yaml"] == [
        ("web.yaml", "rego", "main.deny_latest"),
        ("web.yaml", "rego", "main.warn_named"),
        ("web.yaml", "vap", "pinned"),
    ]
    assert listed(side_by_side) == listed(evaluate_documents(policy_set, documents, workers=1))

    # Whichever worker answers first, a document's parts are put together in engine order.
    def part(engine: str, task: int, policy: str, micros: int) -> dict:
        results = [[policy, engine, "deny", policy, None]]
        return {"i": 2, "task": task, "results": results, "problems": [], "cost": {engine: micros}}

    [merged] = parallel_module._by_document([docs[2]], [part("vap", 0, "pinned", 5), part("rego", 1, "main.x", 9)])
    assert [result[0] for result in merged["results"]] == ["main.x", "pinned"] and merged["cost"] == {
        "vap": 5,
        "rego": 9,
    }


def test_documents_no_engine_judges_are_answered_empty(tmp_path, two_cores):
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))  # package main only: nothing for an entity
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    with load_policies([tmp_path]) as policy_set:
        start_spare(policy_set)
        spare_of(policy_set)
        evaluation = evaluate_documents(policy_set, [("catalog-info.yaml", 1, component("c", 10))], workers=2)
        assert evaluation.results == () and evaluation.documents == 1


def test_a_spare_that_stopped_starts_again_while_the_first_worker_answers(both_engines, two_cores):
    policy_set = both_engines()
    spare = spare_of(policy_set)
    spare.worker.process.kill()
    spare.worker.process.wait()
    evaluation = evaluate_documents(policy_set, DOCUMENTS, workers=2)  # answered by the first worker alone
    assert [r.message for r in evaluation.results][:2] == ["big uses latest", "seen big"]
    assert spare_of(policy_set) is spare and spare.worker.alive


def test_a_rule_running_away_in_both_workers_is_said_once(tmp_path, two_cores):
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    (tmp_path / "catalog.rego").write_text(
        textwrap.dedent(
            """
            package catalog
            import rego.v1

            deny_slow contains "never" if {
                some i in numbers.range(1, 100000)
                some j in numbers.range(1, 100000)
                i * j == -1
            }
            """
        )
    )
    documents = [("a.yaml", 1, component("a", 100)), ("b.yaml", 1, component("b", 100))]
    docs = [{"i": n, "class": "entity", "data": data} for n, (_, _, data) in enumerate(documents)]
    assert [len(share) for share in deal_tasks(docs, {"entity": ("rego",)}, 2)] == [1, 1]  # one in each
    with load_policies([tmp_path], timeout=1.0) as policy_set:
        start_spare(policy_set)
        spare_of(policy_set)
        evaluation = evaluate_documents(policy_set, documents, workers=2)
        assert [(p.policy, p.message.split(" on ")[1]) for p in evaluation.problems] == [
            ("catalog.deny_slow", "a.yaml:1; it is not applied from there on")
        ]


def test_tasks_are_dealt_by_the_costs_measured_before_and_by_size_only_when_never_measured():
    docs = [{"i": n, "class": "manifest", "data": data} for n, (_, _, data) in enumerate(DOCUMENTS[:2])]
    docs.append({"i": 2, "class": "entity", "data": component("tiny", 0)})
    engines = {"manifest": ("rego", "vap"), "entity": ("rego",)}
    by_size = deal_tasks(docs, engines, 2)
    assert sorted(doc["engines"] for share in by_size for doc in share if doc["i"] == 0) == [["rego"], ["vap"]]

    # Measured: the tiny entity's catalog rules are slow, Deployments are quick: the entity gets a worker alone.
    costs = {
        ("rego", "entity", "backstage.io/v1alpha1", "Component"): 40_000,
        ("rego", "manifest", "apps/v1", "Deployment"): 300,
        ("vap", "manifest", "apps/v1", "Deployment"): 200,
    }
    measured = deal_tasks(docs, engines, 2, costs)
    assert sorted([(doc["i"], doc["engines"]) for doc in share] for share in measured) == [
        [(0, ["rego", "vap"]), (1, ["rego", "vap"])],
        [(2, ["rego"])],
    ]


def test_a_measured_cost_is_the_mean_of_the_last_and_the_ones_before_and_a_strange_one_is_ignored():
    from idp_tui.policy.parallel import MAX_KEY_CHARS, MAX_REMEMBERED_COSTS, remember_costs

    costs: dict = {}
    doc = {"i": 0, "class": "manifest", "data": deployment("web")}
    remember_costs(costs, doc, {"cost": {"rego": 1000, "vap": 400}})
    remember_costs(costs, doc, {"cost": {"rego": 3000}})
    assert costs == {
        ("rego", "manifest", "apps/v1", "Deployment"): 2000,
        ("vap", "manifest", "apps/v1", "Deployment"): 400,
    }
    # Answers come from a process that runs other people's policies: only sane numbers for known engines count.
    for strange in ({"rego": -5}, {"rego": True}, {"rego": "9"}, {"rego": 10**12}, {"shell": 5}, ["rego"], None):
        remember_costs(costs, doc, {"cost": strange})
    assert costs[("rego", "manifest", "apps/v1", "Deployment")] == 2000 and len(costs) == 2
    long_kind = {"i": 1, "class": "manifest", "data": {"apiVersion": "v1", "kind": "K" * 100_000}}
    remember_costs(costs, long_kind, {"cost": {"rego": 7}})
    assert ("rego", "manifest", "v1", "K" * MAX_KEY_CHARS) in costs
    for n in range(MAX_REMEMBERED_COSTS + 10):
        remember_costs(costs, {"i": 0, "class": "manifest", "data": {"kind": f"Kind{n}"}}, {"cost": {"rego": 1}})
    assert len(costs) == MAX_REMEMBERED_COSTS
    remember_costs(costs, doc, {"cost": {"rego": 1000}})  # a kind already known is still updated
    assert costs[("rego", "manifest", "apps/v1", "Deployment")] == 1500


def test_two_workers_take_the_tasks_from_one_queue_largest_first_by_what_they_measured(tmp_path, two_cores):
    """A small entity whose catalog rule takes a while, beside a larger Deployment. Once the workers have measured,
    the entity's task is queued first: one worker takes it, and the other answers the Deployment's two tasks
    meanwhile. Dealt in advance, a worker whose tasks take longer than measured leaves the other waiting."""
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    (tmp_path / "catalog.rego").write_text(
        'package catalog\nimport rego.v1\ndeny_busy contains "busy" if count([n | some n in numbers.range(1, 200000)]) < 0\n'
    )
    documents = [("catalog-info.yaml", 1, component("c", 10)), ("web.yaml", 1, deployment("web", env=30))]
    with load_policies([tmp_path], timeout=30.0) as policy_set:
        start_spare(policy_set)
        spare = spare_of(policy_set)
        main = policy_set.runtime.worker
        first = evaluate_documents(policy_set, documents, workers=2)
        costs = policy_set.runtime.task_costs
        entity_cost = costs[("rego", "entity", "backstage.io/v1alpha1", "Component")]
        deployment_costs = [costs[(engine, "manifest", "apps/v1", "Deployment")] for engine in ("rego", "vap")]
        assert entity_cost > sum(deployment_costs)

        answered_before = (main.tasks_answered, spare.tasks_answered)
        second = evaluate_documents(policy_set, documents, workers=2)
        answered = (main.tasks_answered - answered_before[0], spare.tasks_answered - answered_before[1])
        assert sorted(answered) == [1, 2]
        assert listed(second) == listed(first) == listed(evaluate_documents(policy_set, documents, workers=1))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="two workers can only be kept apart on two CPUs")
def test_two_workers_sharing_an_evaluation_run_on_different_cpus_and_anywhere_after_it(tmp_path, two_cores):
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    (tmp_path / "catalog.rego").write_text(
        "package catalog\nimport rego.v1\n"
        'deny_busy contains "busy" if count([n | some n in numbers.range(1, 400000)]) < 0\n'
    )
    documents = [("catalog-info.yaml", 1, component("c", 10)), ("web.yaml", 1, deployment("web"))]
    everywhere = os.sched_getaffinity(0)
    with load_policies([tmp_path], timeout=30.0) as policy_set:
        start_spare(policy_set)
        spare = spare_of(policy_set)
        main = policy_set.runtime.worker
        evaluate_documents(policy_set, documents, workers=1)  # the first worker is running
        pids = (main.worker.process.pid, spare.worker.process.pid)
        seen: list[tuple[set, set]] = []
        evaluation = threading.Thread(target=evaluate_documents, args=(policy_set, documents), kwargs={"workers": 2})
        evaluation.start()
        while evaluation.is_alive():
            seen.append(tuple(os.sched_getaffinity(pid) for pid in pids))
            evaluation.join(0.002)
        assert any(first and second and not first & second for first, second in seen), seen[:3]
        assert all(os.sched_getaffinity(pid) == everywhere for pid in pids)


def test_answers_complete_at_once_are_read_in_the_calling_thread_and_a_long_evaluations_by_a_thread_per_worker(
    tmp_path, two_cores, monkeypatch
):
    """A golden path's check is over within a worker's memory-check interval: both workers' answers are read in
    turn, without a thread (one started then waits for a core the workers have). A longer evaluation gets a
    reading thread per further worker, so each worker's deadlines and memory checks run while the others work."""
    (tmp_path / "rules.rego").write_text(textwrap.dedent(REGO))
    (tmp_path / "admission.yaml").write_text(yaml.safe_dump_all(ADMISSION))
    (tmp_path / "catalog.rego").write_text(
        "package catalog\nimport rego.v1\n"
        'deny_busy contains "busy" if {\n  input.metadata.name == "busy"\n'
        "  count([n | some n in numbers.range(1, 400000)]) < 0\n}\n"
    )
    started: list[str] = []

    class CountedThread(threading.Thread):
        def start(self) -> None:
            started.append(self.name)
            super().start()

    monkeypatch.setattr(parallel_module.threading, "Thread", CountedThread)
    with load_policies([tmp_path], timeout=30.0) as policy_set:
        start_spare(policy_set)
        spare = spare_of(policy_set)
        evaluate_documents(policy_set, DOCUMENTS, workers=1)  # the first worker is running
        started.clear()
        sent = spare.documents_sent
        # The interval made long for the quick evaluation (a loaded machine may take more than 50 ms), and short
        # for the busy one: the test is which way each goes, not how long either takes.
        monkeypatch.setattr(parallel_module, "MEMORY_CHECK_INTERVAL", 5.0)
        quick = evaluate_documents(policy_set, DOCUMENTS, workers=2)
        assert spare.documents_sent > sent and started == []
        monkeypatch.setattr(parallel_module, "MEMORY_CHECK_INTERVAL", 0.001)
        busy = [("catalog-info.yaml", 1, component("busy", 10)), *DOCUMENTS]
        slow = evaluate_documents(policy_set, busy, workers=2)
        assert len(started) == 1
    assert listed(slow) == listed(quick)  # the busy rule finds nothing: it only takes time
