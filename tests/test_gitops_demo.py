"""The demo's GitOps story through the official client: Argo CD Applications and Argo Rollouts served by the demo
cluster, found by the Backstage Argo CD annotations, acted on with the exact requests Argo's tools send (checked in
the demo cluster's request log), and changed by the stand-in controllers the way Argo CD and Argo Rollouts would.

Expected requests and outcomes are Argo's documented behaviour (argoproj/argo-cd ``docs/user-guide/sync-kubectl.md``
and ``docs/user-guide/annotations-and-labels.md``; argoproj/argo-rollouts ``cmd/promote/promote.go`` and
``cmd/abort/abort.go``, whose patches ``kubectl argo rollouts`` sends).
"""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path

import kubernetes
import pytest
from test_gitops_fixtures import crd, crd_errors, pruned

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.errors import ActionFailed, MutationRefused
from idp_tui.kube.gitops.access import KubeconfigGitOps, applications_in
from idp_tui.kube.gitops.actions import AbortRollout, PromoteRollout, RefreshApplication, SyncApplication
from idp_tui.kube.gitops.argocd import parse_application
from idp_tui.kube.gitops.rollouts import rollout_info
from idp_tui.kube.gitops.selection import application_selection
from idp_tui.kube.selection import selector_for
from idp_tui.resources import demo_catalog_path
from idp_tui.session import Session

CONTEXTS = ["demo-eu", "demo-us"]
NS = "checkout-platform"
APPS = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
ROLLOUT = f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/rollouts/checkout-web"
WRITES = ("PATCH", "PUT", "POST", "DELETE")


def start(tmp: Path, **options) -> tuple[DemoCluster, KubeconfigGitOps, str]:
    demo = DemoCluster(**options)
    demo.start()
    kubeconfig = str(demo.write_kubeconfig(tmp / "kubeconfig"))
    return demo, KubeconfigGitOps(KubeconfigClusters(kubeconfig, CONTEXTS, demo=True)), kubeconfig


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A demo cluster only read from (its rollouts and syncs would take minutes)."""
    demo, source, kubeconfig = start(tmp_path_factory.mktemp("gitops"), rollout_seconds=600)
    yield demo, source, kubeconfig
    demo.stop()


@pytest.fixture
def own(tmp_path):
    """A demo cluster of its own, whose syncs take 0.3 s and whose Rollout's new pods start in 1 s (four replicas)."""
    demo, source, kubeconfig = start(tmp_path, rollout_seconds=4.0, sync_seconds=0.3)
    yield demo, source, kubeconfig
    demo.stop()


@pytest.fixture(scope="module")
def catalog():
    return LocalCatalogSource([demo_catalog_path()], use_cache=False).load()


def api(kubeconfig: str, context: str) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=kubeconfig, context=context)


def current(source: KubeconfigGitOps, plural: str, name: str) -> dict:
    cluster, namespace = ("demo-eu", "argocd") if plural == "applications" else ("demo-us", NS)
    return source.current(cluster, plural, namespace, name)


