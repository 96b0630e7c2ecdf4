"""``idp-tui deployments REF``: an entity's workloads on every cluster, with rollout status, pods and problems."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .output import error, print_json

if TYPE_CHECKING:
    from ..kube.report import DeploymentsReport
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
    except NoClusters as problem:
        error(str(problem))
        return 2
    # Never a silent demo: a script must be able to tell the demo cluster's answers from a real cluster's.
    report = deployments_report(entity.key, selector, snapshots, demo=clusters.demo, now=datetime.now(UTC))
    if args.json:
        from .deployments_json import deployments_json

        print_json(deployments_json(report))
    else:
        _print_report(report)
    return 0


def _print_report(report: DeploymentsReport) -> None:
    from ..render.deployments import cluster_rows
    from .output import console

    out = console()
    namespace = report.selector.namespace or "any namespace"
    source = " · demo cluster" if report.demo else ""
    header = f"{report.entity}: pods labelled {report.selector.label_selector} in {namespace}{source}"
    out.print(header, highlight=False, soft_wrap=True)  # one line, as the rows: whole for grep, wrapped by the terminal
    for cluster in report.clusters:
        out.print()
        for row in cluster_rows(cluster):
            out.print(row.text, soft_wrap=True)
