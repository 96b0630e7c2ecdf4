"""Deterministic, continuous container logs: line ``i`` of a container always has the same time and text.

Each container writes 5-20 lines a second from its start time; the text mixes JSON lines and plain lines and
depends only on the seed, pod, container and index, so tails, ``sinceSeconds`` windows and follow streams agree.
Only the last ``RETAINED`` lines are kept, as after kubelet log rotation.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

RETAINED = 2000
NANOS = 1_000_000_000
PATHS = ["/v1/health", "/v1/items", "/v1/orders", "/v1/charges", "/v1/profile", "/v1/quotes"]
DOMAIN = {
    "payment-processor": [("charge captured", "amount"), ("charge authorized", "amount"), ("refund issued", "amount")],
    "cart-service": [("cart updated", "items"), ("cart checked out", "items")],
    "settlement-worker": [("settlement batch processed", "items")],
    "fraud-scoring-service": [("transaction scored", "score")],
    "risk-rules-engine": [("rules evaluated", "score"), ("rule cache reloaded", "items")],
}
CRASH = [
    (
        "error",
        "failed to connect to settlement ledger",
        {"error": "dial tcp 10.96.14.2:5432: connect: connection refused"},
    ),
    ("fatal", "startup checks failed, exiting", {"exit_code": 1}),
]


class LogError(Exception):
    """A log request the kubelet would refuse (HTTP 400 with this message)."""


def parse_time(text: str) -> int:
    """An RFC 3339 timestamp as Unix nanoseconds."""
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()) * NANOS


def rfc3339nano(nanos: int) -> str:
    """Unix nanoseconds as the kubelet's timestamp prefix, e.g. ``2026-11-24T16:00:00.123456789Z``."""
    seconds, fraction = divmod(nanos, NANOS)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