def until(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def writes(demo: DemoCluster) -> list[dict]:
    return [r for r in demo.requests if r["method"] in WRITES]


# -- served like a cluster with Argo CD and Argo Rollouts ------------------------------------------------------------


def test_discovery_lists_argos_resources_as_their_crds_declare_them(shared):
    _, _, kubeconfig = shared
    eu, us = api(kubeconfig, "demo-eu"), api(kubeconfig, "demo-us")
    groups = {g.name: g for g in kubernetes.client.ApisApi(eu).get_api_versions().groups}
    assert groups["argoproj.io"].preferred_version.group_version == "argoproj.io/v1alpha1"
    resources = {
        r.name: r for r in kubernetes.client.CustomObjectsApi(eu).get_api_resources("argoproj.io", "v1alpha1").resources
    }
    crd_verbs = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
    assert (resources["applications"].kind, resources["applications"].short_names) == ("Application", ["app", "apps"])
    assert resources["applications"].namespaced and resources["applications"].verbs == crd_verbs
    assert (resources["rollouts"].kind, resources["rollouts"].short_names, resources["rollouts"].verbs) == (
        "Rollout",
        ["ro"],
        crd_verbs,
    )
    assert resources["rollouts/status"].verbs == ["get", "patch", "update"]
    # Argo CD's CRD has no status subresource; Argo Rollouts' has one.
    assert "rollouts/status" in resources and "applications/status" not in resources
    # Argo CD runs on demo-eu only; Argo Rollouts is installed on both.
    us_resources = {
        r.name for r in kubernetes.client.CustomObjectsApi(us).get_api_resources("argoproj.io", "v1alpha1").resources
    }
    assert us_resources == {"rollouts", "rollouts/status"}


def test_every_demo_object_is_valid_for_argos_crds_and_nothing_would_be_pruned(shared):
    demo, _, _ = shared
    objects = [
        *demo.cluster("demo-eu").items("applications"),
        *demo.cluster("demo-us").items("rollouts"),
    ]
    assert len(objects) == 5
    for obj in objects:
        assert crd_errors(obj) == [], obj["metadata"]["name"]
        assert pruned(obj, crd(obj["kind"])["openAPIV3Schema"]) == [], obj["metadata"]["name"]


def test_lists_carry_kind_and_api_version_and_label_selectors_apply(shared):
    _, _, kubeconfig = shared
    custom = kubernetes.client.CustomObjectsApi(api(kubeconfig, "demo-eu"))
    listed = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications")
    assert listed["kind"] == "ApplicationList" and listed["apiVersion"] == "argoproj.io/v1alpha1"
    assert {item["kind"] for item in listed["items"]} == {"Application"}
    chosen = custom.list_namespaced_custom_object(
        "argoproj.io",
        "v1alpha1",
        "argocd",
        "applications",
        label_selector="backstage.io/kubernetes-id in (promo-engine,checkout-web)",
    )
    assert [item["metadata"]["name"] for item in chosen["items"]] == ["checkout-web", "promo-engine"]
    with pytest.raises(kubernetes.client.ApiException) as missing:
        kubernetes.client.CustomObjectsApi(api(kubeconfig, "demo-us")).list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications"
        )
    assert missing.value.status == 404


# -- the story ---------------------------------------------------------------------------------------------------


def test_the_four_applications_tell_the_story(shared):
    _, source, _ = shared
    (eu, us) = source.applications(application_selection({"argocd/project-name": "payments"}) or None)
    assert us.installed is False and us.error is None and eu.installed
    apps = {app.name: app for result in source.applications(_everything()) for app in result.applications}
    payment = apps["payment-processor"]
    assert (payment.sync_status, payment.health_status, payment.problems) == ("Synced", "Healthy", ())
    assert len(payment.history) >= 3 and payment.history[0].revision == payment.sync_revision
    assert [entry.id for entry in payment.history] == sorted((entry.id for entry in payment.history), reverse=True)

    promo = apps["promo-engine"]
    assert promo.sync_status == "OutOfSync"
    drifted = [r for r in promo.resources if r.status == "OutOfSync"]
    assert [(r.kind, r.namespace, r.name) for r in drifted] == [("ConfigMap", NS, "promo-engine-flags")]
    assert any(
        p.reason == "OutOfSync" and "ConfigMap/checkout-platform/promo-engine-flags" in p.message
        for p in promo.problems
    )

    worker = apps["settlement-worker"]
    assert (worker.sync_status, worker.health_status) == ("Synced", "Degraded")
    (unhealthy,) = worker.resources
    assert (unhealthy.kind, unhealthy.name, unhealthy.health) == ("Deployment", "settlement-worker", "Degraded")
    assert unhealthy.health_message == 'Deployment "settlement-worker" exceeded its progress deadline'

    web = apps["checkout-web"]
    assert (web.sync_status, web.health_status, web.destination_server) == ("Synced", "Suspended", "demo-us")


def _everything():
    return application_selection({"argocd/app-selector": "backstage.io/kubernetes-id"})


