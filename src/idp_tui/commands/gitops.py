"""``idp-tui gitops sync|refresh|promote|abort REF``: act on an entity's Argo CD application or Argo Rollout.

Each action says what it will do and the equivalent command (``argocd app sync NAME``, ``argocd app get NAME
--refresh``, ``kubectl argo rollouts promote NAME``...), asks on a terminal (``--yes`` skips the question) and then
sends through the Kubernetes API what Argo's own tools send. Exit status: 0 done (or nothing to do), 1 the entity,
its application or rollout was not found or the cluster refused, 2 refused before anything was changed (read-only
mode, no terminal to ask on and no ``--yes``, several candidates and none chosen, no clusters).

Finding the target only reads (lists and GETs); in read-only mode nothing that changes a cluster is sent.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Any

from ..safe_text import clean
from .output import error, print_json

if TYPE_CHECKING:
    from ..catalog.entity import Entity
    from ..kube.gitops.protocols import GitOpsSource
    from ..session import Session

APP_ACTIONS = ("sync", "refresh")
ROLLOUT_ACTIONS = ("promote", "abort")


def add_parser(subparsers) -> None:
    gitops = subparsers.add_parser(
        "gitops", help="sync or refresh an entity's Argo CD application; promote or abort its Argo Rollout"
    )
    actions = gitops.add_subparsers(dest="gitops_action", metavar="ACTION", required=True)
    helps = {
        "sync": "sync the Argo CD application to its target revision (argocd app sync)",
        "refresh": "compare the Argo CD application with git now (argocd app get --refresh)",
        "promote": "move the Argo Rollout past its current pause or step (kubectl argo rollouts promote)",
        "abort": "abort the Argo Rollout's update: the stable version gets the traffic (kubectl argo rollouts abort)",
    }
    for name, text in helps.items():
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("ref", help="[kind:][namespace/]name, e.g. promo-engine")
        if name in APP_ACTIONS:
            action.add_argument("--app", metavar="NAME", help="the application, when the entity has several")
        else:
            action.add_argument("--rollout", metavar="NAME", help="the rollout, when the entity has several")
        if name == "refresh":
            action.add_argument("--hard", action="store_true", help="also drop Argo CD's manifest cache")
        if name == "promote":
            action.add_argument("--full", action="store_true", help="skip the remaining steps, pauses and analysis")
        action.add_argument("--context", action="append", help="only this kubeconfig context (repeatable)")
        action.add_argument("--yes", "-y", action="store_true", help="do not ask (needed when stdin is no terminal)")
        action.add_argument("--json", action="store_true", help="print the outcome as JSON")
        action.set_defaults(handler=gitops_command)


def gitops_command(args, session: Session) -> int:
    from ..kube.errors import ClusterError, NoClusters

    entity = session.catalog_source.load().find(args.ref)
    if entity is None:
        error(f"no entity {args.ref!r} in the catalog")
        return 1
    try:
        source = session.gitops_source(args.context)
        if args.gitops_action in APP_ACTIONS:
            target = _application(args, entity, source, session.username)
        else:
            target = _rollout(args, entity, source)
    except NoClusters as problem:
        error(str(problem))
        return 2
    except _Stop as stop:
        error(stop.message)
        return stop.code
    except ClusterError as problem:
        error(str(problem))
        return 1
    action, current = target
    return _run(args, entity, source, action, current)


class _Stop(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _say_cluster_errors(results: list[Any]) -> None:
    for result in results:
        if result.error:
            error(f"{result.cluster}: {result.error}")


def _application(args, entity: Entity, source: GitOpsSource, username: str) -> tuple[Any, dict[str, Any]]:
    from ..kube.gitops.actions import RefreshApplication, SyncApplication
    from ..kube.gitops.selection import ApplicationSelectionError, application_selection

    try:
        selection = application_selection(entity)
    except ApplicationSelectionError as problem:
        raise _Stop(1, f"{entity.key}: {problem}") from None
    if selection is None:
        raise _Stop(
            1,
            f"{entity.key} has no argocd/app-name, argocd/app-selector or argocd/project-name annotation, so no "
            "Argo CD application can be matched to it",
        )
    results = source.applications(selection)
    _say_cluster_errors(results)
    found = [
        (app, obj)
        for result in results
        for app, obj in zip(result.applications, result.objects, strict=True)
        if args.app is None or app.name == args.app
    ]
    what = f"Argo CD application {args.app!r}" if args.app else "Argo CD application"
    if not found:
        where = ", ".join(r.cluster for r in results if r.installed and not r.error) or "no cluster running Argo CD"
        raise _Stop(1, f"{entity.key}: no {what} found (asked: {where})")
    if len(found) > 1:
        names = ", ".join(f"{app.name} ({app.cluster}/{app.namespace})" for app, _ in found)
        option = "--context" if args.app else "--app NAME"
        raise _Stop(2, f"{entity.key} has {len(found)} Argo CD applications: {names}; choose one with {option}")
    app, obj = found[0]
    if args.gitops_action == "refresh":
        return RefreshApplication(app.cluster, app.namespace, app.name, hard=args.hard), dict(obj)
    return SyncApplication(app.cluster, app.namespace, app.name, username=username), dict(obj)


def _rollout(args, entity: Entity, source: GitOpsSource) -> tuple[Any, dict[str, Any]]:
    from ..kube.gitops.actions import AbortRollout, PromoteRollout
    from ..kube.selection import SelectorError, selector_for

    try:
        selector = selector_for(entity)
    except SelectorError as problem:
        raise _Stop(1, str(problem)) from None
    if selector is None:
        raise _Stop(
            1,
            f"{entity.key} has no backstage.io/kubernetes-id or backstage.io/kubernetes-label-selector annotation, "
            "so no Argo Rollout can be matched to it",
        )
    results = source.rollouts(selector, with_replica_sets=False)  # the Rollouts alone say what to act on
    _say_cluster_errors(results)
    found = [
        (result.cluster, info, obj)
        for result in results
        for info, obj in zip(result.rollouts, result.objects, strict=True)
        if args.rollout is None or info.name == args.rollout
    ]
    if not found:
        named = f" {args.rollout!r}" if args.rollout else ""
        raise _Stop(1, f"{entity.key}: no Argo Rollout{named} labelled {selector.label_selector} on any cluster")
    if len(found) > 1:
        names = ", ".join(f"{info.name} ({cluster}/{info.namespace})" for cluster, info, _ in found)
        option = "--context" if args.rollout else "--rollout NAME"
        raise _Stop(2, f"{entity.key} has {len(found)} Argo Rollouts: {names}; choose one with {option}")
    cluster, info, obj = found[0]
    if args.gitops_action == "promote":
        return PromoteRollout(cluster, info.namespace, info.name, full=args.full), dict(obj)
    return AbortRollout(cluster, info.namespace, info.name), dict(obj)


def _run(args, entity: Entity, source: GitOpsSource, action: Any, current: dict[str, Any]) -> int:
    from ..kube.errors import ActionFailed, ClusterError, MutationRefused
    from ..kube.gitops.actions import PromoteRollout

    commands = action.kubectl_commands(current)
    outcome: dict[str, Any] = {
        "action": args.gitops_action,
        "entity": entity.key,
        "cluster": action.cluster,
        "namespace": action.namespace,
        "name": action.name,
        "command": action.command,
        "kubectl": commands,
        "demo": source.demo,
    }
    if isinstance(action, PromoteRollout) and not action.plan(current).requests:
        return _done(args, outcome, "nothing to promote: the rollout is fully promoted", None)
    if source.read_only or not source.supports_actions:
        error(f"read-only mode is on: not running `{action.command}`")
        return 2
    if not args.yes:
        if not sys.stdin.isatty():
            error(f"stdin is not a terminal, so nothing can be confirmed: add --yes to run `{action.command}`")
            return 2
        out = sys.stderr if args.json else sys.stdout
        demo = " (on the demo cluster)" if source.demo else ""
        out.write(f"{clean(action.describe(), one_line=True)}{demo}\n  {clean(action.command, one_line=True)}\n")
        out.write("Proceed? [y/N] ")
        out.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            error("cancelled: nothing was sent")
            return 1
    try:
        result = source.apply(action)
    except MutationRefused as problem:
        error(str(problem))
        return 2
    except ActionFailed as problem:
        error(str(problem))
        return 1
    # The answer is the object as patched; read it once more to show what the controller made of it so far.
    plural = "applications" if args.gitops_action in APP_ACTIONS else "rollouts"
    with contextlib.suppress(ClusterError):
        result = source.current(action.cluster, plural, action.namespace, action.name)
    return _done(args, outcome, _summary(args.gitops_action, action, result), result)


def _summary(kind: str, action: Any, result: dict[str, Any]) -> str:
    from ..kube.gitops.argocd import parse_application
    from ..kube.gitops.rollouts import rollout_info

    if kind in APP_ACTIONS:
        app = parse_application(result, action.cluster)
        if kind == "sync":
            operation = app.operation
            state = f"operation {operation.phase.lower()}" if operation and operation.running else "requested"
            return f"sync {state}; now {app.sync_status}, {app.health_status}"
        return f"refresh requested; now {app.sync_status}, {app.health_status}"
    return f"{'promoted' if kind == 'promote' else 'aborted'}; now {rollout_info(result).summary}"


def _done(args, outcome: dict[str, Any], summary: str, result: dict[str, Any] | None) -> int:
    from ..kube.gitops.argocd import parse_application
    from ..kube.gitops.rollouts import rollout_info
    from .gitops_json import application_json, rollout_json

    outcome["outcome"] = summary
    if args.json:
        if result is None:
            outcome["result"] = None
        elif args.gitops_action in APP_ACTIONS:
            outcome["result"] = application_json(parse_application(result, outcome["cluster"]))
        else:
            outcome["result"] = rollout_json(rollout_info(result))
        print_json(outcome)
        return 0
    where = f"{outcome['cluster']}/{outcome['namespace']}/{outcome['name']}"
    source = " · demo cluster" if outcome["demo"] else ""
    sys.stdout.write(clean(f"{where}{source}: {summary}", one_line=True) + "\n")
    if args.yes:  # not shown before asking: say what was run
        sys.stdout.write(f"  {clean(outcome['command'], one_line=True)}\n")
    return 0
