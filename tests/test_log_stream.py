"""The one log stream (``kube/log_stream.py``) that ``idp-tui logs`` and the Logs screen share: batches, back-pressure
all the way to the API server, lines in order, and a stop that leaves no thread behind.

A local server speaks the API server's wire format for what a tail asks (the pod list, a chunked ``pods/log``
stream, a pod watch held open) and writes numbered lines as fast as the socket takes them, counting what it wrote;
the official client reads it through :class:`KubeconfigClusters`, as for a real cluster.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from idp_tui.kube.access import KubeconfigClusters
from idp_tui.kube.demo_cluster.server import DemoCluster
from idp_tui.kube.log_stream import LogStream, LogTarget
from idp_tui.kube.logs import LogLine, LogOptions
from idp_tui.local_http import LocalRequestHandler, LocalServer

PODS = ("fast-7d9f-aaaaa", "fast-7d9f-bbbbb")
SELECTOR = "app=fast"
LINES_PER_CHUNK = 200


class _Feed:
    """What the server streams, and how many lines it has written to the sockets."""

    def __init__(self, lines: int | None) -> None:
        self.lines = lines  # per container without follow; with follow, endless
        self.written = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()


class _Handler(LocalRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")  # api v1 namespaces NS pods [NAME log]
        feed: _Feed = self.server.feed
        if parts[-1] == "pods" and query.get("watch") == ["true"]:
            self._chunked()
            feed.stopping.wait(float(query.get("timeoutSeconds", ["30"])[0]))  # no pods come or go
            self._end()
        elif parts[-1] == "pods":
            pods = [
                {"metadata": {"name": name, "namespace": parts[3]}, "spec": {"containers": [{"name": "app"}]}}
                for name in PODS
            ]
            body = json.dumps(
                {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}, "items": pods}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())
        else:
            self._log(parts[5], query.get("follow") == ["true"], feed)

    def _log(self, pod: str, follow: bool, feed: _Feed) -> None:
        self._chunked()
        number = 0
        while not feed.stopping.is_set() and (follow or number < feed.lines):
            count = LINES_PER_CHUNK if follow else min(LINES_PER_CHUNK, feed.lines - number)
            data = "".join(f"{pod} {n}\n" for n in range(number, number + count)).encode()
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))  # blocks while the client reads nothing
            except OSError:
                return
            number += count
            with feed.lock:
                feed.written += count
        self._end()

    def _chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _end(self) -> None:
        with contextlib.suppress(OSError):  # the client hung up
            self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def serve(tmp_path: Path):
    """Start a server feeding ``lines`` lines per container (None: endless) and return its kubeconfig's clusters."""
    started: list[tuple[LocalServer, _Feed]] = []

    def start(lines: int | None) -> tuple[KubeconfigClusters, _Feed]:
        feed = _Feed(lines)
        server = LocalServer(_Handler, name="fast-logs", quiet_errors=True, feed=feed)
        url = server.start()
        started.append((server, feed))
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            textwrap.dedent(
                f"""\
                apiVersion: v1
                kind: Config
                clusters:
                - {{name: fast, cluster: {{server: "{url}"}}}}
                - {{name: down, cluster: {{server: "http://127.0.0.1:1"}}}}
                contexts:
                - {{name: fast, context: {{cluster: fast, user: u}}}}
                - {{name: down, context: {{cluster: down, user: u}}}}
                current-context: fast
                users:
                - {{name: u, user: {{token: placeholder}}}}
                """
            )
        )
        return KubeconfigClusters(str(kubeconfig), ["fast"]), feed

    yield start
    for server, feed in started:
        feed.stopping.set()
        server.stop()


def _tail_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("idp-log")]


def test_lines_come_in_batches_in_order_and_none_is_lost(serve):
    clusters, _ = serve(30_000)
    stream = LogStream(clusters, LogTarget(SELECTOR, "ns"), LogOptions(), queue_lines=2_000, batch_lines=500).start()
    try:
        seen: dict[str, list[int]] = {pod: [] for pod in PODS}
        sizes = []
        for batch in stream.batches():
            sizes.append(len(batch))
            for item in batch:
                assert isinstance(item, LogLine), item
                pod, number = item.text.split()
                seen[pod].append(int(number))
            time.sleep(0.002)  # a consumer slower than the server
    finally:
        stream.stop()
    assert all(numbers == list(range(30_000)) for numbers in seen.values())  # each container's order, every line
    # Batches, never one message per line (a UI caps near 700 messages a second), and never over the limit.
    assert max(sizes) == 500 and len(sizes) <= sum(sizes) // 100


