"""The policy evaluation worker: a child process that compiles and evaluates policies, and nothing else.

Policies are code written by other people, and neither engine can be interrupted: rego-cpp has no timeout or
instruction budget, and the Rust CEL engine holds the interpreter while it runs. So evaluation happens here, in a
process the parent kills when a document takes longer than its deadline (see ``runtime.py``), and:

- the environment is empty (started with ``env={}``; rego-cpp's ``opa.runtime()`` would return it, tokens and
  all), and the working directory is ``/``;
- no file can be written (``RLIMIT_FSIZE`` 0), CPU time is capped as a last resort, and no core file is left;
  memory is watched by the parent instead (rego-cpp's allocator, snmalloc, reserves 256 GiB of address space at
  start, so ``RLIMIT_AS`` and ``RLIMIT_DATA`` would stop it from starting at all);
- whatever the engines print (rego-cpp prints compile errors to stdout) goes to ``/dev/null``: the protocol runs on
  a private copy of the original stdout;
- it exits when its parent goes away (stdin closes, or the parent's pid changes).

Protocol: one JSON object per line each way. ``{"op": "setup", ...}`` is answered by one line with the problems
found compiling; ``{"op": "eval", "docs": [...]}`` by one line per document (its verdicts, problems, and the
microseconds each engine took), then ``{"done": true}``. A document with ``engines`` (``["rego"]`` or ``["vap"]``)
is evaluated by those engines only: another worker has the rest. A request with ``claim`` (a list of
``[document position, engine]`` tasks) is shared with another worker: each takes the next task from the task queue
(two bytes a task, on a pipe both workers read; see ``runtime.TaskQueue``) until none is left, and answers each
task on its own (with ``task``, its index). ``{"op": "eval_texts", "names": [name, ...], "sizes": [bytes, ...],
"claim": [[file position, [engine, ...]], ...]}``, followed on the same stream by the files' bytes one after the
other (``sizes`` says where each ends: text sent raw costs neither process a JSON string to encode or decode), is
shared the same way, by files the worker reads itself (``reading.Reader``, as idp-tui reads them): each task's
answer lists the file's documents (index, line, class, kind, name, verdicts,
problems), what could not be read in it, and the microseconds each engine and the reading took; before it, a
``{"progress": task}`` line as each document but the last is done, so each document has its own deadline.

Each document's answer is written as soon as it is known (if the worker is killed, the parent knows which
document it was on), but the parent is woken only by a byte on a second pipe (the wake pipe): ``.`` when the
answer to a request is complete, ``+`` before the answers it has not read could fill the output pipe. Waking it
at every document took a core from the workers while they ran: on a golden path's check the parent woke nine
times, and the check took 0.3-0.5 ms longer.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from itertools import accumulate, pairwise
from typing import Any

from .reading import Reader, document_class, kind_and_name

CPU_LIMIT_SECONDS = 6 * 3600
ENGINES = ("rego", "vap")  # in the order their verdicts on one document are listed
# A verdict is read by a person: a policy's message past this many characters is cut (a CEL messageExpression can
# build 10 MB), and past this many messages from one policy on one document the rest are counted, not listed.
MAX_MESSAGE_CHARS = 2000
MAX_MESSAGES_PER_POLICY = 100
# The parent is woken before this many bytes of answers wait for it: well under a pipe's 64 KiB, so the worker
# never blocks on a full pipe that nobody is reading.
WAKE_BEFORE_BYTES = 16 * 1024


def _confine() -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    for limit, value in (
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, CPU_LIMIT_SECONDS),
    ):
        try:
            soft, hard = resource.getrlimit(limit)
            wanted = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (wanted, hard))
        except (ValueError, OSError):
            pass


# In a request (ASCII JSON): an escaped backslash, a valid surrogate pair, or a lone surrogate.
_SURROGATE_ESCAPES = re.compile(rb"(\\\\)|(\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2})|(\\ud[89a-f][0-9a-f]{2})")


def _without_lone_surrogates(line: bytes) -> bytes:
    """A request with each lone surrogate (a JSON file can hold one; neither engine can take it) made U+FFFD, as
    Kubernetes' and OPA's JSON decoders make it."""
    if b"\\ud" not in line:
        return line
    return _SURROGATE_ESCAPES.sub(lambda match: b"\\ufffd" if match.group(3) else match.group(0), line)


def _watch_parent(parent: int) -> None:
    """Exit when the parent is gone, even in the middle of an evaluation (regopy releases the GIL)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


