"""Driving the evaluation worker: start it, give each document a deadline, find and drop a runaway policy.

Neither engine can be stopped from inside (see ``worker.py``), so each document's evaluation (every applicable
policy on it) must answer within the policy set's ``timeout``; otherwise the worker is killed and the document is
evaluated again policy by policy, each with the same deadline, in a new worker. A policy that is still too slow
on its own (or that makes the worker crash, or run out of memory) is reported once and left out from then on;
every other policy's verdicts on that document are kept. A slow document whose policies are each fast enough
keeps all its verdicts.

The parent never imports regopy or the CEL engine: documents and verdicts cross the pipe as JSON lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import idp_tui

from .models import PolicySet, TimeBudget
from .worker import ENGINES

SETUP_TIMEOUT = 60.0  # compiling every policy of a set: generous, but bounded
CHUNK = 256  # documents per request
# A document whose policies miss their deadline together is evaluated again policy by policy, each in a worker of
# its own if need be. Past this many policies that would take minutes (3,000 trivial rules compile for 10 s): the
# document is said not judged instead. After this many such documents in a row, the rest are not tried.
MAX_ISOLATED_POLICIES = 50
MAX_UNJUDGED_IN_A_ROW = 3


MAX_WORKER_MEMORY = 1024 * 1024 * 1024  # resident bytes; more is a runaway policy
MEMORY_CHECK_INTERVAL = 0.05
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class WorkerFailed(Exception):
    """The worker missed its deadline (``timeout``), ran past the evaluation's time budget (``budget``), used too
    much memory (``memory``) or stopped (``crash``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def timed_out(self) -> bool:
        return self.reason == "timeout"

    def words(self, timeout: float) -> str:
        """What happened, as the end of "evaluation …" or "compiling it …"."""
        if self.reason == "timeout":
            return f"took longer than {timeout:g} s"
        if self.reason == "memory":
            return f"used more than {MAX_WORKER_MEMORY // (1024 * 1024):,} MiB of memory"
        return "stopped idp-tui's policy worker (it crashed)"


def resident_memory(pid: int) -> int:
    """The resident set of a process in bytes (0 where /proc is not there to ask)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as status:
            return int(status.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _worker_command(wake: int, tasks: int | None) -> list[str]:
    # -I: no PYTHON* variables, no user site-packages, no current directory on sys.path; the package's own
    # location is added explicitly so a checkout run without installing works too.
    root = os.path.dirname(os.path.dirname(os.path.abspath(idp_tui.__file__)))
    code = f"import sys; sys.path.insert(0, {root!r}); from idp_tui.policy.worker import main; main({wake}, {tasks})"
    return [sys.executable, "-I", "-c", code]


class TaskQueue:
    """The tasks of an evaluation two workers share, two bytes each (a task's index) on a pipe both read: a worker
    that is done with one takes the next, so both finish together whatever each task takes, and however fast each
    CPU is at the time (on these shared machines a core ran a loop 1.7 times slower than the other, for seconds).

    The read end does not block (a worker finding it empty is done) and is passed to every worker of the policy
    set when it starts; the write end stays here.
    """

    MAX_TASKS = 16_384  # 32 KiB of indices (a pipe usually holds 64 KiB)

    def __init__(self) -> None:
        self.read_end, self._write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        os.set_blocking(self._write_end, False)  # a pipe Linux made smaller (a user past its pipe quota) refuses
        self._finalizer = weakref.finalize(self, _close_all, (self.read_end, self._write_end))

    def fill(self, count: int) -> bool:
        """Queue tasks ``0 … count - 1``, in that order (and nothing left from before); False, with nothing
        queued, when the pipe cannot hold them all."""
        self.clear()
        tasks = b"".join(index.to_bytes(2, "big") for index in range(count))
        try:
            written = os.write(self._write_end, tasks) if tasks else 0
        except BlockingIOError:
            written = 0
        if written < len(tasks):
            self.clear()
            return False
        return True

    def clear(self) -> None:
        """Take out what no worker took (a worker stopped before the queue was empty)."""
        with contextlib.suppress(BlockingIOError):
            while os.read(self.read_end, 1 << 16):
                pass

    def close(self) -> None:
        self._finalizer()


def _close_all(descriptors: tuple[int, ...]) -> None:
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            os.close(descriptor)


_queue_lock = threading.Lock()


def task_queue(policy_set: PolicySet) -> TaskQueue:
    """The policy set's task queue, made on first use (its workers start with it)."""
    runtime = policy_set.runtime
    with _queue_lock:
        if runtime.task_queue is None:
            runtime.task_queue = TaskQueue()
        return runtime.task_queue


def encode_message(message: dict[str, Any]) -> bytes:
    """A message as the worker reads it: one line of JSON."""
    # default=str: a caller's document may hold a date or another value JSON has no type for.
    return json.dumps(message, separators=(",", ":"), default=str).encode("utf-8") + b"\n"


class WorkerProcess:
    """One worker process and its line protocol."""

    def __init__(
        self, setup: dict[str, Any], *, setup_timeout: float = SETUP_TIMEOUT, tasks: TaskQueue | None = None
    ) -> None:
        # The wake pipe (see worker.py): the worker writes a byte when its answers are ready to read.
        wake_read, wake_write = os.pipe()
        shared = (tasks.read_end,) if tasks is not None else ()
        try:
            self.process = subprocess.Popen(
                _worker_command(wake_write, tasks.read_end if tasks is not None else None),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={},
                cwd="/",
                close_fds=True,
                pass_fds=(wake_write, *shared),
            )
        except BaseException:
            os.close(wake_read)
            raise
        finally:
            os.close(wake_write)  # the worker's alone: its end closes when it stops
        self._wake: int | None = wake_read
        self._woken = False  # a wake byte was taken, and the output not read since
        self._unanswered = 0  # requests sent whose answer the worker has not said complete (a "." each)
        self._output = self.process.stdout.fileno()
        os.set_blocking(self._output, False)  # read as far as it goes, when woken
        self._buffer = b""
        self._memory_checked = 0.0
        self._finalizer = weakref.finalize(self, _kill, self.process, wake_read)
        self.send(setup)
        self.setup_answer = self.receive(setup_timeout)

    def send(self, message: dict[str, Any]) -> None:
        self.send_encoded(encode_message(message))

    def send_encoded(self, data: bytes) -> None:
        """Send a message made by :func:`encode_message` (one made once for two workers)."""
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
            self._unanswered += 1
        except (BrokenPipeError, OSError, ValueError):
            self.close()
            raise WorkerFailed("crash") from None

    def receive(self, timeout: float, budget: TimeBudget | None = None) -> dict[str, Any]:
        """The next line, within ``timeout`` seconds (and before ``budget`` ends).

        The worker writes each document's answer as soon as it has it, but wakes this process only when its answer
        to the request is complete (see worker.py): meanwhile this process sleeps, and the answers written wait in
        the pipe. Every ``MEMORY_CHECK_INTERVAL`` it looks anyway, so a document's deadline runs from when the
        answer before it was seen, at most that much after it was written.

        Raises:
            WorkerFailed: the deadline or the budget passed (the worker is killed) or the worker stopped.
        """
        deadline = time.monotonic() + timeout
        budget_first = budget is not None and budget.ends < deadline
        if budget_first:
            deadline = budget.ends
        while b"\n" not in self._buffer:
            now = time.monotonic()
            if now - self._memory_checked >= MEMORY_CHECK_INTERVAL:
                self._memory_checked = now
                if resident_memory(self.process.pid) > MAX_WORKER_MEMORY:
                    self.close()
                    raise WorkerFailed("memory")
            left = deadline - now
            if left <= 0:
                self.close()
                raise WorkerFailed("budget" if budget_first else "timeout")
            try:
                self._wait_and_read(min(left, MEMORY_CHECK_INTERVAL))
            except (OSError, ValueError):  # closed meanwhile (the policy set closed while this worker started)
                self.close()
                raise WorkerFailed("crash") from None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _wait_and_read(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the worker to say there is something to read, then read what there is."""
        if not self._woken:
            # Part of a line read: the rest is being written, so wait for it on the output itself.
            watched = self._output if self._buffer or self._wake is None else self._wake
            ready, _, _ = select.select([watched], [], [], seconds)
            if ready and watched == self._wake:
                self._take_wake()
        self._woken = False
        self._read_available()

    @property
    def answered(self) -> bool:
        """Whether the worker has said its answers to every request sent are complete (or has stopped)."""
        return self._unanswered <= 0 or self._wake is None

    def _take_wake(self) -> None:
        """Read the wake pipe (it is readable): the worker has something to read, and may have completed answers."""
        signals = os.read(self._wake, 4096)
        if not signals:
            self._wake = None  # the worker is gone (its output ends too); closed by close()
        self._unanswered -= signals.count(b".")
        self._woken = True

    def _read_available(self) -> None:
        """Add what the worker has written so far to the buffer.

        Raises:
            WorkerFailed: the worker's output ended (it stopped).
        """
        while True:
            try:
                chunk = os.read(self._output, 1 << 20)
            except BlockingIOError:
                return
            if not chunk:
                self.close()
                raise WorkerFailed("crash")
            self._buffer += chunk

    def evaluate(
        self, request: dict[str, Any], timeout: float, budget: TimeBudget | None = None
    ) -> Iterator[dict[str, Any]]:
        """Send an ``eval`` request; yield each document's answer, each within ``timeout`` of the previous."""
        self.send({"op": "eval", **request})
        return self.answers(timeout, budget)

    def answers(self, timeout: float, budget: TimeBudget | None = None) -> Iterator[dict[str, Any]]:
        """The answers to the ``eval`` request sent last, each within ``timeout`` of the previous, and all
        before ``budget`` ends."""
        while True:
            answer = self.receive(timeout, budget)
            if answer.get("done"):
                return
            yield answer

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def run_on(self, cpus: set[int]) -> None:
        """Let the worker run only on ``cpus`` (where Linux allows it; elsewhere nothing happens)."""
        if self.alive:
            with contextlib.suppress(AttributeError, OSError):
                os.sched_setaffinity(self.process.pid, cpus)

    def close(self) -> None:
        self._wake = None  # closed by the finalizer
        self._finalizer()


def wait_for_answers(workers: list[WorkerProcess], seconds: float) -> bool:
    """Sleep until every one of ``workers`` has completed its answers (:attr:`WorkerProcess.answered`), for at most
    ``seconds``; False when one has not."""
    deadline = time.monotonic() + seconds
    while True:
        waiting = {worker._wake: worker for worker in workers if not worker.answered}
        left = deadline - time.monotonic()
        if not waiting or left <= 0:
            return not waiting
        try:
            ready, _, _ = select.select(list(waiting), [], [], left)
            for descriptor in ready:
                waiting[descriptor]._take_wake()
        except (OSError, ValueError):  # one was closed meanwhile: reading its answers will say so
            return False


def _kill(process: subprocess.Popen, wake: int) -> None:
    # Killed first: a thread still waiting on its pipes sees them end, before they are closed.
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        with contextlib.suppress(OSError):
            if stream:
                stream.close()
    with contextlib.suppress(OSError):
        os.close(wake)


@dataclass
class Exclusions:
    """Policies left out after they ran away, with the problem said for each."""

    rules: dict[str, tuple] = field(default_factory=dict)  # rule policy -> problem tuple
    bindings: dict[str, tuple] = field(default_factory=dict)  # binding name -> problem tuple

    def problems(self) -> list[tuple]:
        return [*self.rules.values(), *self.bindings.values()]

    def policies(self) -> tuple[frozenset[str], frozenset[str]]:
        """What is left out: the rules' and the bindings' names."""
        return frozenset(self.rules), frozenset(self.bindings)

    def copy(self) -> Exclusions:
        return Exclusions(dict(self.rules), dict(self.bindings))


def setup_request(policy_set: PolicySet, exclusions: Exclusions | None = None) -> dict[str, Any]:
    """What the worker needs to compile a policy set (minus the excluded policies)."""
    exclusions = exclusions or Exclusions()
    return {
        "op": "setup",
        "rego": {
            "modules": [
                {
                    "file": module.file,
                    "text": module.text,
                    "package": module.package,
                    "rules": [
                        {"package": rule.package, "name": rule.name, "file": rule.file, "line": rule.line}
                        for rule in module.rules
                    ],
                    "calls": [list(call) for call in module.calls],
                    "imports": dict(module.imports),
                }
                for module in policy_set.rego_modules
            ],
            "data": policy_set.rego_data,
            "manifest_packages": list(policy_set.rego_namespaces),
            "entity_packages": list(policy_set.catalog_namespaces),
        },
        "vap": {
            "policies": [
                {
                    "file": policy.file,
                    "line": policy.line,
                    "name": policy.name,
                    "data": policy.data,
                    "lines": [[list(path), line] for path, line in policy.lines.items()],
                }
                for policy in policy_set.policies
            ],
            "bindings": [
                {
                    "file": binding.file,
                    "line": binding.line,
                    "name": binding.name,
                    "policy": (binding.data.get("spec") or {}).get("policyName"),
                    "data": binding.data,
                }
                for binding in policy_set.bindings
            ],
            "params": [{"file": param.file, "line": param.line, "data": param.data} for param in policy_set.params],
        },
        "exclude_rules": sorted(exclusions.rules),
        "exclude_bindings": sorted(exclusions.bindings),
    }


@dataclass
class Unit:
    """One policy evaluated on its own while looking for the slow one."""

    rule: str = ""
    binding: str = ""
    file: str = ""
    line: int = 1
    policy: str = ""


class Runner:
    """The worker of a policy set, restarted as needed, and what was excluded on the way."""

    def __init__(self, policy_set: PolicySet) -> None:
        self.policy_set = policy_set
        self.exclusions = Exclusions()
        self.worker: WorkerProcess | None = None
        self.setup_answer: dict[str, Any] = {}
        self.documents_sent = 0  # evaluation requests' documents, isolation re-runs excluded
        self.tasks_answered = 0  # tasks it took from a shared queue and answered (see parallel.py)
        self._started_on: WorkerProcess | None = None  # the worker :meth:`start` sent a request to
        self._starting = threading.Lock()  # a spare worker starts in the background (see parallel.py)
        self._set_up_with = self.exclusions.policies()  # what the worker was set up to leave out

    def ensure(self) -> WorkerProcess:
        """The running worker, started (again) when there is none, it stopped, or it was set up with other
        exclusions than the runner's now (another worker found a runaway policy since)."""
        with self._starting:
            if not self._worker_up_to_date():
                self.close()
                self._set_up_with = self.exclusions.policies()
                setup = setup_request(self.policy_set, self.exclusions)
                self.worker = WorkerProcess(setup, tasks=task_queue(self.policy_set))
                self.setup_answer = self.worker.setup_answer
            return self.worker

    def _worker_up_to_date(self) -> bool:
        worker = self.worker
        return worker is not None and worker.alive and self._set_up_with == self.exclusions.policies()

    @property
    def ready(self) -> bool:
        """Whether its worker is running and set up as the runner is now (False while it is starting)."""
        if not self._starting.acquire(blocking=False):
            return False
        try:
            return self._worker_up_to_date()
        finally:
            self._starting.release()

    @property
    def starting(self) -> bool:
        return self._starting.locked()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def units(self, document_class: str, engines: Iterable[str] = ENGINES) -> list[Unit]:
        """Each policy that evaluates a document of this class, with these engines."""
        policy_set = self.policy_set
        units = [
            Unit(rule=rule.policy, file=rule.file, line=rule.line, policy=rule.policy)
            for rule in (policy_set.rules_for(document_class) if "rego" in engines else ())
            if rule.policy not in self.exclusions.rules
        ]
        if document_class == "manifest" and "vap" in engines:
            policies = {policy.name: policy for policy in policy_set.policies}
            for binding in policy_set.bindings:
                if binding.name in self.exclusions.bindings:
                    continue
                name = str((binding.data.get("spec") or {}).get("policyName") or "")
                where = policies.get(name, binding)  # a runaway is the policy's doing: said where it is written
                units.append(Unit(binding=binding.name, file=where.file, line=where.line, policy=name))
        seen: set[tuple[str, str]] = set()
        unique = []
        for unit in units:
            if (unit.rule, unit.binding) not in seen:
                seen.add((unit.rule, unit.binding))
                unique.append(unit)
        return unique

    def start(self, docs: list[dict[str, Any]], context: dict[str, Any]) -> bool:
        """Send the first request of :meth:`run` now, so the worker starts on it while the caller does something
        else (reads another worker's answers); False when it could not be sent (``run`` then sends it)."""
        try:
            worker = self.ensure()
            self._send(worker, docs[:CHUNK], context)
        except WorkerFailed:
            self.worker = None
            return False
        self._started_on = worker
        return True

    def _send(self, worker: WorkerProcess, chunk: list[dict[str, Any]], context: dict[str, Any]) -> None:
        worker.send({"op": "eval", "docs": chunk, **context})
        self.documents_sent += len(chunk)

    def run(
        self,
        docs: list[dict[str, Any]],
        context: dict[str, Any],
        where: list[str],
        timeout: float,
        *,
        started: bool = False,
        budget: TimeBudget | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Each document's answer, in order; a document that misses its deadline is re-run policy by policy.
        Once ``budget`` is spent, the documents left are said not judged (the first says so for all).

        Args:
            docs: ``{"i", "class", "data"}`` per document.
            context: ``namespaces`` and ``namespace_objects`` for the requests.
            where: ``file:line`` of each document by ``i``, for the problems' words.
            timeout: seconds per document (and per policy when isolating).
            started: the first request was sent by :meth:`start`.
            budget: the end of the whole evaluation's time.
        """
        position = 0
        unjudged = 0  # documents in a row whose policies were too many to try one by one
        while position < len(docs):
            if budget is not None and budget.spent:
                yield from _not_judged(docs[position:], where, budget.words())
                return
            chunk = docs[position : position + CHUNK]
            answered = 0
            try:
                worker = self.ensure()
                if not (started and worker is self._started_on):  # sent by start(), to this very worker
                    self._send(worker, chunk, context)
                started = False
                for answer in worker.answers(timeout, budget):
                    answered += 1
                    unjudged = 0
                    yield answer
            except WorkerFailed as failure:
                self.worker = None
                if failure.reason == "budget":  # no policy's fault: nothing is left out
                    yield from _not_judged(docs[position + answered :], where, budget.words())
                    return
                if answered < len(chunk):
                    answer = self._isolate(chunk[answered], context, where, timeout, failure, budget)
                    if answer is None:
                        yield from _not_judged(docs[position + answered :], where, budget.words())
                        return
                    answered += 1
                    unjudged = unjudged + 1 if answer.pop("unjudged", False) else 0
                    yield answer
                    if unjudged >= MAX_UNJUDGED_IN_A_ROW:
                        reason = f"the policies were too slow for {MAX_UNJUDGED_IN_A_ROW} documents in a row"
                        yield from _not_judged(docs[position + answered :], where, reason)
                        return
            position += answered

    def _isolate(
        self,
        doc: dict[str, Any],
        context: dict[str, Any],
        where: list[str],
        timeout: float,
        failure: WorkerFailed,
        budget: TimeBudget | None,
    ) -> dict | None:
        """The document's answer, its policies evaluated one by one (a runaway left out from then on); None when
        the budget ran out meanwhile."""
        results: list = []
        problems: list = []
        units = self.units(doc["class"], doc.get("engines") or ENGINES)
        if len(units) > MAX_ISOLATED_POLICIES:
            file, line = _place(where[doc["i"]])
            words = f"not judged: its {len(units):,} policies together {failure.words(timeout)}, too many to try"
            return {
                "i": doc["i"],
                "results": [],
                "problems": [(file, line, "", f"{words} one by one")],
                "unjudged": True,
            }
        for unit in units:
            only = {"rules": [unit.rule] if unit.rule else [], "bindings": [unit.binding] if unit.binding else []}
            try:
                worker = self.ensure()
                for answer in worker.evaluate({"docs": [doc], "only": only, **context}, timeout, budget):
                    results += answer["results"]
                    problems += answer["problems"]
            except WorkerFailed as failure:
                self.worker = None
                if failure.reason == "budget":
                    return None
                what = f"{failure.words(timeout)} on {where[doc['i']]}"
                problem = (unit.file, unit.line, unit.policy, f"evaluation {what}; it is not applied from there on")
                if unit.rule:
                    self.exclusions.rules[unit.rule] = problem
                else:
                    self.exclusions.bindings[unit.binding] = problem
                problems.append(problem)
        return {"i": doc["i"], "results": results, "problems": problems}


def _place(where: str) -> tuple[str, int]:
    """``("deploy.yaml", 12)`` from ``"deploy.yaml:12"``."""
    file, _, line = where.rpartition(":")
    return file, int(line) if line.isdigit() else 1


def _not_judged(rest: list[dict[str, Any]], where: list[str], reason: str) -> Iterator[dict[str, Any]]:
    """An answer for each document left when the evaluation cannot go on (the policies were too slow for several
    documents in a row, or the time budget is spent): the first says so, and why, for all of them."""
    for position, doc in enumerate(rest):
        problems = []
        if position == 0:
            file, line = _place(where[doc["i"]])
            after = len(rest) - 1
            others = "" if not after else f", nor the {after:,} documents after it" if after > 1 else ", nor the next"
            problems.append((file, line, "", f"not judged{others}: {reason}"))
        yield {"i": doc["i"], "results": [], "problems": problems}
