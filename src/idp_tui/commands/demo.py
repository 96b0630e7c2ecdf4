"""``idp-tui demo cluster``: the demo cluster in the foreground, for kubectl and k9s beside idp-tui.

The TUI starts its own demo cluster when Deployments first opens, inside its process. This command serves the same
demo on its own, until Ctrl-C, and writes a kubeconfig for it, so the kubectl commands idp-tui's confirmations show
can be tried for real (``kubectl get``, ``describe``, ``rollout``, ``scale``, ``logs``) and k9s can browse it.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="run a part of the bundled demo in the foreground (for kubectl, k9s)")
    servers = demo.add_subparsers(dest="demo_command", metavar="SERVER", required=True)
    cluster = servers.add_parser(
        "cluster",
        help="the demo Kubernetes cluster on 127.0.0.1 over HTTPS; prints export KUBECONFIG=…; Ctrl-C stops it",
        description="Serve the demo Kubernetes cluster (contexts demo-eu and demo-us) until Ctrl-C. The first line "
        "printed is 'export KUBECONFIG=<path>': run it in another shell, then kubectl or k9s reads the demo.",
    )
    cluster.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="where to write its kubeconfig (default: <state dir>/demo-cluster/kubeconfig, the same path each run, "
        "so an exported KUBECONFIG keeps working after a restart)",
    )
    scale = cluster.add_argument_group(
        "scale mode",
        "a generated fleet instead of the demo's clusters: K contexts (fleet-eu, fleet-us, fleet-ap, fleet-4…), "
        "services with 1 to 500 replicas and a few huge ones (edge-gateway: a tenth of the pods over three "
        "clusters), ReplicaSets, HPAs and Events, the same for the same --seed; its catalog and an idp-tui profile "
        "are written beside the kubeconfig",
    )
    scale.add_argument("--pods", type=_count(1, MAX_PODS), metavar="N", help="pods in all (e.g. 20000)")
    scale.add_argument("--clusters", type=_count(1, MAX_CLUSTERS), metavar="K", help="clusters (default 3)")
    scale.add_argument("--seed", type=int, default=1, help="another fleet of the same size (default 1)")
    scale.add_argument(
        "--churn",
        type=_rate,
        metavar="RATE",
        help="pod events per second through the watches: rolling updates, restarts, evictions",
    )
    scale.add_argument(
        "--churn-only", metavar="ID", help="churn only this service's pods (its backstage.io/kubernetes-id)"
    )
    cluster.set_defaults(handler=demo_cluster_command, needs_session=False)


MAX_PODS = 200_000
MAX_CLUSTERS = 50
MAX_RATE = 20_000.0


def _count(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}")
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_RATE:,.0f} events per second")
    return value


def demo_cluster_command(args, session: object = None) -> int:
    """Serve the demo cluster until Ctrl-C (or SIGTERM, SIGHUP); 0 when stopped that way."""
    from ..kube.demo_cluster.server import DemoCluster, default_certificate_dir

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # A signal ends the wait below: no KeyboardInterrupt traceback, and the server stops cleanly.
        signal.signal(number, lambda *_: stop.set())
    scale = args.pods is not None or args.clusters is not None or args.churn is not None
    fleet = None
    if scale:
        from ..kube.demo_cluster.fleet import FleetSpec

        fleet = FleetSpec(pods=args.pods or 20_000, clusters=args.clusters or 3, seed=args.seed)
    elif args.churn_only:
        sys.stderr.write("idp-tui: --churn-only needs --churn (and scale mode)\n")
        return 2
    cluster = DemoCluster(fleet=fleet)
    path = Path(args.kubeconfig).expanduser() if args.kubeconfig else default_certificate_dir() / "kubeconfig"
    path = path.absolute()
    try:
        if fleet is not None:
            started = time.perf_counter()
            cluster.build_all()  # before serving: no request waits for 20,000 pods to be made
            built = time.perf_counter() - started
        url = cluster.start()
        path.parent.mkdir(parents=True, exist_ok=True)
        cluster.write_kubeconfig(path)
        contexts = cluster.contexts
        sys.stdout.write(f"export KUBECONFIG={shlex.quote(str(path))}\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"idp-tui: demo cluster on {url} (contexts {', '.join(contexts)}; current {contexts[0]}) until Ctrl-C.\n"
            "idp-tui: run the export line above in another shell, then e.g. kubectl get pods -A, or k9s.\n"
        )
        if fleet is not None:
            config = _write_fleet_profile(cluster, path)
            sys.stderr.write(
                f"idp-tui: a fleet of {fleet.pods:,} pods over {fleet.clusters} clusters (seed {fleet.seed}), made in "
                f"{built:.1f} s; its catalog in idp-tui: IDP_TUI_CONFIG={shlex.quote(str(config))} idp-tui\n"
            )
            if args.churn:
                cluster.start_churn(args.churn, only=args.churn_only)
                only = f" of {args.churn_only}" if args.churn_only else ""
                sys.stderr.write(f"idp-tui: churning {args.churn:g} pod events per second{only}\n")
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
    finally:
        cluster.stop()
    sys.stderr.write("idp-tui: demo cluster stopped\n")
    return 0


def _write_fleet_profile(cluster, kubeconfig: Path) -> Path:
    """The fleet's catalog and a config file whose default profile reads it with every fleet context."""
    import yaml

    folder = kubeconfig.parent / "fleet"
    catalog = cluster.write_catalog(folder / "catalog")
    profile = {
        "catalog": str(catalog.parent),
        "kubernetes": {"kubeconfig": str(kubeconfig), "contexts": cluster.contexts, "demo": True},
    }
    config = folder / "config.yaml"
    config.write_text(
        "# Written by idp-tui demo cluster (scale mode): the fleet's catalog on its clusters.\n"
        + yaml.safe_dump({"default_profile": "fleet", "profiles": {"fleet": profile}}, sort_keys=False),
        encoding="utf-8",
    )
    return config
