"""Time from pressing ``d`` to the first complete Deployments view on the demo, as a ratio against a baseline.

    .venv/bin/python tests/benchmarks/deployments.py [--repeats 5]
    .venv/bin/python tests/benchmarks/deployments.py --gitops [--repeats 7]

Ours: in the TUI (80x24), ``d`` on payment-processor until the first frame that shows every cluster's workloads
(the demo cluster already running, as it is after the first use in a session): the key is sent as the terminal
driver sends it, and the time ends at the frame (``pilot_timing.time_key_to_frame``). Baseline, same run and same
demo cluster: the single ``list pods`` call a ``kubectl get pods -l ...`` makes through the official client, per
cluster. Also printed: the screen's own time from opening to the complete view (the "worker" line), and the
same ``d`` timed by ``pilot.press`` (which returns only once the whole process is idle, so every watch stream
opening counts) with that measure's floor, a key that only moves the cursor.

``--gitops``: ``d`` on payment-processor until the complete view with its Argo CD application (and the Argo
Rollouts watch of every cluster) is on screen, against the same ``d`` with the GitOps reading left out (the
screen's GitOps watches replaced by "nothing to read"), alternating, same session and demo cluster. Target: < 1.2x.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pilot_timing import time_key_on_entity, time_key_to_frame


async def _press_d(app, workers: list[float] | None = None, *, pilot: bool = False) -> float:
    from idp_tui.screens.deployments import DeploymentsScreen

    shown: list[DeploymentsScreen] = []

    def complete(screen) -> bool:
        if isinstance(screen, DeploymentsScreen) and screen.complete:
            shown.append(screen)
        return bool(shown)

    timing = time_key_on_entity if pilot else time_key_to_frame
    total = await timing(app, "d", complete, "component:default/payment-processor")
    measure = "pilot.press" if pilot else "to the frame"
    print(f"  worker {shown[0].first_load_seconds * 1000:.0f} ms of {total * 1000:.0f} ms ({measure})")
    if workers is not None:
        workers.append(shown[0].first_load_seconds)
    return total


async def _press_down(app) -> float:
    """The harness's floor: a key that moves the home list's cursor, timed as ``d`` is."""
    return await time_key_on_entity(app, "down", lambda screen: True, "component:default/payment-processor")


def bench(repeats: int) -> dict:
    from kubernetes import client, config

    from idp_tui.app import IdpApp
    from idp_tui.session import Session

    cache = Path(tempfile.mkdtemp())
    session = Session.for_catalog(cache_dir=cache)
    kubeconfig = session.workload_source().config_file  # the session's demo cluster is up before the first d
    ours, baseline, workers, pilot, floor = [], [], [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for context in ("demo-eu", "demo-us"):
            api = client.CoreV1Api(api_client=config.new_client_from_config(config_file=kubeconfig, context=context))
            api.list_namespaced_pod("checkout-platform", label_selector="backstage.io/kubernetes-id=payment-processor")
        baseline.append(time.perf_counter() - started)
        shutil.rmtree(cache)  # each app starts on an empty cache, as a first run does
        cache.mkdir()
        ours.append(asyncio.run(_press_d(IdpApp(session), workers)))
        shutil.rmtree(cache)
        cache.mkdir()
        pilot.append(asyncio.run(_press_d(IdpApp(session), pilot=True)))
        shutil.rmtree(cache)
        cache.mkdir()
        floor.append(asyncio.run(_press_down(IdpApp(session))))
    session.close()
    return {
        "ours_s": statistics.median(ours),
        "baseline_s": statistics.median(baseline),
        "ratio": statistics.median(ours) / statistics.median(baseline),
        "worker_s": statistics.median(workers),
        "pilot_s": statistics.median(pilot),
        "floor_s": statistics.median(floor),
    }


def bench_gitops(repeats: int) -> dict:
    from idp_tui.screens.deployments import DeploymentsScreen

    from idp_tui.app import IdpApp
    from idp_tui.session import Session

    cache = Path(tempfile.mkdtemp())
    session = Session.for_catalog(cache_dir=cache)
    session.workload_source()  # the session's demo cluster is up before the first d
    real = DeploymentsScreen._follow_gitops

    def without(screen, selector, names, *rest) -> None:
        screen._gitops_finished(None)

    with_argo, without_argo = [], []
    for index in range(repeats * 2):
        gitops = index % 2 == 0
        DeploymentsScreen._follow_gitops = real if gitops else without
        shutil.rmtree(cache)
        cache.mkdir()
        (with_argo if gitops else without_argo).append(asyncio.run(_press_d(IdpApp(session))))
    DeploymentsScreen._follow_gitops = real
    session.close()
    ours, base = statistics.median(with_argo), statistics.median(without_argo)
    return {"with_s": ours, "without_s": base, "ratio": ours / base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gitops", action="store_true", help="with the Argo CD data against without it")
    args = parser.parse_args()
    if args.gitops:
        result = bench_gitops(args.repeats)
        print(
            f"d to the complete view with Argo CD: {result['with_s'] * 1000:.0f} ms; without it: "
            f"{result['without_s'] * 1000:.0f} ms; ratio {result['ratio']:.2f}x (target < 1.2x)"
        )
        return
    result = bench(args.repeats)
    print(
        f"d to the first frame of the complete view: {result['ours_s'] * 1000:.0f} ms; baseline (one pod list per "
        f"cluster): {result['baseline_s'] * 1000:.0f} ms; ratio {result['ratio']:.1f}x (target <= 3x)"
    )
    base = result["baseline_s"]
    print(
        f"  the screen, open to complete view on screen: {result['worker_s'] * 1000:.0f} ms "
        f"({result['worker_s'] / base:.1f}x)\n  timed by pilot.press instead: {result['pilot_s'] * 1000:.0f} ms "
        f"({result['pilot_s'] / base:.1f}x); that measure's floor (a cursor move): {result['floor_s'] * 1000:.0f} ms "
        f"({result['floor_s'] / base:.1f}x)"
    )


if __name__ == "__main__":
    main()
