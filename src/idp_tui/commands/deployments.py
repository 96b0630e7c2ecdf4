"""``idp-tui deployments REF``: an entity's workloads on every cluster, with rollout status, pods and problems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .output import error, print_json

if TYPE_CHECKING:
    from ..catalog.entity import Entity
    from ..kube.gitops.report import ClusterGitOps
    from ..kube.report import DeploymentsReport
    from ..kube.selection import WorkloadSelector
    from ..kube.snapshot import ClusterSnapshot
    from ..session import Session


def add_parser(subparsers) -> None:
    deployments = subparsers.add_parser(
        "deployments", help="an entity's Kubernetes workloads, rollout status, pods, problems and events"
    )
    deployments.add_argument("ref", help="[kind:][namespace/]name, e.g. payment-processor")
    deployments.add_argument("--context", action="append", help="only this kubeconfig context (repeatable)")
    deployments.add_argument("--json", action="store_true", help="print the report as JSON")
    deployments.set_defaults(handler=deployments_command)


def deployments_command(args, session: Session) -> int:
    from ..kube.report import deployments_report
    from ..kube.selection import SelectorError, selector_for

    catalog = session.catalog_source.load()
    entity = catalog.find(args.ref)
    if entity is None:
        error(f"no entity {args.ref!r} in the catalog")
        return 1
    try:
        selector = selector_for(entity)
    except SelectorError as problem:
        error(str(problem))
        return 1
    if selector is None:
        error(
            f"{entity.key} has no backstage.io/kubernetes-id or backstage.io/kubernetes-label-selector annotation, "
            "so no workloads can be matched to it"
        )
        return 1
    from ..kube.errors import NoClusters

    try:
        # The demo cluster starts here, on 127.0.0.1, in the demo; the session stops it.
        clusters = session.workload_source(args.context)
        snapshots = clusters.snapshot(selector)
        now = datetime.now(UTC)
        gitops = read_gitops(session, args.context, entity, selector, snapshots, now)
    except NoClusters as problem:
        error(str(problem))
        return 2
    # Never a silent demo: a script must be able to tell the demo cluster's answers from a real cluster's.
    report = deployments_report(entity.key, selector, snapshots, demo=clusters.demo, now=now)
    if args.json:
        from .deployments_json import deployments_json

        print_json(deployments_json(report, gitops))
    else:
        _print_report(report, gitops)
    return 0


def read_gitops(
    session: Session,
    contexts: list[str] | None,
    entity: Entity,
    selector: WorkloadSelector,
    snapshots: list[ClusterSnapshot],
    now: datetime,
) -> list[ClusterGitOps]:
    """Each cluster's Argo CD applications for ``entity`` (by its ``argocd/*`` annotations) and its Argo Rollouts
    (by its workloads' selector), in the clusters' order. What cannot be read is one line on stderr; a cluster
    without Argo CD or Argo Rollouts installed is simply without them.

    Only the Rollouts are listed: their ReplicaSets, pods and events are the workloads' ``snapshots`` (the same
    label selector), as the Deployments screen combines its watches."""
    from ..kube.gitops.report import ClusterGitOps, rollout_reports
    from ..kube.gitops.selection import ApplicationSelectionError, application_selection

    source = session.gitops_source(contexts)
    applications: dict[str, tuple] = {}
    try:
        selection = application_selection(entity)
    except ApplicationSelectionError as problem:
        error(f"{entity.key}: {problem}")
        selection = None
    if selection is not None:
        for result in source.applications(selection):
            if result.error:
                error(f"{result.cluster}: Argo CD applications: {result.error}")
            applications[result.cluster] = result.applications
    readable = {snapshot.name: snapshot for snapshot in snapshots if not snapshot.error}
    rollouts: dict[str, tuple] = {}
    for result in source.rollouts(selector, with_replica_sets=False):
        snapshot = readable.get(result.cluster)
        if snapshot is None:
            continue  # the cluster's own error is said with its workloads
        if result.error:
            error(f"{result.cluster}: Argo Rollouts: {result.error}")
        workloads = snapshot.objects
        rollouts[result.cluster] = rollout_reports(
            result.objects, workloads.get("ReplicaSet", []), workloads.get("Pod", []), snapshot.events, now
        )
    names = [name for name in source.cluster_names() if name in applications or name in rollouts]
    return [ClusterGitOps(name, applications.get(name, ()), rollouts.get(name, ())) for name in names]


def _print_report(report: DeploymentsReport, gitops: list[ClusterGitOps]) -> None:
    from ..render.deployments import cluster_rows
    from .output import console

    out = console()
    namespace = report.selector.namespace or "any namespace"
    source = " · demo cluster" if report.demo else ""
    header = f"{report.entity}: pods labelled {report.selector.label_selector} in {namespace}{source}"
    out.print(header, highlight=False, soft_wrap=True)  # one line, as the rows: whole for grep, wrapped by the terminal
    by_cluster = {item.cluster: item for item in gitops}
    for cluster in report.clusters:
        out.print()
        for row in cluster_rows(cluster, gitops=by_cluster.get(cluster.name)):
            out.print(row.text, soft_wrap=True)
    # Applications read from an Argo CD on a cluster whose workloads were not asked for (it deploys elsewhere).
    for name, item in by_cluster.items():
        if item.applications and name not in {cluster.name for cluster in report.clusters}:
            from ..render.gitops import application_rows

            out.print()
            out.print(f"▌ Argo CD on {name}", highlight=False, soft_wrap=True)
            for app in item.applications:
                for row in application_rows(name, app):
                    out.print(row.text, soft_wrap=True)
