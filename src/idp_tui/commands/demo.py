"""``idp-tui demo cluster``: the demo cluster in the foreground, for kubectl and k9s beside idp-tui.

The TUI starts its own demo cluster when Deployments first opens, inside its process. This command serves the same
demo on its own, until Ctrl-C, and writes a kubeconfig for it, so the kubectl commands idp-tui's confirmations show
can be tried for real (``kubectl get``, ``describe``, ``rollout``, ``scale``, ``logs``) and k9s can browse it.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
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
    cluster.set_defaults(handler=demo_cluster_command, needs_session=False)


def demo_cluster_command(args, session: object = None) -> int:
    """Serve the demo cluster until Ctrl-C (or SIGTERM, SIGHUP); 0 when stopped that way."""
    from ..kube.demo_cluster.server import DemoCluster, default_certificate_dir

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # A signal ends the wait below: no KeyboardInterrupt traceback, and the server stops cleanly.
        signal.signal(number, lambda *_: stop.set())
    cluster = DemoCluster()
    url = cluster.start()
    try:
        path = Path(args.kubeconfig).expanduser() if args.kubeconfig else default_certificate_dir() / "kubeconfig"
        path.parent.mkdir(parents=True, exist_ok=True)
        cluster.write_kubeconfig(path.absolute())
        contexts = cluster.contexts
        sys.stdout.write(f"export KUBECONFIG={shlex.quote(str(path.absolute()))}\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"idp-tui: demo cluster on {url} (contexts {', '.join(contexts)}; current {contexts[0]}) until Ctrl-C.\n"
            "idp-tui: run the export line above in another shell, then e.g. kubectl get pods -A, or k9s.\n"
        )
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
    finally:
        cluster.stop()
    sys.stderr.write("idp-tui: demo cluster stopped\n")
    return 0