class ContainerLog:
    """The log of one run of one container.

    Args:
        seed: The demo seed.
        pod: The pod name.
        container: The container name.
        service: The workload's backstage.io/kubernetes-id (chooses plausible messages).
        start: Run start, Unix nanoseconds.
        end: Run end for a terminated run (None while it runs).
        ending: ``"Error"`` or ``"OOMKilled"`` for a terminated run's last lines.
    """

    def __init__(
        self, seed: int, pod: str, container: str, service: str, start: int, end: int | None = None, ending: str = ""
    ) -> None:
        self.key = f"{seed}:{pod}:{container}:{start}"
        self.container = container
        self.service = service
        self.start = start
        self.end = end
        self.ending = ending
        # 5 to 20 lines per second, fixed per container run.
        self.period = int(NANOS * (0.05 + random.Random(self.key).random() * 0.15))

    def count(self, now: int) -> int:
        """How many lines have been written by ``now``."""
        until = min(now, self.end) if self.end is not None else now
        return max(0, (until - self.start) // self.period + 1)

    def time_of(self, index: int) -> int:
        """The timestamp of line ``index``, Unix nanoseconds."""
        return self.start + index * self.period + (index * 7919 % 1000) * 1000

    def select(self, now: int, since: int | None = None, tail: int | None = None) -> range:
        """The retained line indexes, restricted to ``since`` (nanoseconds) and the last ``tail`` lines."""
        total = self.count(now)
        first = max(0, total - RETAINED)
        if since is not None:
            first = max(first, (since - self.start + self.period - 1) // self.period)
        if tail is not None:
            first = max(first, total - tail)
        return range(min(first, total), total)

    def line(self, index: int, timestamps: bool = False) -> str:
        """Line ``index`` with its trailing newline (and the kubelet's timestamp prefix when asked)."""
        at = self.time_of(index)
        text = self._text(index, at)
        return f"{rfc3339nano(at)} {text}\n" if timestamps else text + "\n"

    def _text(self, index: int, at: int) -> str:
        total = self.count(self.end) if self.end is not None else None
        stamp = rfc3339nano(at)[:23] + "Z"
        if total is not None and self.ending == "Error" and index >= total - len(CRASH):
            level, msg, extra = CRASH[index - (total - len(CRASH))]
            return json.dumps({"level": level, "ts": stamp, "msg": msg, **extra})
        rng = random.Random(f"{self.key}:{index}")
        trace = f"{rng.getrandbits(128):032x}"
        if self.container == "envoy":
            path, status = rng.choice(PATHS), rng.choice([200] * 30 + [201, 404, 503])
            return (
                f'[{stamp}] "{rng.choice(["GET", "POST"])} {path} HTTP/1.1" {status} - {rng.randint(0, 900)} '
                f'{rng.randint(40, 4000)} {rng.randint(1, 90)} "-" "Go-http-client/1.1" "{trace[:16]}" "{self.service}"'
            )
        if self.ending == "OOMKilled" and total is not None and index >= total - 20:
            heap = 380 + (index - total + 20) * 7
            return json.dumps(
                {"level": "warn", "ts": stamp, "msg": "heap usage high", "heap_mb": heap, "limit_mb": 512}
            )
        roll = rng.random()
        level = "error" if roll < 0.02 else "warn" if roll < 0.07 else "debug" if roll > 0.9 else "info"
        msg, field = rng.choice(
            DOMAIN.get(self.service, []) + [("request completed", "status"), ("cache refreshed", "items")]
        )
        value: Any = {
            "amount": round(rng.uniform(1, 400), 2),
            "items": rng.randint(1, 12),
            "status": 200,
            "score": round(rng.random(), 3),
        }[field]
        if level == "error":
            msg, field, value = "upstream request failed", "error", "context deadline exceeded"
        if rng.random() < 0.6:
            record = {"level": level, "ts": stamp, "msg": msg, field: value, "trace_id": trace}
            if msg == "request completed":
                record.update(method="GET", path=rng.choice(PATHS), duration_ms=rng.randint(1, 250))
            return json.dumps(record)
        return f"{stamp} {level.upper():5} {msg} {field}={value} trace_id={trace}"


def container_log(seed: int, pod: dict[str, Any], container: str | None, previous: bool) -> ContainerLog:
    """The log of ``container`` (current run, or the previous one) in ``pod``; raises LogError like the kubelet."""
    meta, spec = pod["metadata"], pod["spec"]
    names = [c["name"] for c in spec["containers"]]
    if container is None:
        if len(names) > 1:
            raise LogError(
                f"a container name must be specified for pod {meta['name']}, choose one of: [{' '.join(names)}]"
            )
        container = names[0]
    if container not in names:
        raise LogError(f"container {container} is not valid for pod {meta['name']}")
    status = next((s for s in pod["status"].get("containerStatuses", []) if s["name"] == container), {})
    service = meta.get("labels", {}).get("backstage.io/kubernetes-id", container)
    last = status.get("lastState", {}).get("terminated")
    if previous:
        if not last:
            raise LogError(f'previous terminated container "{container}" in pod "{meta["name"]}" not found')
        start, end = parse_time(last["startedAt"]), parse_time(last["finishedAt"])
        return ContainerLog(seed, meta["name"], container, service, start, end, last.get("reason", ""))
    running = status.get("state", {}).get("running")
    if running:
        return ContainerLog(seed, meta["name"], container, service, parse_time(running["startedAt"]))
    if last:
        # In CrashLoopBackOff the current logs are those of the run that just ended.
        start, end = parse_time(last["startedAt"]), parse_time(last["finishedAt"])
        return ContainerLog(seed, meta["name"] + "#current", container, service, start, end, last.get("reason", ""))
    reason = status.get("state", {}).get("waiting", {}).get("reason", "ContainerCreating")
    if reason == "ImagePullBackOff":
        reason = "trying and failing to pull image"
    raise LogError(f'container "{container}" in pod "{meta["name"]}" is waiting to start: {reason}')
