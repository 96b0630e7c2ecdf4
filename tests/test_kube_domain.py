"""Pure Kubernetes domain logic: Backstage's selection rules and error detection, kubectl's rollout status and STATUS.

Expected strings are copied from the sources named in each section, so a change in wording shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp_tui.catalog.entity import Entity
from idp_tui.kube.events import EventRow, is_warning, relevant_events
from idp_tui.kube.problems import hpa_problems, pod_problems, pod_summary, workload_problems
from idp_tui.kube.rollout import replica_counts, revision_history, rollout_status
from idp_tui.kube.selection import SelectorError, WorkloadSelector, matches, parse_selector, selector_for

NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


def ts(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def entity(annotations: dict[str, str] | None = None, name: str = "payments") -> Entity:
    raw = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }
    return Entity(raw=raw, key=f"component:default/{name}")


# --- selection: Backstage's KubernetesFanOutHandler.ts, SingleTenantServiceLocator.ts, Router.tsx -----------------


def test_label_selector_annotation_wins_over_kubernetes_id() -> None:
    sel = selector_for(
        entity({"backstage.io/kubernetes-label-selector": "app=pay,tier in (api)", "backstage.io/kubernetes-id": "x"})
    )
    assert sel == WorkloadSelector("app=pay,tier in (api)", None, None)


def test_kubernetes_id_annotation_becomes_the_selector() -> None:
    assert selector_for(entity({"backstage.io/kubernetes-id": "pay-svc"})).label_selector == (
        "backstage.io/kubernetes-id=pay-svc"
    )


def test_no_annotation_means_no_query_like_the_kubernetes_tab() -> None:
    assert selector_for(entity({"backstage.io/kubernetes-namespace": "pay"})) is None
    assert selector_for(entity({"backstage.io/kubernetes-id": ""})) is None  # `||`: empty counts as missing


def test_metadata_name_fallback_of_the_backend() -> None:
    sel = selector_for(entity(name="payments"), require_annotation=False)
    assert sel.label_selector == "backstage.io/kubernetes-id=payments"


def test_raw_entity_documents_are_accepted() -> None:
    raw = {"metadata": {"name": "web", "annotations": {"backstage.io/kubernetes-id": "web"}}}
    assert selector_for(raw).label_selector == "backstage.io/kubernetes-id=web"


def test_namespace_annotation_restricts_the_namespace() -> None:
    sel = selector_for(entity({"backstage.io/kubernetes-id": "pay", "backstage.io/kubernetes-namespace": "payments"}))
    assert sel.namespace == "payments"
    assert selector_for(entity({"backstage.io/kubernetes-id": "pay"})).namespace is None


def test_cluster_annotation_restricts_clusters() -> None:
    sel = selector_for(entity({"backstage.io/kubernetes-id": "pay", "backstage.io/kubernetes-cluster": "prod-eu"}))
    assert sel.clusters == ("prod-eu",)
    assert sel.allows_cluster("prod-eu") and not sel.allows_cluster("staging")
    unrestricted = selector_for(entity({"backstage.io/kubernetes-id": "pay"}))
    assert unrestricted.clusters is None and unrestricted.allows_cluster("anything")


def test_malformed_selector_annotation_is_a_clear_error() -> None:
    with pytest.raises(SelectorError, match="kubernetes-label-selector.*found '\\)'"):
        selector_for(entity({"backstage.io/kubernetes-label-selector": "app=web)"}))


LABELS = {"app": "web", "tier": "front", "version": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app = web", True),
        ("app=api", False),
        ("app!=api", True),
        ("missing!=x", True),  # an absent key satisfies != (selector.go)
        ("tier in (front, edge)", True),
        ("tier in (edge)", False),
        ("missing in (x)", False),
        ("tier notin (edge)", True),
        ("tier notin (front)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("version>2", True),
        ("version<3", False),
        ("backstage.io/kubernetes-id=web", False),
    ],
)
def test_label_selector_matching(selector: str, expected: bool) -> None:
    assert matches(LABELS, selector) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app=web)", "found ')' at 7, expected ','"),
        ("app web", "found 'web' at 4, expected one of"),
        ("tier in ()", "values set can't be empty"),
        ("tier in (a", "expected ',' or ')', found the end"),
        ("app=web,", "expected a label key, found the end"),
        ("=web", "found '=' at 0, expected a label key"),
        ("app=we b", "found 'b'"),
        ("bad key!/x=1", "found"),
        ("-app=web", "invalid label key '-app'"),
        ("app=-web", "invalid label value '-web'"),
    ],
)
def test_malformed_selectors(selector: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        parse_selector(selector)
    assert message in str(raised.value)


# --- rollout status: kubectl staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go ------------------


def deployment(status: dict, *, generation: int = 2, replicas: int = 3, paused: bool = False, **spec) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "dep-uid",
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": "4"},
        },
        "spec": {"replicas": replicas, "paused": paused, "selector": {"matchLabels": {"app": "web"}}, **spec},
        "status": {"observedGeneration": 2, **status},
    }


DONE = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}


@pytest.mark.parametrize(
    ("dep", "done", "message"),
    [
        (deployment(DONE, generation=3), False, "Waiting for deployment spec update to be observed..."),
        (
            deployment({"replicas": 3, "updatedReplicas": 1}),
            False,
            'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
        ),
        (
            deployment({"replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
            False,
            'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
        ),
        (
            deployment({"replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
            False,
            'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
        ),
        (deployment(DONE), True, 'deployment "web" successfully rolled out'),
    ],
)
def test_deployment_rollout_status_matches_kubectl(dep: dict, done: bool, message: str) -> None:
    status = rollout_status(dep)
    assert (status.done, status.message, status.reason, status.revision) == (done, message, None, 4)


def test_deployment_progress_deadline_exceeded_is_an_error() -> None:
    conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "x"}]
    status = rollout_status(deployment({"replicas": 3, "updatedReplicas": 1, "conditions": conditions}))
    assert status.message == 'deployment "web" exceeded its progress deadline'
    assert status.reason == "ProgressDeadlineExceeded" and status.failed and not status.done


def test_paused_deployment_is_reported() -> None:
    status = rollout_status(deployment({"replicas": 3, "updatedReplicas": 1}, paused=True))
    assert status.paused and status.reason == "DeploymentPaused" and not status.done
    assert rollout_status(deployment(DONE)).paused is False


def test_list_items_need_the_kind_and_kubectl_appends_pod_warnings() -> None:
    dep = deployment({"replicas": 3, "updatedReplicas": 1})
    del dep["kind"]
    with pytest.raises(ValueError, match="pass kind="):
        rollout_status(dep)
    crashing = pod("web-1", labels={"app": "web"}, containers=[crash_loop("api")])
    other = pod("db-1", labels={"app": "db"}, containers=[crash_loop("db")])
    status = rollout_status(dep, kind="Deployment", pods=[other, crashing])
    assert status.message.endswith(
        "1 out of 3 new replicas have been updated... (Warning: CrashLoopBackOff - back-off 5m0s restarting failed container=api)"
    )


def statefulset(status: dict, strategy: dict | None = None, generation: int = 1) -> dict:
    return {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "generation": generation},
        "spec": {"replicas": 3, "updateStrategy": strategy or {"type": "RollingUpdate"}},
        "status": {"observedGeneration": 1, **status},
    }


@pytest.mark.parametrize(
    ("sts", "done", "message"),
    [
        (statefulset({}, generation=2), False, "Waiting for statefulset spec update to be observed..."),
        (statefulset({"observedGeneration": 0}), False, "Waiting for statefulset spec update to be observed..."),
        (statefulset({"readyReplicas": 1}), False, "Waiting for 2 pods to be ready..."),
        (
            statefulset(
                {"readyReplicas": 3, "updatedReplicas": 0},
                {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            ),
            False,
            "Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...",
        ),
        (
            statefulset(
                {"readyReplicas": 3, "updatedReplicas": 1},
                {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            ),
            True,
            "partitioned roll out complete: 1 new pods have been updated...",
        ),
        (
            statefulset(
                {"readyReplicas": 3, "updatedReplicas": 1, "updateRevision": "db-2", "currentRevision": "db-1"}
            ),
            False,
            "waiting for statefulset rolling update to complete 1 pods at revision db-2...",
        ),
        (
            statefulset(
                {"readyReplicas": 3, "currentReplicas": 3, "updateRevision": "db-2", "currentRevision": "db-2"}
            ),
            True,
            "statefulset rolling update complete 3 pods at revision db-2...",
        ),
    ],
)
def test_statefulset_rollout_status_matches_kubectl(sts: dict, done: bool, message: str) -> None:
    status = rollout_status(sts)
    assert (status.done, status.message, status.revision) == (done, message, None)


def test_statefulset_on_delete_is_not_supported() -> None:
    status = rollout_status(statefulset({}, {"type": "OnDelete"}))
    assert status.message == "rollout status is only available for RollingUpdate strategy type"
    assert status.done and status.failed


def daemonset(status: dict, generation: int = 1, strategy: str = "RollingUpdate") -> dict:
    return {
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "generation": generation},
        "spec": {"updateStrategy": {"type": strategy}},
        "status": {"observedGeneration": 1, "desiredNumberScheduled": 4, **status},
    }


@pytest.mark.parametrize(
    ("ds", "done", "message"),
    [
        (daemonset({}, generation=2), False, "Waiting for daemon set spec update to be observed..."),
        (
            daemonset({"updatedNumberScheduled": 1}),
            False,
            'Waiting for daemon set "agent" rollout to finish: 1 out of 4 new pods have been updated...',
        ),
        (
            daemonset({"updatedNumberScheduled": 4, "numberAvailable": 3}),
            False,
            'Waiting for daemon set "agent" rollout to finish: 3 of 4 updated pods are available...',
        ),
        (
            daemonset({"updatedNumberScheduled": 4, "numberAvailable": 4}),
            True,
            'daemon set "agent" successfully rolled out',
        ),
        (daemonset({}, strategy="OnDelete"), True, "rollout status is only available for RollingUpdate strategy type"),
    ],
)
def test_daemonset_rollout_status_matches_kubectl(ds: dict, done: bool, message: str) -> None:
    status = rollout_status(ds)
    assert (status.done, status.message) == (done, message)


def test_replica_counts_and_summary() -> None:
    counts = replica_counts(
        deployment({"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2})
    )
    assert (counts.desired, counts.updated, counts.ready, counts.available) == (3, 3, 2, 2)
    assert counts.summary == "2 of 3 updated replicas available"
    assert replica_counts(deployment({"updatedReplicas": 1})).summary == "1 of 3 replicas updated, 0 available"
    ds = replica_counts(daemonset({"updatedNumberScheduled": 4, "numberReady": 4, "numberAvailable": 3}))
    assert (ds.desired, ds.updated, ds.ready, ds.available) == (4, 4, 4, 3)


def replicaset(name: str, revision: str | None, owner_uid: str, image: str, age: int, replicas: int = 0) -> dict:
    annotations = {"deployment.kubernetes.io/revision": revision} if revision else {}
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": ts(age),
            "annotations": annotations,
            "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner_uid, "controller": True}],
        },
        "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}},
        "status": {"replicas": replicas},
    }


def test_revision_history_is_newest_first_and_only_owned_replicasets() -> None:
    replicasets = [
        replicaset("web-a", "2", "dep-uid", "shop/web:1.1", 7200),
        replicaset("web-c", "10", "dep-uid", "shop/web:1.3", 60, replicas=3),
        replicaset("web-b", "9", "dep-uid", "shop/web:1.2", 3600),
        replicaset("other-x", "11", "other-uid", "shop/other:1", 30),
        replicaset("web-norev", None, "dep-uid", "shop/web:0", 9000),
    ]
    history = revision_history(deployment(DONE), replicasets)
    assert [(r.number, r.replicaset, r.images, r.replicas) for r in history] == [
        (10, "web-c", ("shop/web:1.3",), 3),  # numeric order: 10 is newer than 9
        (9, "web-b", ("shop/web:1.2",), 0),
        (2, "web-a", ("shop/web:1.1",), 0),
    ]
    assert history[0].created == NOW - timedelta(seconds=60)


# --- problems: Backstage plugins/kubernetes-common/src/error-detection/{pods,deployments,hpas}.ts -----------------


def pod(name: str, *, labels=None, containers=(), phase: str = "Running", **extra) -> dict:
    statuses = [status for _spec, status in containers]
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": f"uid-{name}",
            "labels": labels or {},
            "creationTimestamp": ts(600),
            **extra.pop("metadata", {}),
        },
        "spec": {"nodeName": "node-1", "containers": [spec for spec, _status in containers], **extra.pop("spec", {})},
        "status": {"phase": phase, "containerStatuses": statuses, **extra.pop("status", {})},
    }


def container(name: str, state: dict, *, ready: bool = False, restarts: int = 0, last: dict | None = None, probe=None):
    spec = {"name": name, "image": f"shop/{name}:1"}
    if probe:
        spec["readinessProbe"] = probe
    status = {"name": name, "ready": ready, "restartCount": restarts, "state": state, "lastState": last or {}}
    return spec, status


def running(name: str, **kwargs):
    return container(name, {"running": {"startedAt": ts(300)}}, ready=True, **kwargs)


def crash_loop(name: str):
    waiting = {"reason": "CrashLoopBackOff", "message": f"back-off 5m0s restarting failed container={name}"}
    last = {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": ts(20)}}
    return container(name, {"waiting": waiting}, restarts=5, last=last)


def waiting(name: str, reason: str, message: str | None = None):
    state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    return container(name, state)


def test_crash_loop_back_off_and_its_restarts() -> None:
    problems = pod_problems(pod("web-1", containers=[crash_loop("api")]), now=NOW)
    assert [(p.reason, p.container) for p in problems] == [("CrashLoopBackOff", "api"), ("Error", "api")]
    assert problems[0].message == "back-off 5m0s restarting failed container=api"
    assert problems[0].hint == "the container keeps exiting; check its previous logs (l, then p)"
    assert problems[1].message == "container=api restarted 5 times (last exit code 1, Error)"
    assert problems[0].severity == 4


@pytest.mark.parametrize(
    ("reason", "hint_part"),
    [
        ("ImagePullBackOff", "check the image name and tag"),
        ("ErrImagePull", "check the image name and tag"),
        ("InvalidImageName", "image reference is malformed"),
        ("CreateContainerConfigError", "ConfigMap or Secret"),
    ],
)
def test_waiting_container_problems(reason: str, hint_part: str) -> None:
    message = f'{reason}: something about "shop/api:1"'
    problems = pod_problems(pod("web-1", containers=[waiting("api", reason, message)]), now=NOW)
    assert [(p.reason, p.message, p.container) for p in problems] == [(reason, message, "api")]
    assert hint_part in problems[0].hint


def test_container_creating_without_message_is_not_a_problem() -> None:
    assert pod_problems(pod("web-1", containers=[waiting("api", "ContainerCreating")]), now=NOW) == []


def test_oom_killed_last_termination() -> None:
    last = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": ts(30)}}
    problems = pod_problems(pod("web-1", containers=[running("api", restarts=2, last=last)]), now=NOW)
    assert [p.reason for p in problems] == ["OOMKilled"]
    assert problems[0].message == "container=api restarted 2 times (last exit code 137, OOMKilled)"
    assert "raise its memory limit" in problems[0].hint


PROBE = {
    "httpGet": {"path": "/ready", "port": 8080},
    "initialDelaySeconds": 5,
    "periodSeconds": 10,
    "failureThreshold": 3,
}


def test_readiness_probe_failing_after_its_grace_period() -> None:
    started_long_ago = container("api", {"running": {"startedAt": ts(60)}}, probe=PROBE)  # 5 + 10 * 3 = 35 s < 60 s
    problems = pod_problems(pod("web-1", containers=[started_long_ago]), now=NOW)
    assert [(p.reason, p.message) for p in problems] == [
        ("ReadinessProbeFailed", "The container api failed to start properly, but is not crashing")
    ]
    assert "readiness probe" in problems[0].hint
    just_started = container("api", {"running": {"startedAt": ts(10)}}, probe=PROBE)
    assert pod_problems(pod("web-1", containers=[just_started]), now=NOW) == []


def test_unhealthy_event_flags_readiness_before_the_grace_period() -> None:
    just_started = container("api", {"running": {"startedAt": ts(10)}}, probe=PROBE)
    subject = pod("web-1", containers=[just_started])
    event = {
        "type": "Warning",
        "reason": "Unhealthy",
        "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "uid-web-1"},
    }
    unrelated = {**event, "involvedObject": {"kind": "Pod", "name": "web-2", "namespace": "shop", "uid": "uid-web-2"}}
    assert [p.reason for p in pod_problems(subject, [event], now=NOW)] == ["ReadinessProbeFailed"]
    assert pod_problems(subject, [unrelated], now=NOW) == []


def test_deployment_condition_problems() -> None:
    conditions = [
        {
            "type": "Available",
            "status": "False",
            "reason": "MinimumReplicasUnavailable",
            "message": "Deployment does not have minimum availability.",
        },
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": 'ReplicaSet "web-5d" has timed out progressing.',
        },
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": 'pods "web-5d-" is forbidden: exceeded quota',
        },
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "fine"},
    ]
    problems = workload_problems(deployment({**DONE, "conditions": conditions}))
    assert [(p.reason, p.severity) for p in problems] == [
        ("MinimumReplicasUnavailable", 6),
        ("ProgressDeadlineExceeded", 6),
        ("FailedCreate", 6),
    ]
    assert problems[1].message == 'ReplicaSet "web-5d" has timed out progressing.'
    assert "the rollout is stuck" in problems[1].hint


def test_hpa_at_max_replicas() -> None:
    hpa = {
        "metadata": {"name": "web"},
        "spec": {"minReplicas": 2, "maxReplicas": 10},
        "status": {"currentReplicas": 10},
    }
    problems = hpa_problems(hpa)
    assert [(p.reason, p.severity) for p in problems] == [("AtMaxReplicas", 8)]
    assert (
        problems[0].message == "Current number of replicas (10) is equal to the configured max number of replicas (10)"
    )
    assert "raise maxReplicas" in problems[0].hint
    assert hpa_problems({**hpa, "status": {"currentReplicas": 4}}) == []
    assert hpa_problems({"spec": {"maxReplicas": 3}, "status": {}}) == []


# --- kubectl STATUS column: printPod in pkg/printers/internalversion/printers.go ------------------------------------


def test_pod_summary_of_a_healthy_pod() -> None:
    summary = pod_summary(pod("web-1", containers=[running("api"), running("proxy")]), now=NOW)
    assert (summary.name, summary.phase, summary.status, summary.ready, summary.restarts) == (
        "web-1",
        "Running",
        "Running",
        "2/2",
        0,
    )
    assert (summary.age, summary.node, summary.last_termination_reason) == (600, "node-1", None)


def test_waiting_reason_beats_phase_and_last_termination_is_reported() -> None:
    summary = pod_summary(pod("web-1", containers=[running("proxy"), crash_loop("api")]), now=NOW)
    assert (summary.status, summary.ready, summary.restarts, summary.last_termination_reason) == (
        "CrashLoopBackOff",
        "1/2",
        5,
        "Error",
    )


def test_terminating_pod() -> None:
    terminating = pod("web-1", containers=[running("api")], metadata={"deletionTimestamp": ts(5)})
    assert pod_summary(terminating, now=NOW).status == "Terminating"
    lost = pod(
        "web-1", containers=[running("api")], metadata={"deletionTimestamp": ts(5)}, status={"reason": "NodeLost"}
    )
    assert pod_summary(lost, now=NOW).status == "Unknown"
    done = pod("job-1", phase="Succeeded", metadata={"deletionTimestamp": ts(5)})
    assert pod_summary(done, now=NOW).status == "Succeeded"


def test_init_containers() -> None:
    init_spec = {"initContainers": [{"name": "migrate"}, {"name": "warm"}]}
    done = {
        "name": "migrate",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"reason": "Completed", "exitCode": 0}},
    }
    running_init = {"name": "warm", "ready": False, "restartCount": 0, "state": {"running": {"startedAt": ts(5)}}}
    initializing = pod(
        "web-1",
        phase="Pending",
        containers=[waiting("api", "PodInitializing")],
        spec=init_spec,
        status={"initContainerStatuses": [done, running_init]},
    )
    assert pod_summary(initializing, now=NOW).status == "Init:1/2"
    failed = {**running_init, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    crashing_init = pod(
        "web-1",
        phase="Pending",
        containers=[waiting("api", "PodInitializing")],
        spec=init_spec,
        status={"initContainerStatuses": [done, failed]},
    )
    summary = pod_summary(crashing_init, now=NOW)
    assert (summary.status, summary.restarts) == ("Init:CrashLoopBackOff", 3)
    exited = {**running_init, "state": {"terminated": {"exitCode": 2}}}
    errored = pod("web-1", phase="Pending", spec=init_spec, status={"initContainerStatuses": [done, exited]})
    assert pod_summary(errored, now=NOW).status == "Init:ExitCode:2"


def test_completed_pod_and_completed_with_a_running_container() -> None:
    completed = container("job", {"terminated": {"reason": "Completed", "exitCode": 0}})
    assert pod_summary(pod("job-1", phase="Succeeded", containers=[completed]), now=NOW).status == "Completed"
    # The last status in the list decides the reason; a still-running one turns "Completed" back into Running/NotReady.
    mixed = pod("web-1", containers=[running("api"), completed])
    assert pod_summary(mixed, now=NOW).status == "NotReady"
    ready = pod(
        "web-1", containers=[running("api"), completed], status={"conditions": [{"type": "Ready", "status": "True"}]}
    )
    assert pod_summary(ready, now=NOW).status == "Running"
    signalled = container("api", {"terminated": {"signal": 9, "exitCode": 137}})
    assert pod_summary(pod("web-1", phase="Failed", containers=[signalled]), now=NOW).status == "Signal:9"


def test_pending_and_evicted_pods_use_phase_or_reason() -> None:
    assert pod_summary(pod("web-1", phase="Pending"), now=NOW).status == "Pending"
    evicted = pod("web-1", phase="Failed", status={"reason": "Evicted"})
    assert pod_summary(evicted, now=NOW).status == "Evicted"


# --- events -----------------------------------------------------------------------------------------------------


def event(kind: str, name: str, reason: str, type_: str, seconds_ago: int, uid: str | None = None, **extra) -> dict:
    involved = {"kind": kind, "name": name, "namespace": "shop", **({"uid": uid} if uid else {})}
    return {
        "metadata": {"name": f"{name}.{reason}", "namespace": "shop"},
        "involvedObject": involved,
        "reason": reason,
        "message": f"{reason} happened",
        "type": type_,
        "count": 2,
        "lastTimestamp": ts(seconds_ago),
        **extra,
    }


def test_relevant_events_warning_first_then_newest() -> None:
    web_pod = pod("web-1")
    objects = [deployment(DONE), web_pod]
    events = [
        event("Deployment", "web", "ScalingReplicaSet", "Normal", 50, uid="dep-uid"),
        event("Pod", "web-1", "BackOff", "Warning", 300, uid="uid-web-1"),
        event("Pod", "web-1", "Pulled", "Normal", 10),
        event("Pod", "web-1", "Unhealthy", "Warning", 20),
        event("Pod", "other-1", "Killing", "Warning", 1),
        event("Pod", "web-1", "Stale", "Normal", 5, uid="uid-of-an-earlier-web-1"),  # same name, another pod
    ]
    rows = relevant_events(events, objects)
    assert [(r.type, r.reason, r.object) for r in rows] == [
        ("Warning", "Unhealthy", "Pod/web-1"),
        ("Warning", "BackOff", "Pod/web-1"),
        ("Normal", "Pulled", "Pod/web-1"),
        ("Normal", "ScalingReplicaSet", "Deployment/web"),
    ]
    assert rows[0].count == 2 and rows[0].last_seen == NOW - timedelta(seconds=20)
    assert is_warning(rows[0]) and not is_warning(events[0]) and is_warning(events[1])


def test_events_k8s_io_shape_is_read() -> None:
    new_style = {
        "metadata": {"name": "web-1.x", "namespace": "shop"},
        "regarding": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
        "reason": "Failed",
        "note": "Error: ErrImagePull",
        "type": "Warning",
        "series": {"count": 4, "lastObservedTime": ts(3)},
        "eventTime": ts(100),
    }
    (row,) = relevant_events([new_style], [pod("web-1")])
    assert row == EventRow("Warning", "Failed", "Error: ErrImagePull", "Pod/web-1", 4, NOW - timedelta(seconds=3))


def test_workload_spec_selector_to_string() -> None:
    from idp_tui.kube.selection import selector_from_label_selector

    spec_selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"},
        ],
    }
    text = selector_from_label_selector(spec_selector)
    assert text == "app=web,tier in (front,edge),!canary,team"
    assert matches({"app": "web", "tier": "edge", "team": "a"}, text)
    assert not matches({"app": "web", "tier": "edge", "team": "a", "canary": "1"}, text)


@pytest.mark.parametrize("value", ["²", "٣", "1²", "-", "9" * 19])
def test_a_gt_lt_value_that_is_not_a_plain_integer_is_refused_when_parsed_not_when_matched(value):
    # str.isdigit() says yes to "²" and "٣" but int() refuses "²", and Kubernetes parses gt/lt values as int64:
    # each must fail at parse time with a message, never later with a ValueError while matching pods.
    with pytest.raises(SelectorError, match="must be an integer|invalid label value"):
        parse_selector(f"replicas>{value}")
    assert matches({"replicas": "3"}, "replicas>2") and not matches({"replicas": "²"}, "replicas<5")
