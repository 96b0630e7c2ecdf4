"""The pipes beside a worker's protocol: the wake pipe (the parent sleeps while a worker evaluates, and is woken
when the answer to its request is complete, or before the answers it has not read could fill the output pipe; see
``policy/worker.py``), and the task queue two workers share."""

from __future__ import annotations

import os
import select
import textwrap

from idp_tui.policy.runtime import TaskQueue, WorkerProcess, wait_for_answers
from idp_tui.policy.worker import WAKE_BEFORE_BYTES, Answers

# A catalog-free rule set: "busy" counts to 300,000 (a tenth of a second or more), "quick" answers at once.
RULES = """
    package main
    import rego.v1

    deny_busy contains "busy" if {
        input.kind == "Busy"
        count([n | some n in numbers.range(1, 300000)]) < 0
    }
    deny_quick contains input.kind if true
"""


def setup_request() -> dict:
    rules = [{"package": "main", "name": name, "file": "rules.rego", "line": 1} for name in ("deny_busy", "deny_quick")]
    module = {
        "file": "rules.rego",
        "text": textwrap.dedent(RULES),
        "package": "main",
        "calls": [],
        "imports": {},
        "rules": rules,
    }
    return {
        "op": "setup",
        "rego": {"modules": [module], "data": {}, "manifest_packages": ["main"], "entity_packages": []},
    }


def readable(descriptor: int) -> bool:
    return bool(select.select([descriptor], [], [], 0)[0])


def test_the_worker_signals_a_complete_answer_and_wakes_the_parent_before_its_pipe_could_fill():
    output_read, output_write = os.pipe()
    wake_read, wake_write = os.pipe()
    with open(output_write, "wb", buffering=0) as output:
        answers = Answers(output, wake_write)
        for index in range(3):
            answers.write({"i": index, "results": [], "problems": []})
        assert not readable(wake_read)  # three small answers: nothing to wake the parent for
        answers.complete()
        assert os.read(wake_read, 100) == b"."
        assert os.read(output_read, 1 << 16).count(b"\n") == 3

        written_since_woken = 0
        largest_unread = 0
        wakes = 0
        for index in range(60):  # 60 KiB of answers: a pipe holds 64 KiB
            answers.write({"i": index, "message": "x" * 1000})
            if readable(wake_read):
                assert os.read(wake_read, 100) == b"+"
                wakes += 1
                written_since_woken = 0
            chunk = os.read(output_read, 1 << 16)
            written_since_woken += len(chunk)
            largest_unread = max(largest_unread, written_since_woken)
        assert wakes >= 3
        assert largest_unread <= WAKE_BEFORE_BYTES
    os.close(output_read)
    for descriptor in (wake_read, wake_write):
        os.close(descriptor)


def test_a_worker_is_waited_for_until_its_answer_is_complete_and_then_read_at_once():
    worker = WorkerProcess(setup_request())
    try:
        assert worker.answered  # the setup answer was read
        documents = [{"i": 0, "class": "manifest", "data": {"kind": "Quick"}}]
        documents += [{"i": 1, "class": "manifest", "data": {"kind": "Busy"}}]
        documents += [{"i": 2, "class": "manifest", "data": {"kind": "Last"}}]
        worker.send({"op": "eval", "docs": documents})
        assert not worker.answered
        assert not wait_for_answers([worker], 0.001)  # still counting
        assert wait_for_answers([worker], 60)
        answers = list(worker.answers(timeout=0.001))  # all in the pipe already: no wait
        assert [answer["results"] for answer in answers] == [
            [["main.deny_quick", "rego", "deny", "Quick", None]],
            [["main.deny_quick", "rego", "deny", "Busy", None]],
            [["main.deny_quick", "rego", "deny", "Last", None]],
        ]
        assert worker.answered
    finally:
        worker.close()


def test_answers_many_times_larger_than_the_pipe_arrive_whole():
    # 100 messages of 1,900 characters kept per document (and "… and 200 more"): 190 KB lines, the pipe holds 64 KiB.
    setup = setup_request()
    setup["rego"]["modules"][0].update(
        text='package main\nimport rego.v1\ndeny_many contains sprintf("%d %s", [n, input.pad]) if some n in numbers.range(1, 300)\n',
        rules=[{"package": "main", "name": "deny_many", "file": "rules.rego", "line": 3}],
    )
    worker = WorkerProcess(setup)
    try:
        documents = [{"i": index, "class": "manifest", "data": {"pad": "x" * 1900}} for index in range(3)]
        answers = list(worker.evaluate({"docs": documents}, timeout=60))
    finally:
        worker.close()
    assert [answer["i"] for answer in answers] == [0, 1, 2]
    for answer in answers:
        messages = [result[3] for result in answer["results"]]
        assert len(messages) == 101
        assert all(message.endswith("x" * 1900) for message in messages[:100])
        assert messages[100] == "… and 200 more messages from this policy"


def test_each_queued_task_is_taken_once_and_a_new_fill_drops_what_was_left():
    queue = TaskQueue()
    try:
        assert queue.fill(5)
        first, second = os.fdopen(os.dup(queue.read_end), "rb", buffering=0), queue.read_end
        taken = [first.read(2), os.read(second, 2), first.read(2)]
        assert [int.from_bytes(task, "big") for task in taken] == [0, 1, 2]
        assert queue.fill(2)  # tasks 3 and 4 of the last evaluation were never taken: they are not this one's
        assert [int.from_bytes(os.read(second, 2), "big") for _ in range(2)] == [0, 1]
        assert first.read(2) is None  # empty: the worker reading it is done (the read end never blocks)
        assert queue.fill(TaskQueue.MAX_TASKS)  # the most one evaluation queues fits a pipe at once
        queue.clear()
        assert not queue.fill(60_000)  # more than a pipe holds: nothing queued (the tasks are dealt instead)
        assert first.read(2) is None
        first.close()
    finally:
        queue.close()