def test_the_drifted_configmap_is_in_the_cluster_with_its_hand_made_value(shared):
    _, _, kubeconfig = shared
    live = kubernetes.client.CoreV1Api(api(kubeconfig, "demo-eu")).read_namespaced_config_map("promo-engine-flags", NS)
    assert live.data["max-discount-percent"] == "90"  # git says 20
    assert (
        live.metadata.annotations["argocd.argoproj.io/tracking-id"]
        == "promo-engine:/ConfigMap:checkout-platform/promo-engine-flags"
    )


def test_checkout_web_is_a_canary_paused_at_step_2_of_4_at_25_percent_with_stable_and_canary_pods(shared, catalog):
    _, source, _ = shared
    (eu, us) = source.rollouts(selector_for(catalog.find("checkout-web")))
    assert eu.rollouts == () and eu.error is None
    (rollout,) = us.rollouts
    assert (rollout.phase, rollout.canary.step, rollout.canary.steps, rollout.canary.set_weight) == ("Paused", 2, 4, 25)
    assert rollout.pause_reasons == ("CanaryPauseStep",) and rollout.canary.current_step == "pause (until promoted)"
    roles = {rs.roles: rs for rs in rollout.replica_sets if rs.roles}
    assert len(roles[("stable",)].pods) == 3 and len(roles[("canary",)].pods) == 1
    assert roles[("canary",)].images == ("ghcr.io/acme/checkout-web:2024.12.0",)
    assert rollout.canary.actual_weight == 25  # one of four available pods runs the canary


# -- every annotation rule resolves to the demo's applications ---------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"argocd/app-name": "payment-processor"}, {("demo-eu", "payment-processor")}),
        (
            {"argocd/app-name": "payment-processor, settlement-worker"},
            {("demo-eu", "payment-processor"), ("demo-eu", "settlement-worker")},
        ),
        ({"argocd/app-selector": "backstage.io/kubernetes-id=checkout-web"}, {("demo-eu", "checkout-web")}),
        ({"argocd/project-name": "payments"}, {("demo-eu", "payment-processor"), ("demo-eu", "settlement-worker")}),
        ({"argocd/app-name": "promo-engine", "argocd/app-namespace": "argocd"}, {("demo-eu", "promo-engine")}),
        ({"argocd/app-name": "promo-engine", "argocd/app-namespace": "apps"}, set()),  # Argo CD keeps none there
        ({"argocd/app-name": "promo-engine", "argocd/instance-name": "demo-eu"}, {("demo-eu", "promo-engine")}),
        ({"argocd/app-name": "promo-engine", "argocd/instance-name": "demo-us"}, set()),  # no Argo CD there
        ({"argocd/app-name": "no-such-app"}, set()),
    ],
)
def test_annotation_rules(shared, annotations, expected):
    _, source, _ = shared
    results = source.applications(application_selection(annotations))
    assert all(result.error is None for result in results)
    assert {(app.cluster, app.name) for result in results for app in result.applications} == expected
    if "argocd/instance-name" in annotations:
        assert [result.cluster for result in results] == [annotations["argocd/instance-name"]]


def test_the_demo_catalogs_entities_find_their_applications(shared, catalog):
    _, source, _ = shared
    found = {}
    for name in ("payment-processor", "promo-engine", "settlement-worker", "checkout-web"):
        results = source.applications(application_selection(catalog.find(name)))
        found[name] = [app.name for result in results for app in result.applications]
    assert found == {name: [name] for name in found}
    assert application_selection(catalog.find("cart-service")) is None


# -- actions: the exact requests, and what the controllers make of them ----------------------------------------