class Answers:
    """The protocol's output: each message a JSON line on ``out``; on ``wake`` (a file descriptor, or None) a
    ``.`` when the answer to a request is complete, and a ``+`` before the answers not yet read could fill the
    pipe."""

    def __init__(self, out, wake: int | None) -> None:
        self.out = out
        self.wake_fd = wake
        self.unread = 0  # bytes written since the parent was last woken

    def write(self, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"
        if self.unread + len(data) > WAKE_BEFORE_BYTES:
            self._wake(b"+")
        self.out.write(data)
        self.unread += len(data)

    def complete(self) -> None:
        self._wake(b".")

    def _wake(self, signal: bytes) -> None:
        if self.wake_fd is not None:
            os.write(self.wake_fd, signal)
        self.unread = 0


class Worker:
    def __init__(self, tasks: int | None = None) -> None:
        self.tasks = tasks  # the read end of the task queue (see runtime.TaskQueue), or None
        self.rego = None
        self.bindings: list = []
        self.params: list = []

    # -- setup ---------------------------------------------------------------------------------------

    def setup(self, request: dict[str, Any]) -> dict[str, Any]:
        problems: list[tuple] = []
        dropped_modules: list[str] = []
        dropped_policies: list[str] = []
        rego = request.get("rego") or {}
        if rego.get("modules"):
            from .rego import Module, RegoEngine, Rule

            modules = []
            for item in rego["modules"]:
                rules = [Rule(rule["package"], rule["name"], rule["file"], rule["line"]) for rule in item["rules"]]
                modules.append(
                    Module(
                        item["file"],
                        item["text"],
                        item["package"],
                        rules,
                        [tuple(c) for c in item["calls"]],
                        dict(item.get("imports") or {}),
                    )
                )
            excluded = set(request.get("exclude_rules") or ())

            def chosen(packages: list[str]) -> list:
                """The rules of these packages, each once (a package split over files defines a rule in each)."""
                every = "*" in packages
                rules: dict[str, Rule] = {}
                for module in modules:
                    for rule in module.rules:
                        if (every or module.package in packages) and rule.policy not in excluded:
                            rules.setdefault(rule.policy, rule)
                return list(rules.values())

            engine = RegoEngine(
                modules, rego.get("data") or {}, chosen(rego["manifest_packages"]), chosen(rego["entity_packages"])
            )
            dropped_modules = engine.check()
            problems += engine.problems
            engine.problems = []
            self.rego = engine
        vap = request.get("vap") or {}
        if vap.get("policies"):
            from .vap import Param, prepare_binding, prepare_policy

            prepared = {}
            for item in vap["policies"]:
                lines = {tuple(path): line for path, line in item.get("lines") or []}
                policy, policy_problems = prepare_policy(item["file"], item["line"], item["data"], lines)
                problems += policy_problems
                if policy is None:
                    dropped_policies.append(item["name"])
                else:
                    prepared[policy.name] = policy
            excluded_bindings = set(request.get("exclude_bindings") or ())
            for item in vap.get("bindings") or []:
                policy = prepared.get(item["policy"])
                if policy is not None and item["name"] not in excluded_bindings:
                    self.bindings.append(prepare_binding(item["file"], item["line"], item["data"], policy))
            for item in vap.get("params") or []:
                data = item["data"]
                metadata = data.get("metadata") or {}
                labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
                self.params.append(
                    Param(
                        data.get("apiVersion", ""),
                        data.get("kind", ""),
                        metadata.get("name", ""),
                        metadata.get("namespace") or "default",
                        {str(k): str(v) for k, v in labels.items()},
                        data,
                    )
                )
        return {
            "problems": problems,
            "dropped_modules": dropped_modules,
            "dropped_policies": dropped_policies,
            "needs_namespaces": self._needs_namespaces(),
        }

    def _needs_namespaces(self) -> bool:
        """Whether a verdict can depend on namespaces' labels or objects (a namespace selector, or a policy that
        reads ``namespaceObject``): only then does a document's evaluation need the other documents' Namespaces."""
        for binding in self.bindings:
            policy = binding.policy
            if policy.uses_namespace_object:
                return True
            if any((match or {}).get("namespaceSelector") for match in (policy.match, binding.match)):
                return True
        return False

    # -- evaluation ----------------------------------------------------------------------------------

    def evaluate(self, request: dict[str, Any], write) -> None:
        only = request.get("only")
        only_rules = set(only.get("rules") or ()) if only else None
        only_bindings = set(only.get("bindings") or ()) if only else None
        namespaces = request.get("namespaces") or {}
        namespace_objects = request.get("namespace_objects") or {}
        claimed = request.get("claim")
        docs = request["docs"] if claimed is None else self._claimed(request["docs"], claimed)
        for doc in docs:
            engines = doc.get("engines") or ENGINES  # a document split between two workers names its share
            results, problems, cost = self._judge(
                doc["data"], doc["class"], engines, only_rules, only_bindings, namespaces, namespace_objects
            )
            answer = {"i": doc["i"], "results": results, "problems": problems, "cost": cost}
            if "task" in doc:
                answer["task"] = doc["task"]
            write(answer)
        write({"done": True})

    def evaluate_texts(self, request: dict[str, Any], write) -> None:
        """Answer the tasks of an ``eval_texts`` request (see the module docstring): each a file and its engines.

        A file is read when this worker first takes one of its tasks; each task's answer carries what the parent
        would have read itself: each document's index, line, class, kind and name, and the file's problems; and
        the microseconds each engine took on the file (``cost``) and reading it took (``read``, 0 when read for
        an earlier task).
        """
        files = request["files"]  # [name, content] each, the contents read after the request (see main)
        read: dict[int, tuple[list, list]] = {}
        for task, (position, engines) in self._claimed_tasks(request["claim"]):
            reading = 0
            if position not in read:
                started = time.perf_counter()
                read[position] = _read_text(*files[position])
                reading = round((time.perf_counter() - started) * 1e6)
            documents, input_problems = read[position]
            entries = []
            cost = dict.fromkeys(engines, 0)
            for line, index, kind, name, data in documents:
                if entries:  # each document has its own deadline, as in an eval request: a line says it is done
                    write({"progress": task})
                of_class = document_class(data)
                results, problems, spent = self._judge(data, of_class, engines, None, None, {}, {})
                entries.append([index, line, of_class, kind, name, results, problems])
                for engine, micros in spent.items():
                    cost[engine] += micros
            write({"task": task, "docs": entries, "input_problems": input_problems, "cost": cost, "read": reading})
        write({"done": True})

    def _judge(self, data, of_class, engines, only_rules, only_bindings, namespaces, namespace_objects):
        """One document's verdicts and problems by ``engines``, and the microseconds each engine took (the parent
        deals later tasks by them)."""
        results: list[list] = []
        problems: list[tuple] = []
        cost: dict[str, int] = {}
        if "rego" in engines and self.rego is not None and (only_rules is None or only_rules):
            started = time.perf_counter()
            rego_results, rego_problems = self.rego.evaluate(data, of_class, only_rules)
            results += [[policy, "rego", action, message, None] for policy, action, message in rego_results]
            problems += rego_problems
            cost["rego"] = round((time.perf_counter() - started) * 1e6)
        if "vap" in engines and self.bindings and of_class == "manifest" and isinstance(data, dict):
            started = time.perf_counter()
            self._evaluate_vap(data, only_bindings, namespaces, namespace_objects, results, problems)
            cost["vap"] = round((time.perf_counter() - started) * 1e6)
        return _bounded(results), problems, cost

    def _claimed(self, docs: list[dict[str, Any]], tasks: list[list]) -> Iterator[dict[str, Any]]:
        """Each task taken from the task queue, as a document with the one engine to run on it."""
        for index, (position, engine) in self._claimed_tasks(tasks):
            yield {**docs[position], "engines": [engine], "task": index}

    def _claimed_tasks(self, tasks: list[list]) -> Iterator[tuple[int, list]]:
        """``(index, task)`` for each task taken from the task queue, until it is empty."""
        while self.tasks is not None:
            try:
                taken = os.read(self.tasks, 2)
            except BlockingIOError:
                return  # none left: the other worker has the rest
            if len(taken) < 2:
                return
            index = int.from_bytes(taken, "big")
            if index < len(tasks):
                yield index, tasks[index]

    def _evaluate_vap(self, data, only_bindings, namespaces, namespace_objects, results, problems) -> None:
        from .vap import CannotEvaluate, document_context, evaluate_binding
        from .vap_match import request_target

        target = request_target(data)
        if target is None:
            return
        context = document_context(data, target)
        seen: set[tuple] = set()
        for binding in self.bindings:
            if only_bindings is not None and binding.name not in only_bindings:
                continue
            policy = binding.policy
            try:
                verdicts = evaluate_binding(binding, context, target, namespaces, namespace_objects, self.params)
            except CannotEvaluate as why:
                problems.append((policy.file, policy.line, policy.name, f"cannot evaluate: {why}"))
                continue
            for action, message, reason in verdicts:
                key = (policy.name, action, message)
                if key not in seen:
                    seen.add(key)
                    results.append([policy.name, "vap", action, message, reason])


# In a JSON file's text: an escaped surrogate, which may be a lone one.
_SURROGATE_IN_TEXT = re.compile(rb"\\u[dD][89a-fA-F]")


def _read_text(name: str, content: bytes) -> tuple[list, list]:
    """A file's documents ``(line, index, kind, name, data)`` and its problems ``[line, message]``, read as
    idp-tui reads them (``reading.Reader``, which says where a file is not UTF-8); lone surrogates in the data are
    made U+FFFD, as in a request, while the kind and name are the ones idp-tui would have read."""
    reader = Reader()
    reader.parse(name, content)
    documents = [(line, index, *kind_and_name(data), data) for _, line, index, data in reader.documents]
    if _SURROGATE_IN_TEXT.search(content):  # only JSON reads one (the YAML reader refuses it)
        line = json.dumps([data for *_, data in documents]).encode("ascii")
        cleaned = json.loads(_without_lone_surrogates(line))
        documents = [(*read, data) for (*read, _), data in zip(documents, cleaned, strict=True)]
    return documents, [[problem.line, problem.message] for problem in reader.problems]


def _bounded(results: list[list]) -> list[list]:
    """``results`` with each message cut to ``MAX_MESSAGE_CHARS`` and at most ``MAX_MESSAGES_PER_POLICY`` per
    policy and action, the rest said as one more message ("… and N more") right after them."""
    kept: list[list] = []
    counts: dict[tuple, int] = {}
    last: dict[tuple, int] = {}  # where each policy's last kept message is in ``kept``
    for policy, engine, action, message, reason in results:
        key = (policy, engine, action)
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > MAX_MESSAGES_PER_POLICY:
            continue
        if len(message) > MAX_MESSAGE_CHARS:
            message = f"{message[:MAX_MESSAGE_CHARS]}… ({len(message):,} characters)"
        last[key] = len(kept)
        kept.append([policy, engine, action, message, reason])
    overflowing = [key for key, count in counts.items() if count > MAX_MESSAGES_PER_POLICY]
    for key in sorted(overflowing, key=last.__getitem__, reverse=True):
        more = counts[key] - MAX_MESSAGES_PER_POLICY
        kept.insert(last[key] + 1, [*key, f"… and {more:,} more messages from this policy", None])
    return kept


def main(wake: int | None = None, tasks: int | None = None) -> None:
    """Run the worker on this process's stdin and stdout (see the module docstring); ``wake`` is the write end of
    the wake pipe, ``tasks`` the read end of the task queue."""
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    protocol_in = os.fdopen(os.dup(0), "rb")
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(null, descriptor)
    os.close(null)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    os.environ.clear()  # started with none; Python itself adds LC_CTYPE when it coerces the C locale
    _confine()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    worker = Worker(tasks)
    answers = Answers(protocol_out, wake)
    for line in protocol_in:
        request = json.loads(_without_lone_surrogates(line))
        operation = request.get("op")
        if operation == "setup":
            answers.write(worker.setup(request))
        elif operation == "eval":
            worker.evaluate(request, answers.write)
        elif operation == "eval_texts":
            contents = protocol_in.read(sum(request["sizes"]))
            spans = zip(request["names"], pairwise(accumulate(request["sizes"], initial=0)), strict=True)
            request["files"] = [[name, contents[start:end]] for name, (start, end) in spans]
            worker.evaluate_texts(request, answers.write)
        elif operation == "exit":
            break
        answers.complete()  # every request but exit: the parent counts them
    protocol_out.flush()


if __name__ == "__main__":  # pragma: no cover - started by runtime.py with -c
    main()
