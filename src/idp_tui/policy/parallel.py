"""Evaluating with two workers at once, where there are two cores.

A large evaluation (1,000 documents or more) is split into one contiguous share of documents per worker.

A small one, such as a golden path's files checked before anything is published, is split by engine and
document: each (document, engine) pair is a task, and both workers take tasks from one queue, largest first, each
taking the next when done with one (:func:`_run_claimed`), so both finish together. A task's cost, which orders the
queue, is what the workers measured for the same engine on the same kind of document before
(:func:`remember_costs`; a golden path is checked again and again: each preview, then the run), or else a guess
from the document's size. A Deployment's Rego rules run beside its admission policies instead of after them. Only
a spare worker that is already running is used for a small evaluation: a golden path's first check starts it in
the background (:func:`start_spare`), and until it is ready, or when it is gone, the first worker answers alone.
Where a worker stops or runs past a deadline, the tasks are dealt among the workers in advance instead
(:func:`deal_tasks`, largest first to the one with less so far), and that evaluation finds and leaves out the
runaway policy.

A golden path's files (a few, in memory) are not even read before the workers start: a task is a file and an
engine (or both engines, where one took less on the file than reading it), each worker reads the files of the
tasks it takes, and a task's cost is what it took before on the file of the same name (:func:`run_on_texts`).

Whichever worker evaluates them, one document's verdicts are listed in the same order: Rego's, then the
admission policies'.

While two workers share an evaluation, each may run only on its own half of the CPUs (:func:`_cpus_apart`). The
parent wakes them by writing to their pipes, and Linux takes a pipe write as a sign that the writer is about to
sleep: it queues the woken process on the writer's own core. Two workers woken one after the other were queued
on that one core, and the second waited there (1.65 ms, the median of 200 golden-path checks) for the load
balancer to notice the idle core; kept apart, it starts in 0.08 ms, and a golden path's check took 4.4-4.7 ms
instead of 5.2-5.6 (medians of 200 checks each way, taken in turns).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from .models import PolicySet, TimeBudget
from .runtime import (
    CHUNK,
    MEMORY_CHECK_INTERVAL,
    Runner,
    TaskQueue,
    WorkerFailed,
    encode_message,
    task_queue,
    wait_for_answers,
)
from .worker import ENGINES

# Below this many documents a second worker costs more to start (~0.3 s) than it saves.
PARALLEL_MIN_DOCUMENTS = 1000
# A task never measured, in microseconds: a Rego query's fixed cost (~0.15 ms) and about 0.75 µs per byte of
# the document's JSON (what the demo bundle takes on a Deployment).
GUESSED_TASK_MICROS = 150
GUESSED_MICROS_PER_BYTE = 0.75
# Measured costs remembered per policy set: the kinds of documents seen (an apiVersion and kind are written by
# other people, so how many, and how much of each, is bounded).
MAX_REMEMBERED_COSTS = 1000
MAX_KEY_CHARS = 200
MAX_TASK_MICROS = 3_600_000_000  # an hour: no measure of a bounded evaluation is larger


@functools.cache
def default_workers() -> int:
    """Worker processes for an evaluation: two where there are two cores (these machines are shared). Asked once:
    each golden-path check asks twice, and ``os.cpu_count()`` reads the kernel's CPU list each time."""
    return max(1, min(2, os.cpu_count() or 1))


def start_spare(policy_set: PolicySet) -> None:
    """Start a second worker for the policy set in the background, when there are two cores and both engines have
    policies (small evaluations then run the engines side by side)."""
    runtime = policy_set.runtime
    if runtime.extra_workers:  # each check after a session's first: started already (checked again below)
        return
    if default_workers() < 2 or not (policy_set.rego_modules and policy_set.bindings):
        return
    with runtime.lock:
        if not runtime.extra_workers:
            spare = Runner(policy_set)
            if runtime.worker is not None:
                spare.exclusions = runtime.worker.exclusions.copy()
            runtime.extra_workers.append(spare)
            _start_in_background(policy_set, spare)