def test_sync_sends_the_operation_then_argo_cd_runs_it_restores_the_drift_and_records_it(own):
    demo, source, kubeconfig = own
    before = current(source, "applications", "promo-engine")
    history = len(before["status"]["history"])
    source.apply(SyncApplication("demo-eu", "argocd", "promo-engine", username="maria.okafor"))
    (patch,) = writes(demo)
    assert (patch["method"], patch["path"], patch["content_type"]) == (
        "PATCH",
        f"{APPS}/promo-engine",
        "application/merge-patch+json",
    )
    body = json.loads(patch["body"])
    # docs/user-guide/sync-kubectl.md: an "operation" with initiatedBy and a hook sync strategy is a sync request.
    assert body["operation"]["initiatedBy"] == {"username": "maria.okafor"}
    assert body["operation"]["sync"]["syncStrategy"] == {"hook": {}}
    assert body["operation"]["sync"]["revision"] == "main" and body["status"] == {"operationState": None}
    assert body["metadata"] == {"resourceVersion": before["metadata"]["resourceVersion"]}
    gets = [r for r in demo.requests if r["method"] == "GET" and r["path"] == f"{APPS}/promo-engine"]
    assert len(gets) == 2  # ours (current) and SetAppOperation's read before writing

    running = current(source, "applications", "promo-engine")
    assert running["status"]["operationState"]["phase"] == "Running" and "operation" in running
    done = until(
        lambda: (
            (app := current(source, "applications", "promo-engine"))["status"]["operationState"]["phase"] == "Succeeded"
            and app
        ),
        "the sync to finish",
    )
    assert "operation" not in done  # setOperationState clears it once the operation completed
    assert done["status"]["operationState"]["message"] == "successfully synced (all tasks run)"
    app = parse_application(done, "demo-eu")
    assert app.sync_status == "Synced" and app.resources[0].kind == "Deployment"  # only the unhealthy one is left
    assert len(done["status"]["history"]) == history + 1
    newest = app.history[0]
    assert (newest.initiated_by.username, newest.revision) == ("maria.okafor", app.sync_revision)
    assert newest.id == before["status"]["history"][-1]["id"] + 1
    live = kubernetes.client.CoreV1Api(api(kubeconfig, "demo-eu")).read_namespaced_config_map("promo-engine-flags", NS)
    assert live.data["max-discount-percent"] == "20"
    assert crd_errors(done) == []


def test_a_second_sync_while_one_runs_is_refused_as_argo_cds_api_server_refuses_it(tmp_path):
    demo, source, _ = start(tmp_path, sync_seconds=30)
    try:
        source.apply(SyncApplication("demo-eu", "argocd", "payment-processor", username="alice"))
        with pytest.raises(ActionFailed, match="another operation is already in progress"):
            source.apply(SyncApplication("demo-eu", "argocd", "payment-processor", username="bob"))
        assert len(writes(demo)) == 1
    finally:
        demo.stop()


def test_a_stale_resource_version_is_a_conflict(own):
    demo, _, kubeconfig = own
    custom = kubernetes.client.CustomObjectsApi(api(kubeconfig, "demo-eu"))
    app = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "promo-engine")
    stale = str(int(app["metadata"]["resourceVersion"]) - 1)
    with pytest.raises(kubernetes.client.ApiException) as conflict:
        custom.patch_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            "argocd",
            "applications",
            "promo-engine",
            {"metadata": {"resourceVersion": stale}, "spec": {"project": "x"}},
        )
    assert conflict.value.status == 409
    assert "the object has been modified; please apply your changes to the latest version" in conflict.value.body