def test_a_slow_consumer_holds_the_server_back_instead_of_growing_memory(serve):
    clusters, feed = serve(None)
    stream = LogStream(clusters, LogTarget(SELECTOR, "ns"), LogOptions(follow=True), queue_lines=2_000).start()
    try:
        batches = stream.batches()
        first = next(batches)
        assert first and all(isinstance(item, LogLine) for item in first)
        time.sleep(1.0)  # the consumer takes no more: the queue fills, the streams stop reading, the sockets fill
        held_back = feed.written
        time.sleep(1.0)
        # The server could write millions of lines a second; it is blocked on full sockets, not feeding our memory.
        assert feed.written - held_back <= LINES_PER_CHUNK * len(PODS)
        assert stream.lines.qsize() <= 2_000
        # Reading again releases it: lines flow once the consumer asks for them.
        for _ in range(20):
            next(batches)
        deadline = time.monotonic() + 5
        while feed.written == held_back and time.monotonic() < deadline:
            next(batches)
        assert feed.written > held_back
    finally:
        assert stream.stop()


def test_a_consumer_that_hands_batches_on_gets_no_more_until_it_has_shown_them(serve):
    clusters, _ = serve(None)
    stream = LogStream(clusters, LogTarget(SELECTOR, "ns"), LogOptions(follow=True), unabsorbed=2).start()
    handed: list[list] = []

    def post() -> None:  # the Logs screen's worker: each batch becomes a message to the UI thread
        for batch in stream.batches(handed_on=True):
            handed.append(batch)

    worker = threading.Thread(target=post)
    worker.start()
    try:
        time.sleep(1.0)
        assert len(handed) == 3  # two unabsorbed allowed, then the one that made it three: the screen is behind
        stream.absorbed()
        stream.absorbed()
        deadline = time.monotonic() + 5
        while len(handed) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert len(handed) == 5  # two shown, two more made, and no more
    finally:
        stream.stop()
        worker.join(5)
    assert not worker.is_alive()


def test_stop_ends_every_stream_and_the_pod_watch_and_leaves_no_thread(serve):
    clusters, _ = serve(None)
    stream = LogStream(clusters, LogTarget(SELECTOR, "ns"), LogOptions(follow=True), queue_lines=500).start()
    batches = stream.batches()
    next(batches)
    # Two streams blocked on a full queue and a watch blocked reading a quiet socket.
    assert len(_tail_threads()) == len(PODS) + 1
    started = time.monotonic()
    assert stream.stop() is True
    assert time.monotonic() - started < 1.0
    assert not stream.alive() and _tail_threads() == []
    assert list(batches) == []  # and the batches end


def test_a_cluster_that_cannot_be_listed_is_said_first_and_the_others_still_tail(serve, tmp_path):
    clusters, _ = serve(50)
    both = KubeconfigClusters(clusters.config_file, ["down", "fast"])
    stream = LogStream(both, LogTarget(SELECTOR, "ns"), LogOptions()).start()
    try:
        items = [item for batch in stream.batches() for item in batch]
    finally:
        stream.stop()
    assert stream.failed == ["down"]
    assert isinstance(items[0], str) and items[0].startswith("down: unreachable")
    assert sum(isinstance(item, LogLine) for item in items) == 50 * len(PODS)


def test_a_target_narrowed_to_one_pod_shows_only_its_lines(serve):
    clusters, _ = serve(100)
    target = LogTarget(SELECTOR, "ns", clusters=("fast",), pods_named=PODS[1])
    stream = LogStream(clusters, target, LogOptions()).start()
    try:
        lines = [item for batch in stream.batches() for item in batch]
    finally:
        stream.stop()
    assert len(lines) == 100 and {line.pod for line in lines} == {PODS[1]}


def test_stopping_the_demo_cluster_ends_its_open_connections(tmp_path):
    from kubernetes import client, config

    before = set(threading.enumerate())
    demo = DemoCluster()
    demo.start()
    api = config.new_client_from_config(
        config_file=str(demo.write_kubeconfig(tmp_path / "kubeconfig")), context="demo-eu"
    )
    assert client.CoreV1Api(api).list_namespaced_pod("checkout-platform").items  # its connection stays open, idle
    demo.stop()
    # No thread of the server is left waiting for the client's next request (nor writing to it while Python exits).
    assert set(threading.enumerate()) - before == set()


# Run in a child: ``idp-tui logs --follow`` on the demo cluster, Ctrl-C, then the threads still running are listed.
_CHILD = """
import sys, threading
from idp_tui.cli import main
code = main(["logs", "checkout-web", "--follow", "--context", "demo-eu"])
alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
sys.stderr.write(f"RETURNED {code} ALIVE {alive}\\n")
"""


def test_ctrl_c_on_a_follow_stops_every_thread_before_the_command_returns():
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().startswith("checkout-web-")  # streaming
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        stderr = process.stderr.read()
    finally:
        process.kill()
    # The log streams, the pod watch and the demo cluster's connections: all ended, none left to the interpreter's
    # shutdown (a thread still in a TLS read then can abort the process).
    assert re.search(r"RETURNED 0 ALIVE \[\]$", stderr, re.MULTILINE), stderr