def _start_in_background(policy_set: PolicySet, runner: Runner) -> None:
    """Start (or start again) ``runner``'s worker in a thread; closed again if the policy set is closed first."""
    runtime = policy_set.runtime

    def start() -> None:
        try:
            runner.ensure()
        except WorkerFailed:
            return  # small evaluations go on in the first worker; a large one tries again
        with runtime.lock:
            kept = runner in runtime.extra_workers
        if not kept:
            runner.close()

    threading.Thread(target=start, name="idp-tui policy spare", daemon=True).start()


def wait_for_spare(policy_set: PolicySet, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the spare worker to be ready; False when there is none, or not yet."""
    deadline = time.monotonic() + timeout
    while True:
        spares = policy_set.runtime.extra_workers
        if spares and spares[0].ready:
            return True
        if not spares or time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def ready_spare(policy_set: PolicySet, main: Runner) -> Runner | None:
    """The spare worker when it is running and set up like ``main``, else None.

    A spare that stopped, or that was set up before ``main`` left out a runaway policy, starts again in the
    background meanwhile. The caller holds the policy set's lock.
    """
    extra = policy_set.runtime.extra_workers
    spare = extra[0] if extra else None
    if spare is None or spare.starting:
        return None
    if spare.exclusions.policies() != main.exclusions.policies():
        spare.exclusions = main.exclusions.copy()
    if spare.ready:
        return spare
    _start_in_background(policy_set, spare)
    return None


def _cpu_halves() -> tuple[set[int], set[int]] | None:
    """The CPUs this process may run on, in two halves; None with fewer than two (or where Linux cannot say)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if len(allowed) < 2:
        return None
    middle = len(allowed) // 2
    return set(allowed[:middle]), set(allowed[middle:])


@contextlib.contextmanager
def _cpus_apart(runners: list[Runner]) -> Iterator[None]:
    """Keep two running workers on different halves of the CPUs for the length of the block, and let them run
    anywhere again after it (a worker alone, or beside a busy terminal, must be free to move)."""
    halves = _cpu_halves() if len(runners) == 2 else None
    workers = [runner.worker for runner in runners if runner.worker is not None]
    if halves is None or len(workers) != 2:
        yield
        return
    for worker, half in zip(workers, halves, strict=True):
        worker.run_on(half)
    try:
        yield
    finally:
        for worker in workers:
            worker.run_on(halves[0] | halves[1])


def _drive(
    runners: list[Runner],
    shares: list[list[dict[str, Any]]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
    budget: TimeBudget | None,
) -> list[list[dict[str, Any]]]:
    """:func:`_drive_apart` with the workers kept on different CPUs (see the module's docstring)."""
    with _cpus_apart(runners):
        return _drive_apart(runners, shares, context, where, timeout, budget)


def _drive_apart(
    runners: list[Runner],
    shares: list[list[dict[str, Any]]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
    budget: TimeBudget | None,
) -> list[list[dict[str, Any]]]:
    """Each share evaluated by its runner, all at once.

    Every first request is sent before any answer is read. When every worker has completed its answers soon
    (:func:`_answered_soon`), they are read one after the other; otherwise one thread per further runner reads its
    answers (the threads only wait on pipes), so each worker's deadlines and memory cap run while the others work.
    A runner that fails midway is closed, so no unread answer is left in its pipe for the next evaluation.

    What a runner had to exclude (a runaway policy) is merged into the first runner's exclusions, so the policy set
    remembers it (the first runner's worker starts again without it), and it is said once: a policy both runners
    found running away is said by the first.
    """
    outputs: list[list[dict[str, Any]]] = [[] for _ in shares]
    failures: list[BaseException] = []
    try:
        sent = [runner.start(share, context) for runner, share in zip(runners, shares, strict=True)]
    except BaseException:
        for runner in runners:  # a request may have been sent that nobody will read
            runner.close()
        raise

    def drive(index: int) -> None:
        runner = runners[index]
        try:
            share = shares[index]
            outputs[index] = list(runner.run(share, context, where, timeout, started=sent[index], budget=budget))
        except BaseException as error:  # re-raised in the caller's thread
            runner.close()
            failures.append(error)

    _each_at_once(drive, len(shares), soon=_answered_soon(runners, shares, sent))
    if failures:
        raise failures[0]
    main = runners[0]
    main_rules, main_bindings = main.exclusions.policies()
    main_problems = set(main.exclusions.problems())
    for index, runner in enumerate(runners[1 : len(shares)], start=1):
        found = [*runner.exclusions.rules.items(), *runner.exclusions.bindings.items()]
        said_by_main = {
            problem
            for name, problem in found
            if (name in main_rules or name in main_bindings) and problem not in main_problems
        }
        for answer in outputs[index]:
            answer["problems"] = [p for p in answer["problems"] if tuple(p) not in said_by_main]
        for name, problem in runner.exclusions.rules.items():
            main.exclusions.rules.setdefault(name, problem)
        for name, problem in runner.exclusions.bindings.items():
            main.exclusions.bindings.setdefault(name, problem)
    return outputs


def _answered_soon(runners: list[Runner], shares: list[list[dict[str, Any]]], sent: list[bool]) -> bool:
    """Whether every worker completed its answers to a one-request share within ``MEMORY_CHECK_INTERVAL``
    (meanwhile this thread sleeps; a longer wait would leave a runaway unwatched for longer than a worker's own
    memory checks do).

    A small evaluation, such as a golden path's check, is over by then, and its answers are read in this thread. A
    thread started to read a worker's answers needs a core at once (``Thread.start`` waits for it to run), while
    both are busy with the workers: on a golden path's check that took 0.17-0.2 ms more (medians of 200 checks
    each way, taken in turns).
    """
    workers = [runner.worker for runner in runners]
    if not all(sent) or any(len(share) > CHUNK for share in shares) or None in workers:
        return False
    return wait_for_answers(workers, MEMORY_CHECK_INTERVAL)


def run_sharded(
    runners: list[Runner],
    docs: list[dict[str, Any]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
    budget: TimeBudget | None = None,
) -> Iterator[dict[str, Any]]:
    """Split ``docs`` into one contiguous share per runner, evaluate the shares at once, and yield every answer in
    document order. Each runner finds a runaway policy on its own share with one deadline."""
    main = runners[0]
    for runner in runners[1:]:
        runner.exclusions = main.exclusions.copy()  # its worker starts again if it was set up with others
    size = -(-len(docs) // len(runners))
    shares = [docs[start : start + size] for start in range(0, len(docs), size)]
    for output in _drive(runners[: len(shares)], shares, context, where, timeout, budget):
        yield from output


TaskKind = tuple[str, str, str, str]  # engine, document class, apiVersion, kind


def task_kind(engine: str, doc: dict[str, Any]) -> TaskKind:
    data = doc["data"]
    api_version = data.get("apiVersion") if isinstance(data, dict) else None
    kind = data.get("kind") if isinstance(data, dict) else None
    return (
        engine,
        doc["class"],
        api_version[:MAX_KEY_CHARS] if isinstance(api_version, str) else "",
        kind[:MAX_KEY_CHARS] if isinstance(kind, str) else "",
    )


def remember_costs(costs: dict[TaskKind, float], doc: dict[str, Any], answer: dict[str, Any]) -> None:
    """Keep what each engine took on ``doc`` (the worker's ``cost``, in microseconds) for dealing later tasks:
    the mean of the last measure and the ones before it, so one slow moment (another process had the core) is
    soon forgotten."""
    measured = answer.get("cost")
    if not isinstance(measured, dict):
        return
    for engine, micros in measured.items():
        if engine in ENGINES:
            _remember(costs, task_kind(engine, doc), micros)


def _remember(costs: dict[TaskKind, float], key: TaskKind, micros: Any) -> None:
    """Average ``micros`` into what is kept for ``key`` (bounded: see :func:`remember_costs`)."""
    if type(micros) is not int or not 0 <= micros <= MAX_TASK_MICROS:
        return  # the answer comes from a process running other people's policies: only sane numbers
    before = costs.get(key)
    if before is not None:
        costs[key] = (before + micros) / 2
    elif len(costs) < MAX_REMEMBERED_COSTS:
        costs[key] = micros


def deal_tasks(
    docs: list[dict[str, Any]],
    engines_by_class: Mapping[str, tuple[str, ...]],
    workers: int,
    costs: Mapping[TaskKind, float] | None = None,
) -> list[list[dict[str, Any]]]:
    """Each worker's share: the documents it evaluates, each with the engines it runs on it (``engines``).

    Tasks (a document and an engine) are dealt largest first, each to the worker with the least so far.

    Args:
        engines_by_class: the engines with policies for each document class (``manifest``, ``entity``).
        costs: microseconds measured before for each kind of task (:func:`remember_costs`); a task of another
            kind is guessed from its document's size.
    """
    loads = [0.0] * workers
    dealt: list[dict[int, list[str]]] = [{} for _ in range(workers)]
    for cost, position, engine in _tasks(docs, engines_by_class, costs):
        least = loads.index(min(loads))
        loads[least] += cost
        dealt[least].setdefault(position, []).append(engine)
    return [
        [
            {**docs[position], "engines": sorted(engines, key=ENGINES.index)}
            for position, engines in sorted(share.items())
        ]
        for share in dealt
    ]


def _tasks(
    docs: list[dict[str, Any]],
    engines_by_class: Mapping[str, tuple[str, ...]],
    costs: Mapping[TaskKind, float] | None,
) -> list[tuple[float, int, str]]:
    """Every (document, engine) task as ``(cost, document position, engine)``, the largest first."""
    costs = costs or {}
    tasks = []
    for position, doc in enumerate(docs):
        engines = engines_by_class[doc["class"]]
        if "vap" in engines and not _is_kubernetes_object(doc["data"]):
            engines = tuple(engine for engine in engines if engine != "vap")  # no admission policy can match it
        guess = None
        for engine in engines:
            cost = costs.get(task_kind(engine, doc))
            if cost is None:
                if guess is None:
                    guess = _guessed_micros(len(json.dumps(doc["data"], separators=(",", ":"), default=str)))
                cost = guess
            tasks.append((cost, position, engine))
    return sorted(tasks, key=lambda task: -task[0])


def _guessed_micros(size: int) -> float:
    """A task never measured, on a document (or file) of ``size`` bytes."""
    return GUESSED_TASK_MICROS + GUESSED_MICROS_PER_BYTE * size


def _is_kubernetes_object(data: Any) -> bool:
    """Whether admission policies can match ``data`` (an ``mkdocs.yml`` or a CI workflow cannot): the worker skips
    the others, so dealing them as tasks would only unbalance the shares."""
    from .vap_match import request_target

    return isinstance(data, dict) and request_target(data) is not None


def run_side_by_side(
    runners: list[Runner],
    docs: list[dict[str, Any]],
    engines_by_class: Mapping[str, tuple[str, ...]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
    costs: Mapping[TaskKind, float] | None = None,
    budget: TimeBudget | None = None,
) -> Iterator[dict[str, Any]]:
    """Evaluate the (document, engine) tasks with ``runners`` at once, and yield one answer per document, in
    document order, with its verdicts and problems in engine order, and what each engine took (``cost``).

    The workers take the tasks from a shared queue, largest first (:func:`_run_claimed`). Where that cannot
    finish (a worker stopped or ran past a deadline: a runaway policy), the tasks are dealt among the runners
    instead (:func:`deal_tasks`), whose evaluation finds and leaves out the runaway.
    """
    answers = _run_claimed(runners, docs, engines_by_class, context, timeout, costs, budget)
    if answers is None:
        dealt = deal_tasks(docs, engines_by_class, len(runners), costs)
        pairs = [(runner, share) for runner, share in zip(runners, dealt, strict=True) if share]
        shares = [share for _, share in pairs]
        outputs = _drive([r for r, _ in pairs], shares, context, where, timeout, budget) if pairs else []
        answers = [answer for output in outputs for answer in output]
    yield from _by_document(docs, answers)


def _run_claimed(
    runners: list[Runner],
    docs: list[dict[str, Any]],
    engines_by_class: Mapping[str, tuple[str, ...]],
    context: dict[str, Any],
    timeout: float,
    costs: Mapping[TaskKind, float] | None,
    budget: TimeBudget | None,
) -> list[dict[str, Any]] | None:
    """Every task's answer, the workers taking the tasks from the policy set's task queue; None when one worker
    stopped, or missed a deadline, before every task was answered (the caller deals them instead).

    Each worker gets every document and the list of tasks, largest first by what they took before
    (:func:`remember_costs`); a worker done with one task takes the next. Dealt by those costs instead, the first
    worker to finish waited for the other 0.25 ms (the median of 300 golden-path checks): the costs vary from one
    check to the next, and so, on these shared machines, does the speed of each CPU. Taken from the queue, a
    golden path's check took 0.13-0.22 ms less (medians of 200 checks each way, taken in turns, three times).
    """
    tasks = _tasks(docs, engines_by_class, costs)
    # Every document goes to both workers in one request: no more of them than one request of a share holds.
    if not tasks or len(docs) > CHUNK:
        return None
    claim = [[position, engine] for _, position, engine in tasks]
    request = {"op": "eval", "docs": docs, **context}
    return _run_queued(runners, request, claim, timeout, budget, documents=len(docs))


def _run_queued(
    runners: list[Runner],
    request: dict[str, Any],
    claim: list[list],
    timeout: float,
    budget: TimeBudget | None,
    *,
    documents: int = 0,
    payload: bytes = b"",
) -> list[dict[str, Any]] | None:
    """The answers of two workers taking the tasks of ``claim`` from the policy set's task queue, both sent the
    same ``request`` (with ``claim`` added, and ``documents`` documents; ``payload`` right after its line); None
    when the queue cannot hold the tasks, or a worker stopped or missed a deadline (or ``budget`` ended) before every
    task was answered."""
    if len(runners) != 2 or len(claim) > TaskQueue.MAX_TASKS:
        return None
    queue = task_queue(runners[0].policy_set)
    try:
        workers = [runner.ensure() for runner in runners]
    except WorkerFailed:
        return None
    line = encode_message({**request, "claim": claim}) + payload  # once for both
    outputs: list[list[dict[str, Any]]] = [[] for _ in runners]
    failed: list[BaseException] = []

    def read(index: int) -> None:
        try:
            outputs[index] = list(workers[index].answers(timeout, budget))
        except WorkerFailed as error:
            failed.append(error)

    if not queue.fill(len(claim)):
        return None
    with _cpus_apart(runners):
        try:
            for runner, worker in zip(runners, workers, strict=True):
                worker.send_encoded(line)
                runner.documents_sent += documents
        except WorkerFailed:
            for worker in workers:
                worker.close()  # a request may have been sent that nobody will read
            queue.clear()
            return None
        _each_at_once(read, len(workers), soon=wait_for_answers(workers, MEMORY_CHECK_INTERVAL))
        queue.clear()
    answers = [answer for output in outputs for answer in output if "progress" not in answer]
    if failed or sorted(answer.get("task") for answer in answers) != list(range(len(claim))):
        for worker in workers:
            worker.close()  # its answers, if any are left, must not be read by the next evaluation
        return None
    for runner, output in zip(runners, outputs, strict=True):
        runner.tasks_answered += sum("task" in answer for answer in output)
    return answers


def run_on_texts(
    runners: list[Runner],
    files: list[tuple[str, bytes]],
    engines: tuple[str, ...],
    timeout: float,
    costs: dict[TaskKind, float],
    budget: TimeBudget | None = None,
) -> list[tuple[int, list[str], dict[str, Any]]] | None:
    """Evaluate files the workers read themselves: ``(file position, engines, answer)`` for each task, taken
    from the shared queue; None where a worker stopped or missed a deadline first (the caller reads the files and
    evaluates their documents instead).

    A task is a file and the engines to run on it (:func:`_file_tasks`), ordered largest first by what the same
    task took before (a golden path's files keep their names from one check to the next), else by the file's size.
    Each answer holds the file's documents (``docs``: index, line, class, kind, name, verdicts, problems) and what
    could not be read in the file (``input_problems``: line, message).
    """
    tasks = []
    for position, (name, content) in enumerate(files):
        tasks += [(cost, position, part) for cost, part in _file_tasks(name, len(content), engines, costs)]
    tasks.sort(key=lambda task: -task[0])
    claim = [[position, part] for _, position, part in tasks]
    names, contents = [name for name, _ in files], [content for _, content in files]
    request = {"op": "eval_texts", "names": names, "sizes": [len(content) for content in contents]}
    answers = _run_queued(runners, request, claim, timeout, budget, payload=b"".join(contents))
    if answers is None:
        return None
    taken = [(*claim[answer["task"]], answer) for answer in answers]
    for position, part, answer in taken:
        name = files[position][0]
        measured = answer.get("cost") if isinstance(answer.get("cost"), dict) else {}
        for engine in part:
            _remember(costs, file_task(engine, name), measured.get(engine))
        if answer.get("read"):  # 0: read before, for another task
            _remember(costs, file_task(READING, name), answer["read"])
    return taken


READING = "read"  # what reading a file took, remembered beside what each engine took on it


def _file_tasks(
    name: str, size: int, engines: tuple[str, ...], costs: Mapping[TaskKind, float]
) -> list[tuple[float, list[str]]]:
    """A file's tasks: ``(cost, engines)`` each.

    One task per engine, so that a Deployment's Rego rules run beside its admission policies; but an engine
    that took less on the file before than reading it did goes with the file's costliest engine instead, since
    the other worker would read the file again for it (an admission policy on a ``mkdocs.yml``, say).
    """
    measured = {engine: costs.get(file_task(engine, name)) for engine in engines}
    reading = costs.get(file_task(READING, name))
    if reading is None or None in measured.values():
        guess = _guessed_micros(size)
        return [(guess, [engine]) for engine in engines]
    costliest = max(engines, key=lambda engine: measured[engine])
    parts: dict[str, list[str]] = {}
    for engine in engines:
        alone = engine == costliest or measured[engine] >= reading
        parts.setdefault(engine if alone else costliest, []).append(engine)
    return [
        (reading + sum(measured[engine] for engine in part), sorted(part, key=ENGINES.index)) for part in parts.values()
    ]


def file_task(engine: str, name: str) -> TaskKind:
    """The kind of a (file, engine) task whose cost is remembered: the file's name (a golden path's
    ``k8s/deployment.yaml`` holds the same kinds of documents from one check to the next)."""
    return (engine, "file", name[:MAX_KEY_CHARS], "")


def _each_at_once(function, count: int, *, soon: bool) -> None:
    """``function(0)``, …, ``function(count - 1)``: one after the other in this thread when each worker has
    already answered (``soon``), else one thread for each but the first (see :func:`_answered_soon`)."""
    if soon:
        for index in range(count):
            function(index)
        return
    threads = [threading.Thread(target=function, args=(index,), daemon=True) for index in range(1, count)]
    for thread in threads:
        thread.start()
    function(0)
    for thread in threads:
        thread.join()


def _by_document(docs: list[dict[str, Any]], answers: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One answer per document, in document order, from the answers of its engines (in one answer or two)."""
    parts: dict[int, list[dict[str, Any]]] = {}
    for answer in answers:
        parts.setdefault(answer["i"], []).append(answer)
    for doc in docs:
        # Rego's part first puts everything in engine order.
        answers_of_doc = sorted(parts.get(doc["i"], []), key=_first_engine)
        cost: dict[str, Any] = {}
        for answer in answers_of_doc:
            if isinstance(answer.get("cost"), dict):
                cost.update(answer["cost"])
        yield {
            "i": doc["i"],
            "results": [result for answer in answers_of_doc for result in answer["results"]],
            "problems": [problem for answer in answers_of_doc for problem in answer["problems"]],
            "cost": cost,
        }


def _first_engine(answer: dict[str, Any]) -> int:
    """Where an answer's part goes among a document's: by the first engine it says it ran."""
    engines = [engine for engine in ENGINES if engine in (answer.get("cost") or {})]
    return ENGINES.index(engines[0]) if engines else len(ENGINES)