def test_refresh_sets_the_annotation_and_the_controller_compares_and_removes_it(own):
    demo, source, _ = own
    before = current(source, "applications", "promo-engine")
    time.sleep(1.1)  # reconciledAt has whole seconds
    patched = source.apply(RefreshApplication("demo-eu", "argocd", "promo-engine", hard=True))
    (patch,) = writes(demo)
    assert patch["body"] == '{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"hard"}}}'
    assert patch["content_type"] == "application/merge-patch+json"
    assert patched["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "hard"}  # the object as patched
    after = current(source, "applications", "promo-engine")
    # docs/user-guide/annotations-and-labels.md: "Removed by application controller after app is refreshed".
    assert "annotations" not in after["metadata"]
    assert after["status"]["reconciledAt"] > before["status"]["reconciledAt"]
    assert after["status"]["sync"]["status"] == "OutOfSync"  # a refresh compares; it does not sync


def test_the_controllers_json_patch_with_a_test_of_the_refresh_timestamp(own):
    """removeRefreshAnnotationCombo's JSON patch: a failed ``test`` is 422 and changes nothing."""
    _, source, kubeconfig = own
    source.apply(RefreshApplication("demo-eu", "argocd", "payment-processor"))
    client = api(kubeconfig, "demo-eu")
    from idp_tui.kube.actions import send

    path = f"{APPS}/payment-processor"
    send(
        client,
        "PATCH",
        path,
        body=b'{"metadata":{"annotations":{"x/y":"1"}}}',
        content_type="application/merge-patch+json",
    )
    bad = b'[{"op":"test","path":"/metadata/annotations/x~1y","value":"2"},{"op":"remove","path":"/metadata/annotations/x~1y"}]'
    with pytest.raises(kubernetes.client.ApiException) as refused:
        send(client, "PATCH", path, body=bad, content_type="application/json-patch+json")
    assert refused.value.status == 422
    good = bad.replace(b'"value":"2"', b'"value":"1"')
    after = send(client, "PATCH", path, body=good, content_type="application/json-patch+json")
    assert "x/y" not in (after["metadata"].get("annotations") or {})
    with pytest.raises(kubernetes.client.ApiException) as strategic:
        send(client, "PATCH", path, body=b"{}", content_type="application/strategic-merge-patch+json")
    assert strategic.value.status == 415  # custom resources have no strategic merge


def test_promote_clears_the_pause_and_the_canary_moves_to_step_3_of_4_then_completes(own):
    demo, source, kubeconfig = own
    source.apply(PromoteRollout("demo-us", NS, "checkout-web"))
    # promote.go: the pause conditions cleared through the status subresource; spec.paused was not set: no 2nd patch.
    assert [(r["method"], r["path"], r["body"], r["content_type"]) for r in writes(demo)] == [
        ("PATCH", f"{ROLLOUT}/status", '{"status":{"pauseConditions":null}}', "application/merge-patch+json")
    ]
    stepped = rollout_info(current(source, "rollouts", "checkout-web"))
    assert (stepped.canary.step, stepped.canary.steps, stepped.canary.set_weight) == (3, 4, 75)
    assert stepped.phase == "Progressing" and not stepped.paused
    # The canary's new pods start, the stable set shrinks, every step is done: the canary is the stable version.
    healthy = until(
        lambda: (info := rollout_info(current(source, "rollouts", "checkout-web"))).phase == "Healthy" and info,
        "the rollout to complete",
    )
    assert healthy.fully_promoted and healthy.available == 4 and healthy.canary.step == 4
    # Argo CD (on demo-eu) follows the Rollout on its destination cluster: Suspended, then Healthy.
    until(lambda: current(source, "applications", "checkout-web")["status"]["health"]["status"] == "Healthy", "Argo CD")
    events = kubernetes.client.CoreV1Api(api(kubeconfig, "demo-us")).list_namespaced_event(
        NS, field_selector="involvedObject.kind=Rollout"
    )
    messages = [event.message for event in events.items]
    assert "Rollout step 3/4 completed (pause)" in messages and "Rollout step 4/4 completed (setWeight: 75)" in messages


def test_abort_sets_abort_and_the_stable_version_gets_every_pod_back(own):
    demo, source, kubeconfig = own
    source.apply(AbortRollout("demo-us", NS, "checkout-web"))
    assert [(r["method"], r["path"], r["body"]) for r in writes(demo)] == [
        ("PATCH", f"{ROLLOUT}/status", '{"status":{"abort":true}}')
    ]
    rollout = current(source, "rollouts", "checkout-web")
    info = rollout_info(rollout)
    assert info.aborted and info.canary.set_weight == 0 and info.phase == "Degraded"
    assert info.message == "RolloutAborted: Rollout aborted update to revision 7"
    assert rollout["status"]["abortedAt"] and "pauseConditions" not in rollout["status"]
    pods = kubernetes.client.CoreV1Api(api(kubeconfig, "demo-us")).list_namespaced_pod(
        NS, label_selector="app.kubernetes.io/instance=checkout-web-rollout"
    )
    assert {pod.metadata.labels["rollouts-pod-template-hash"] for pod in pods.items} == {info.stable_hash}
    assert len(pods.items) == 4
    until(
        lambda: current(source, "applications", "checkout-web")["status"]["health"]["status"] == "Degraded", "Argo CD"
    )


def test_the_watch_follows_applications_and_rollouts(own):
    demo, source, _ = own
    changes: queue.Queue = queue.Queue()
    selection = application_selection({"argocd/app-name": "promo-engine"})
    app_watch = source.watch("demo-eu", applications=selection, on_change=changes.put)
    rollouts: queue.Queue = queue.Queue()
    rollout_watch = source.watch(
        "demo-us",
        rollouts=selector_for(
            {"metadata": {"name": "x", "annotations": {"backstage.io/kubernetes-id": "checkout-web"}}}
        ),
        on_change=rollouts.put,
    )
    try:
        (first,) = applications_in(changes.get(timeout=10), selection)
        assert first.sync_status == "OutOfSync"
        rollout = rollouts.get(timeout=10).objects["Rollout"]
        assert [r["metadata"]["name"] for r in rollout] == ["checkout-web"]
        source.apply(SyncApplication("demo-eu", "argocd", "promo-engine", username="maria.okafor"))
        source.apply(PromoteRollout("demo-us", NS, "checkout-web"))

        def synced():
            while True:
                (app,) = applications_in(changes.get(timeout=10), selection)
                if app.sync_status == "Synced":
                    return app

        assert synced().history[0].initiated_by.username == "maria.okafor"

        def stepped():
            while True:
                (obj,) = rollouts.get(timeout=10).objects["Rollout"]
                if rollout_info(obj).canary.step >= 3:
                    return obj

        assert rollout_info(stepped()).canary.step >= 3
        lists = [
            r for r in demo.requests if "argoproj" in r["path"] and r["method"] == "GET" and "watch" not in r["query"]
        ]
        assert len([r for r in lists if r["path"].endswith("/applications")]) == 1  # listed once, then watched
    finally:
        app_watch.stop()
        rollout_watch.stop()


# -- read-only ---------------------------------------------------------------------------------------------------


def test_a_read_only_session_reads_but_sends_no_mutating_request():
    with Session.for_catalog(read_only=True) as session:
        source = session.gitops_source()
        assert source.read_only and source.supports_actions
        (eu, _) = source.applications(application_selection({"argocd/app-name": "promo-engine"}))
        assert [app.name for app in eu.applications] == ["promo-engine"]
        for action in (
            SyncApplication("demo-eu", "argocd", "promo-engine", username="x"),
            RefreshApplication("demo-eu", "argocd", "promo-engine"),
            PromoteRollout("demo-us", NS, "checkout-web"),
            AbortRollout("demo-us", NS, "checkout-web"),
        ):
            with pytest.raises(MutationRefused, match=r"^read-only mode is on: not running `"):
                source.apply(action)
        requests = session.demo_cluster.requests
        assert requests and not [r for r in requests if r["method"] in WRITES]


def test_malformed_applications_from_a_cluster_are_shown_as_unknown_never_a_crash(own):
    """A cluster with other (or no) CRD schemas may hold what Argo's schema refuses: it is read, not a crash."""
    demo, source, _ = own
    state = demo.cluster("demo-eu")
    with state.lock:
        state.put(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "odd", "namespace": "argocd", "labels": {"team": "odd"}},
                "spec": "not an object",
                "status": [1, 2],
            }
        )
    (eu, _) = source.applications(application_selection({"argocd/app-selector": "team=odd"}))
    assert eu.error is None
    (odd,) = eu.applications
    assert (odd.name, odd.sync_status, odd.health_status, odd.project) == ("odd", "Unknown", "Unknown", "default")
