"""Evaluating with two workers at once, where there are two cores.

A large evaluation (1,000 documents or more) is split into one contiguous share of documents per worker.

A small one, such as a golden path's three files checked before anything is published, is split by engine and
document: each (document, engine) pair is a task whose cost is guessed from the document's size, and the tasks are
dealt to the two workers largest first, each to the one with less so far. A Deployment's Rego rules then run beside
its admission policies instead of after them. Only a spare worker that is already running is used for a small
evaluation: a golden path's first check starts it in the background (:func:`start_spare`), and until it is ready,
or when it is gone, the first worker answers alone.

Whichever worker evaluates them, one document's verdicts are listed in the same order: Rego's, then the
admission policies'.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from .models import PolicySet
from .runtime import CHUNK, Exclusions, Runner, WorkerFailed
from .worker import ENGINES

# Below this many documents a second worker costs more to start (~0.3 s) than it saves.
PARALLEL_MIN_DOCUMENTS = 1000
# What a task costs besides its document's size, in bytes of JSON: a query has a fixed cost (~0.15 ms in Rego),
# as much as reading about 200 bytes of input.
TASK_COST = 200


def default_workers() -> int:
    """Worker processes for an evaluation: two where there are two cores (these machines are shared)."""
    return max(1, min(2, os.cpu_count() or 1))


def start_spare(policy_set: PolicySet) -> None:
    """Start a second worker for the policy set in the background, when there are two cores and both engines have
    policies (small evaluations then run the engines side by side)."""
    if default_workers() < 2 or not (policy_set.rego_modules and policy_set.bindings):
        return
    runtime = policy_set.runtime
    with runtime.lock:
        if not runtime.extra_workers:
            runtime.extra_workers.append(_spawn(policy_set, Exclusions()))


def _spawn(policy_set: PolicySet, exclusions: Exclusions) -> Runner:
    """A runner whose worker starts in a background thread (closed again if the policy set is closed first)."""
    runtime = policy_set.runtime
    spare = Runner(policy_set)
    spare.exclusions = exclusions

    def start() -> None:
        try:
            spare.ensure()
        except WorkerFailed:
            return  # small evaluations go on in the first worker; a large one tries again
        with runtime.lock:
            kept = spare in runtime.extra_workers
        if not kept:
            spare.close()

    threading.Thread(target=start, name="idp-tui policy spare", daemon=True).start()
    return spare


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
    """The spare worker when it is running and set up like ``main``, else None. A spare set up with other
    exclusions (``main`` has left out a runaway policy since) is started again in the background.

    The caller holds the policy set's lock.
    """
    extra = policy_set.runtime.extra_workers
    spare = extra[0] if extra else None
    if spare is None or not spare.ready:
        return None
    if not _same_exclusions(spare, main):
        spare.close()
        extra[0] = _spawn(policy_set, _copy(main.exclusions))
        return None
    return spare


def _same_exclusions(runner: Runner, main: Runner) -> bool:
    return (runner.exclusions.rules, runner.exclusions.bindings) == (main.exclusions.rules, main.exclusions.bindings)


def _copy(exclusions: Exclusions) -> Exclusions:
    return Exclusions(dict(exclusions.rules), dict(exclusions.bindings))


def _drive(
    runners: list[Runner],
    shares: list[list[dict[str, Any]]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
    *,
    threads: bool,
) -> list[list[dict[str, Any]]]:
    """Each share evaluated by its runner, all at once. With ``threads``, one thread drives each worker (the
    threads only wait on pipes); without, every request is sent first and the answers are read one worker after
    the other (for shares of one request each: the later workers' answers wait in their pipes).

    What a runner had to exclude (a runaway policy) is merged into the first runner's exclusions, so the policy set
    remembers it, and the first runner's worker starts again without it.
    """
    outputs: list[list[dict[str, Any]]] = [[] for _ in shares]
    if threads:
        failures: list[BaseException] = []

        def drive(index: int) -> None:
            try:
                outputs[index] = list(runners[index].run(shares[index], context, where, timeout))
            except BaseException as error:  # re-raised in the caller's thread
                failures.append(error)

        started = [threading.Thread(target=drive, args=(index,), daemon=True) for index in range(len(shares))]
        for thread in started:
            thread.start()
        for thread in started:
            thread.join()
        if failures:
            raise failures[0]
    else:
        pairs = list(zip(runners, shares, strict=True))
        sent = [runner.start(share, context) for runner, share in pairs]
        for index, (runner, share) in enumerate(pairs):
            outputs[index] = list(runner.run(share, context, where, timeout, started=sent[index]))
    main = runners[0]
    known = (dict(main.exclusions.rules), dict(main.exclusions.bindings))
    for runner in runners[1:]:
        main.exclusions.rules.update(runner.exclusions.rules)
        main.exclusions.bindings.update(runner.exclusions.bindings)
    if (main.exclusions.rules, main.exclusions.bindings) != known:
        main.close()  # set up with a policy another worker found running away: started again without it
    return outputs


def run_sharded(
    runners: list[Runner], docs: list[dict[str, Any]], context: dict[str, Any], where: list[str], timeout: float
) -> Iterator[dict[str, Any]]:
    """Split ``docs`` into one contiguous share per runner, evaluate the shares at once, and yield every answer in
    document order. Each runner finds a runaway policy on its own share with one deadline."""
    main = runners[0]
    for runner in runners[1:]:
        if not _same_exclusions(runner, main):
            runner.exclusions = _copy(main.exclusions)
            runner.close()  # its worker was set up with other exclusions
    size = -(-len(docs) // len(runners))
    shares = [docs[start : start + size] for start in range(0, len(docs), size)]
    for output in _drive(runners, shares, context, where, timeout, threads=True):
        yield from output


def deal_tasks(
    docs: list[dict[str, Any]], engines_by_class: Mapping[str, tuple[str, ...]], workers: int
) -> list[list[dict[str, Any]]]:
    """Each worker's share: the documents it evaluates, each with the engines it runs on it (``engines``).
    ``engines_by_class``: the engines with policies for each document class (``manifest``, ``entity``).

    Tasks (a document and an engine) are dealt largest first, each to the worker with the least so far.
    """
    tasks = []
    for position, doc in enumerate(docs):
        size = len(json.dumps(doc["data"], separators=(",", ":"), default=str))
        tasks += [(TASK_COST + size, position, engine) for engine in engines_by_class[doc["class"]]]
    loads = [0] * workers
    dealt: list[dict[int, list[str]]] = [{} for _ in range(workers)]
    for cost, position, engine in sorted(tasks, key=lambda task: -task[0]):
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


def run_side_by_side(
    runners: list[Runner],
    docs: list[dict[str, Any]],
    engines_by_class: Mapping[str, tuple[str, ...]],
    context: dict[str, Any],
    where: list[str],
    timeout: float,
) -> Iterator[dict[str, Any]]:
    """Deal the (document, engine) tasks among ``runners`` (:func:`deal_tasks`), evaluate the shares at once, and
    yield one answer per document, in document order, with its verdicts in engine order."""
    shares = [share for share in deal_tasks(docs, engines_by_class, len(runners)) if share]
    answers: dict[int, list[dict[str, Any]]] = {}
    one_request_each = all(len(share) <= CHUNK for share in shares)
    for output in _drive(runners[: len(shares)], shares, context, where, timeout, threads=not one_request_each):
        for answer in output:
            answers.setdefault(answer["i"], []).append(answer)
    for doc in docs:
        parts = answers.get(doc["i"], [])
        results = [result for part in parts for result in part["results"]]
        results.sort(key=lambda result: ENGINES.index(result[1]))  # stable: each engine's own order is kept
        yield {"i": doc["i"], "results": results, "problems": [p for part in parts for p in part["problems"]]}
