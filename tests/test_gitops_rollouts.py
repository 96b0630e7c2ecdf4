"""Argo Rollouts as workloads: phase, canary step and weight, pauses, stable/canary and active/preview sets,
compared with what ``kubectl argo rollouts get rollout`` computes (argo-rollouts ``info/rollout_info.go``,
``info/replicaset_info.go``, ``utils/rollout/rolloututil.go``, ``utils/replicaset/canary.go``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_gitops_fixtures import load, load_all, of_kind

from idp_tui.commands.deployments_json import workload_json
from idp_tui.commands.gitops_json import rollout_json
from idp_tui.kube.gitops.rollouts import rollout_info, rollout_phase
from idp_tui.kube.report import workload_report
from idp_tui.kube.snapshot import ClusterSnapshot

NOW = datetime(2026, 11, 24, 16, 40, tzinfo=UTC)


def canary_info(**changes):
    rollout = load("rollout-canary-paused.yaml")
    rollout["status"].update(changes)
    name = "rollout-canary-paused.yaml"
    return rollout_info(rollout, of_kind(name, "ReplicaSet"), of_kind(name, "Pod"))


def test_canary_paused_at_step_2_of_4_at_25_percent():
    info = canary_info()
    assert (info.strategy, info.phase, info.message) == ("Canary", "Paused", "CanaryPauseStep")
    assert info.paused and info.pause_reasons == ("CanaryPauseStep",)
    canary = info.canary
    # rollout_info.go: Step = "%d/%d" of currentStepIndex and len(steps); SetWeight = GetCurrentSetWeight.
    assert (canary.step, canary.steps, canary.step_text) == (2, 4, "2/4")
    assert canary.set_weight == 25
    assert canary.current_step == "pause (until promoted)"
    # No traffic router: ActualWeight = canary RS available * 100 / rollout available = 1 * 100 / 4.
    assert canary.actual_weight == 25
    assert info.summary == "Paused (CanaryPauseStep) · step 2/4 · weight 25%"
    assert info.problems == ()
    assert (info.revision, info.desired, info.updated, info.available) == (5, 4, 1, 4)


def test_replicasets_by_role_newest_first_with_their_pods():
    info = canary_info()
    assert [(rs.name, rs.revision, rs.roles, rs.status, rs.replicas) for rs in info.replica_sets] == [
        ("fraud-scoring-service-7d4b9c6f5", 5, ("canary",), "Healthy", 1),
        ("fraud-scoring-service-6c8f7d9b4", 4, ("stable",), "Healthy", 3),
        ("fraud-scoring-service-5b7c9d8f2", 3, (), "ScaledDown", 0),
    ]
    assert info.replica_sets[0].pods == ("fraud-scoring-service-7d4b9c6f5-x2kqp",)
    assert info.replica_sets[1].pods == (
        "fraud-scoring-service-6c8f7d9b4-9zr7m",
        "fraud-scoring-service-6c8f7d9b4-k8s2p",
        "fraud-scoring-service-6c8f7d9b4-p5vwx",
    )
    assert info.replica_sets[0].images == ("ghcr.io/acme/fraud-scoring-service:4.2.0",)
    assert not info.fully_promoted


def test_weights_follow_the_steps_as_getcurrentsetweight_does():
    assert canary_info(currentStepIndex=0).canary.set_weight == 25
    assert canary_info(currentStepIndex=3).canary.set_weight == 75
    assert canary_info(currentStepIndex=4).canary.set_weight == 100  # every step done: MaxTrafficWeight
    assert canary_info(currentStepIndex=4).canary.actual_weight == 100
    assert canary_info(abort=True).canary.set_weight == 0
    without_sets = rollout_info(load("rollout-canary-paused.yaml"))
    assert without_sets.canary.actual_weight is None  # unknown without the ReplicaSets, not 0
    assert without_sets.replica_sets == ()


def test_blue_green_active_and_preview():
    rollout, *sets = load_all("rollout-blue-green.yaml")
    info = rollout_info(rollout, sets)
    assert (info.strategy, info.phase, info.canary) == ("BlueGreen", "Paused", None)
    bg = info.blue_green
    assert (bg.active_service, bg.preview_service) == ("auth-service-active", "auth-service-preview")
    assert (bg.active_selector, bg.preview_selector) == ("5f6d8c9b7", "8d7c6b5f4")
    assert not bg.auto_promotion and bg.pause_reasons == ("BlueGreenPause",)
    assert [(rs.hash, rs.roles) for rs in info.replica_sets] == [
        ("8d7c6b5f4", ("preview",)),
        ("5f6d8c9b7", ("stable", "active")),
    ]
    assert info.summary == "Paused (BlueGreenPause)"


def test_aborted_canary_is_degraded_with_the_analysis_message():
    rollout = load("rollout-aborted.yaml")
    info = rollout_info(rollout, [])
    assert info.phase == "Degraded" and info.aborted
    (problem,) = info.problems
    assert problem.reason == "RolloutAborted"
    assert problem.message == (
        'RolloutAborted: Rollout aborted update to revision 3: Metric "success-rate" assessed Failed due to failed '
        "(3) > failureLimit (2)"
    )
    assert "retry" in problem.hint
    # With a traffic router the actual weight is status.canary.weights; aborted means the steps ask for 0.
    assert (info.canary.set_weight, info.canary.actual_weight) == (0, 0)
    assert info.canary.step_text == "0/4"


def test_phase_before_the_controller_observes_and_from_old_controllers():
    rollout = load("rollout-canary-paused.yaml")
    rollout["metadata"]["generation"] = 10  # status.observedGeneration is "9"
    assert rollout_phase(rollout) == ("Progressing", "waiting for rollout spec update to be observed")
    old = load("rollout-aborted.yaml")
    del old["status"]["phase"], old["status"]["message"]  # a v0.10 controller: CalculateRolloutPhase
    assert rollout_phase(old) == (
        "Degraded",
        'RolloutAborted: Rollout aborted update to revision 3: Metric "success-rate" assessed Failed due to failed (3) '
        "> failureLimit (2)",
    )
    paused = load("rollout-canary-paused.yaml")
    del paused["status"]["phase"]
    assert rollout_phase(paused) == ("Paused", "CanaryPauseStep")
    healthy = load("rollout-canary-paused.yaml")
    healthy["status"].update(
        phase=None, pauseConditions=None, controllerPause=False, currentPodHash="6c8f7d9b4", updatedReplicas=4
    )
    assert rollout_phase(healthy) == ("Healthy", "")


def test_inconclusive_analysis_is_a_problem_to_act_on():
    info = canary_info(pauseConditions=[{"reason": "InconclusiveAnalysisRun", "startTime": "2026-11-24T16:30:00Z"}])
    assert [p.reason for p in info.problems] == ["InconclusiveAnalysisRun"]
    assert "promote or abort" in info.problems[0].hint


def test_rollout_json_is_a_workload_with_canary_details():
    name = "rollout-canary-paused.yaml"
    info = canary_info()
    doc = rollout_json(info, of_kind(name, "Pod"), now=NOW)
    assert doc["kind"] == "Rollout"
    assert doc["canary"] == {
        "step": 2,
        "steps": 4,
        "weight": 25,
        "actualWeight": 25,
        "paused": True,
        "pauseReasons": ["CanaryPauseStep"],
        "currentStep": "pause (until promoted)",
    }
    assert doc["rollout"] == {
        "status": "progressing",
        "message": "Paused (CanaryPauseStep) · step 2/4 · weight 25%",
        "revision": 5,
        "paused": True,
    }
    # Pods come as the other workloads' pods do: kubectl's columns, problems first.
    assert [pod["name"] for pod in doc["pods"]][0] == "fraud-scoring-service-6c8f7d9b4-k8s2p"  # OOMKilled restarts
    assert doc["pods"][0]["problems"][0]["reason"] == "OOMKilled"
    assert json.loads(json.dumps(doc)) == doc


def test_rollout_json_has_every_key_a_deployment_workload_has():
    deployment = {
        "metadata": {"name": "web", "namespace": "ns", "generation": 1},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1},
    }
    reference = workload_json(workload_report("Deployment", deployment, ClusterSnapshot(name="demo-eu"), NOW))
    doc = rollout_json(canary_info(), of_kind("rollout-canary-paused.yaml", "Pod"), now=NOW)
    assert set(reference) <= set(doc)
    assert set(reference["rollout"]) == set(doc["rollout"])
    assert set(reference["replicas"]) == set(doc["replicas"])
    pod_keys = set(doc["pods"][0])
    assert {"name", "status", "ready", "restarts", "problems", "containers"} <= pod_keys


def test_the_rows_and_json_say_a_rollouts_state_and_replicas_alike():
    from idp_tui.kube.gitops.report import rollout_report
    from idp_tui.render.gitops import rollout_rows

    name = "rollout-canary-paused.yaml"
    for rollout, status in (
        (load(name), "progressing"),  # paused at a step: an update under way
        (load("rollout-aborted.yaml"), "failed"),
    ):
        info = rollout_info(rollout, of_kind(name, "ReplicaSet"), of_kind(name, "Pod"))
        report = rollout_report(info, of_kind(name, "Pod"), now=NOW)
        doc = rollout_json(info, of_kind(name, "Pod"), now=NOW)
        assert report.rollout_state == doc["rollout"]["status"] == status
        summary = f"{info.available} of {info.desired} available, {info.updated} updated"
        assert report.replicas_summary == doc["replicas"]["summary"] == summary
        assert f"  {summary}" in rollout_rows("demo-eu", report)[0].text.plain
    healthy = load(name)
    healthy["status"].update(phase="Healthy", pauseConditions=None, controllerPause=False)
    assert rollout_report(rollout_info(healthy)).rollout_state == "complete"
