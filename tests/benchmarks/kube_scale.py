"""Deployments at scale: the demo cluster's generated fleet (20,000 pods over 3 clusters), ratios in one run.

    .venv/bin/python tests/benchmarks/kube_scale.py            # 20,000 pods, 30 s of churn (~75 s)
    .venv/bin/python tests/benchmarks/kube_scale.py --quick    # 6,000 pods, 10 s of churn (~30 s)
    .venv/bin/python tests/benchmarks/kube_scale.py --profile  # and where the time of one d goes (cProfile)

The fleet is served by a separate process (``DemoCluster(fleet=FleetSpec(...))``, as ``idp-tui demo cluster --pods
N --clusters K`` serves it), so its work does not share this process's interpreter; both figures below read the same
server.

(a) ``d`` on edge-gateway (2,000 pods over 3 clusters) in the TUI (80x24) until the first frame of the complete
    view (``pilot_timing.time_key_to_frame``: the key sent as the terminal driver sends it), against
    the raw list calls of the same data: the official client, every kind idp-tui reads (Deployments, ReplicaSets,
    StatefulSets, DaemonSets, Pods and, unlabelled, HPAs and Events) with the same selectors and namespace, paged
    with limit=500/continue, read as JSON, every cluster and kind at once. Target: <= 2x.
(b) The view open on edge-gateway while the server churns its pods at 500 pod events/s for 30 s (rolling updates,
    restarts, evictions): the longest event-loop stall (a 10 ms timer on the app's loop; baseline: the same view
    for the same time without churn), screen updates per second (frames the compositor sends to the terminal),
    and RSS of this process and of the server before and after. Target: stall < 100 ms, RSS bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import multiprocessing
import os
import pstats
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pilot_timing import highlight_entity, time_key_to_frame  # noqa: E402

SERVICE = "edge-gateway"
ENTITY = f"component:default/{SERVICE}"
KINDS = (
    ("AppsV1Api", "deployment", True),
    ("AppsV1Api", "replica_set", True),
    ("AppsV1Api", "stateful_set", True),
    ("AppsV1Api", "daemon_set", True),
    ("CoreV1Api", "pod", True),
    ("AutoscalingV2Api", "horizontal_pod_autoscaler", False),
    ("CoreV1Api", "event", False),
)


# -- the server, in its own process ----------------------------------------------------------------------------


def serve(pods: int, clusters: int, huge: int, folder: str, conn) -> None:
    """The child: serve the fleet, write its kubeconfig, catalog and profile, then obey ``conn``."""
    import yaml

    from idp_tui.kube.demo_cluster.fleet import FleetSpec
    from idp_tui.kube.demo_cluster.server import start_demo_cluster

    root = Path(folder)
    started = time.perf_counter()
    cluster = start_demo_cluster(
        root / "kubeconfig", fleet=FleetSpec(pods=pods, clusters=clusters, huge=huge), catalog=root / "catalog"
    )
    built = time.perf_counter() - started
    profile = {"catalog": str(root / "catalog"), "kubernetes": {"kubeconfig": str(root / "kubeconfig")}}
    profile["kubernetes"]["contexts"] = cluster.contexts
    (root / "config.yaml").write_text(yaml.safe_dump({"default_profile": "fleet", "profiles": {"fleet": profile}}))
    conn.send({"built_s": built, "contexts": cluster.contexts, "rss_mb": rss_mb()})
    while True:
        command, *args = conn.recv()
        if command == "churn":
            cluster.start_churn(args[0], only=SERVICE)
            conn.send({"rss_mb": rss_mb()})
        elif command == "stop":
            stats = cluster.stop_churn()
            conn.send({"pod_events": stats.pod_events if stats else 0, "seconds": stats.seconds if stats else 0,
                       "other": stats.other if stats else 0, "rss_mb": rss_mb()})  # fmt: skip
        else:
            cluster.stop()
            conn.send({})
            return


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- (a) d to the complete view --------------------------------------------------------------------------------


def raw_lists(kubeconfig: str, contexts: list[str], namespace: str) -> int:
    """Every list idp-tui makes for edge-gateway, through the official client, all at once; returns the objects."""
    from kubernetes import client, config

    from idp_tui.kube.paging import list_all

    def one(context: str, api: str, noun: str, labelled: bool) -> int:
        instance = getattr(client, api)(api_client=config.new_client_from_config(kubeconfig, context=context))
        options = {"_preload_content": False}
        if labelled:
            options["label_selector"] = f"backstage.io/kubernetes-id={SERVICE}"
        call = partial(getattr(instance, f"list_namespaced_{noun}"), namespace, **options)
        return len(list_all(call, noun)["items"])

    jobs = [(context, *kind) for context in contexts for kind in KINDS]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return sum(pool.map(lambda job: one(*job), jobs))


async def press_d(app, shown: list) -> float:
    from idp_tui.screens.deployments import DeploymentsScreen

    def complete(screen) -> bool:
        if isinstance(screen, DeploymentsScreen) and screen.complete:
            shown.append(screen)
        return bool(shown)

    return await time_key_to_frame(app, "d", complete, ENTITY)


def bench_d(session, kubeconfig: str, contexts: list[str], repeats: int, profile: bool) -> dict:
    from idp_tui.app import IdpApp

    ours, baseline, workers = [], [], []
    raw_lists(kubeconfig, contexts, "edge")  # once untimed: the client's API classes are imported on first use
    objects = 0
    for _ in range(repeats):
        started = time.perf_counter()
        objects = raw_lists(kubeconfig, contexts, "edge")
        baseline.append(time.perf_counter() - started)
        shown: list = []
        ours.append(asyncio.run(press_d(IdpApp(session), shown)))
        workers.append(shown[0].first_load_seconds or 0.0)
    result = {
        "objects": objects,
        "ours_s": statistics.median(ours),
        "worker_s": statistics.median(workers),
        "baseline_s": statistics.median(baseline),
    }
    result["ratio"] = result["ours_s"] / result["baseline_s"]
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(press_d(IdpApp(session), []))
        profiler.disable()
        result["profile"] = _top(profiler, "tottime", 25)
    return result


def _top(profiler: cProfile.Profile, order: str, count: int) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(count)
    return out.getvalue()


# -- (b) churn with the view open ------------------------------------------------------------------------------


async def watch_churn(session, conn, server_pid: int, rate: float, seconds: float, profile: bool, freeze: bool) -> dict:
    from idp_tui.app import IdpApp

    app = IdpApp(session)
    measured: dict = {}

    async def measure() -> None:
        gaps = {"max": 0.0}
        last = {"at": time.perf_counter()}
        frames = {"count": 0}
        display = app._display

        def counting(screen, renderable) -> None:
            if renderable is not None:
                frames["count"] += 1
            display(screen, renderable)

        app._display = counting

        def tick() -> None:
            now = time.perf_counter()
            gaps["max"] = max(gaps["max"], now - last["at"] - 0.01)
            last["at"] = now

        timer = app.set_interval(0.01, tick)

        collections = {"max": 0.0, "count": 0, "started": 0.0, "cpu": 0.0, "max_cpu": 0.0}

        def collected(phase: str, info: dict) -> None:
            # The cyclic collector runs in whichever thread allocates, holding the GIL: a long one is a stall too.
            if info.get("generation") != 2:
                return
            if phase == "start":
                collections["started"], collections["cpu"] = time.perf_counter(), time.thread_time()
            else:
                collections["count"] += 1
                collections["max"] = max(collections["max"], time.perf_counter() - collections["started"])
                collections["max_cpu"] = max(collections["max_cpu"], time.thread_time() - collections["cpu"])

        async def window(churn: bool) -> dict:
            gaps["max"], frames["count"], last["at"] = 0.0, 0, time.perf_counter()
            collections.update(max=0.0, count=0, max_cpu=0.0)
            before = {"tui_rss_mb": rss_mb(), "server_rss_mb": rss_mb(server_pid)}
            if churn:
                conn.send(("churn", rate))
                conn.recv()
            profiler = cProfile.Profile() if churn and profile else None
            gc.callbacks.append(collected)
            if profiler is not None:
                profiler.enable()
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
            gc.callbacks.remove(collected)
            stats = {}
            if churn:
                conn.send(("stop",))
                stats = conn.recv()
            tracked = len(gc.get_objects())
            after = {"tui_rss_mb": rss_mb(), "server_rss_mb": rss_mb(server_pid)}
            return {
                "tracked_objects": tracked,
                "after": after,
                # What a full collection now finds unreachable: cycles left by the churn (the view may defer them).
                "cyclic_garbage": gc.collect(),
                "tui_rss_after_collect_mb": rss_mb(),
                "stall_ms": gaps["max"] * 1000,
                "gc_full": collections["count"],
                "gc_full_max_ms": collections["max"] * 1000,
                "gc_full_max_cpu_ms": collections["max_cpu"] * 1000,
                "profile": _top(profiler, "cumulative", 30) if profiler is not None else None,
                "frames_per_s": frames["count"] / elapsed,
                "before": before,
                "pod_events_per_s": stats.get("pod_events", 0) / elapsed,
            }

        measured["idle"] = await window(churn=False)
        measured["churn"] = await window(churn=True)
        timer.stop()
        app._display = display

    # The same as time_key_on_entity, then the two windows inside the same run_test.
    async with app.run_test(size=(80, 24)) as pilot:
        from idp_tui.screens.deployments import DeploymentsScreen

        await highlight_entity(app, pilot, ENTITY)
        await pilot.pause()
        if freeze == "startup":
            gc.collect()
            gc.freeze()
        await pilot.press("d")
        while not (isinstance(app.screen, DeploymentsScreen) and app.screen.complete):
            await pilot.pause(0.01)
        if freeze == "view":
            gc.collect()
            gc.freeze()  # what is alive now is left out of every later full collection
        await measure()
    if freeze:
        gc.unfreeze()
    return measured


# -- the run ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6,000 pods and 10 s of churn")
    parser.add_argument("--pods", type=int, help="pods in the fleet (default 20,000; --quick 6,000)")
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=500.0, help="churn: pod events per second")
    parser.add_argument("--seconds", type=float, help="churn duration (default 30; --quick 10)")
    parser.add_argument("--profile", action="store_true", help="also profile one d (cProfile, by own time)")
    parser.add_argument(
        "--freeze",
        choices=("startup", "view"),
        help="(b) with gc.freeze() before d or once the view is complete (an experiment: the full collections' share)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args()
    pods = args.pods or (6_000 if args.quick else 20_000)
    seconds = args.seconds or (10.0 if args.quick else 30.0)
    folder = Path(tempfile.mkdtemp(prefix="idp-tui-kube-scale-"))
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
    os.environ["XDG_STATE_HOME"] = str(folder / "state")

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(pods, args.clusters, 2_000, str(folder), child), daemon=True)
    server.start()
    ready = parent.recv()
    print(f"fleet: {pods:,} pods over {args.clusters} clusters, built in {ready['built_s']:.1f} s "
          f"(server RSS {ready['rss_mb']:.0f} MB)")  # fmt: skip

    from idp_tui.config import load_config, resolve_profile
    from idp_tui.session import Session

    session = Session.from_profile(resolve_profile(load_config(folder / "config.yaml"), environ={}))
    kubeconfig = str(folder / "kubeconfig")
    figures: dict = {"pods": pods, "clusters": args.clusters}
    try:
        figures["d"] = bench_d(session, kubeconfig, ready["contexts"], args.repeats, args.profile)
        d = figures["d"]
        print(
            f"(a) d on {SERVICE} to the complete view: {d['ours_s'] * 1000:.0f} ms (worker {d['worker_s'] * 1000:.0f} "
            f"ms); raw list calls ({d['objects']:,} objects, every cluster and kind at once): "
            f"{d['baseline_s'] * 1000:.0f} ms; ratio {d['ratio']:.2f}x (target <= 2x)"
        )
        if args.profile:
            print(d.pop("profile"))
        churn = asyncio.run(watch_churn(session, parent, server.pid, args.rate, seconds, args.profile, args.freeze))
        figures["churn"] = churn
        idle, busy = churn["idle"], churn["churn"]
        print(
            f"(b) {busy['pod_events_per_s']:.0f} pod events/s for {seconds:.0f} s with the view open: longest loop "
            f"stall {busy['stall_ms']:.0f} ms (idle: {idle['stall_ms']:.0f} ms; target < 100 ms); "
            f"{busy['frames_per_s']:.1f} screen updates/s (idle {idle['frames_per_s']:.1f}); full garbage "
            f"collections {busy['gc_full']}, longest {busy['gc_full_max_ms']:.0f} ms ("
            f"{busy['gc_full_max_cpu_ms']:.0f} ms of CPU in its thread; objects the collector tracks: "
            f"{idle['tracked_objects']:,} idle, {busy['tracked_objects']:,} after the churn, of which a full "
            f"collection then frees {busy['cyclic_garbage']:,})"
        )
        if args.profile:
            print("    the event loop's thread during the churn, by cumulative time:")
            print(busy.pop("profile"))
        print(
            f"    RSS idp-tui {busy['before']['tui_rss_mb']:.0f} -> {busy['after']['tui_rss_mb']:.0f} MB, "
            f"server {busy['before']['server_rss_mb']:.0f} -> {busy['after']['server_rss_mb']:.0f} MB "
            f"(idle window: idp-tui {idle['before']['tui_rss_mb']:.0f} -> {idle['after']['tui_rss_mb']:.0f} MB; "
            f"after a full collection: {busy['tui_rss_after_collect_mb']:.0f} MB)"
        )
    finally:
        session.close()
        parent.send(("quit",))
        parent.recv()
        server.join(10)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
