"""Evaluating documents, files and catalog entities against a policy set.

Each document is one input, as in conftest. A Backstage descriptor (``apiVersion: backstage.io/…``) is checked by
the catalog packages' Rego rules (``catalog`` by default); any other document by the manifest packages' rules
(``main`` by default) and, when it is a Kubernetes object, by the ValidatingAdmissionPolicies as its CREATE.

``Namespace`` objects among the documents give namespace selectors their labels and ``namespaceObject`` its
value; labels of namespaces that exist elsewhere can be passed as ``namespaces``.

Evaluation runs in the policy set's worker (``runtime.py``), which bounds each document's time, or in two workers
at once (``parallel.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..bounded_read import MIB, RefusedRead, read_regular_file, resolves_within
from . import parallel, reading
from .models import InputProblem, PolicyEvaluation, PolicyProblem, PolicyResult, PolicySet, TimeBudget
from .parallel import (
    PARALLEL_MIN_DOCUMENTS,
    ready_spare,
    remember_costs,
    run_on_texts,
    run_sharded,
    run_side_by_side,
)
from .reading import Reader, document_class, kind_and_name
from .runtime import CHUNK, Runner
from .worker import ENGINES

MAX_INPUT_FILE_BYTES = 8 * MIB
MAX_INPUT_FILES = 100_000
INPUT_SUFFIXES = (".yaml", ".yml", ".json")
# Files the workers read themselves (a golden path's output is a few KiB): past this much, reading them here and
# dealing their documents costs no more.
MAX_SHARED_TEXT_BYTES = 512 * 1024

Document = tuple[str, int, Any]  # (file, line, data)


class EntityLike(Protocol):
    """A catalog entity as the catalog package holds it: its descriptor and where it was read."""

    raw: dict[str, Any]
    source: Any  # with .path and .line, or None


def _runner(policy_set: PolicySet) -> Runner:
    runtime = policy_set.runtime
    if runtime.worker is None:
        runtime.worker = Runner(policy_set)
    return runtime.worker


def _namespace_context(items: list[tuple[str, int, int, Any, str]], namespaces: Mapping | None) -> dict[str, Any]:
    labels: dict[str, dict[str, str]] = {
        str(name): {str(k): str(v) for k, v in (value or {}).items()} for name, value in (namespaces or {}).items()
    }
    objects: dict[str, Any] = {}
    for _, _, _, data, document_kind in items:
        if document_kind != "manifest" or not isinstance(data, dict):
            continue
        if data.get("kind") == "Namespace" and data.get("apiVersion") == "v1":
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            name = metadata.get("name")
            if isinstance(name, str) and name:
                objects[name] = data
                own = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
                labels[name] = {str(k): str(v) for k, v in own.items()}
    return {"namespaces": labels, "namespace_objects": objects}


def _engines_by_class(policy_set: PolicySet) -> dict[str, tuple[str, ...]]:
    """The engines with something to say about a manifest and about a catalog entity."""
    rego = ("rego",)
    return {
        "manifest": (rego if policy_set.rules_for("manifest") else ()) + (("vap",) if policy_set.bindings else ()),
        "entity": rego if policy_set.rules_for("entity") else (),
    }


def _runners(policy_set: PolicySet, count: int) -> list[Runner]:
    runtime = policy_set.runtime
    while len(runtime.extra_workers) < count - 1:
        runtime.extra_workers.append(Runner(policy_set))
    return [_runner(policy_set), *runtime.extra_workers[: count - 1]]


def _evaluate(
    policy_set: PolicySet,
    items: list[tuple[str, int, int, Any, str]],
    input_problems: list[InputProblem],
    namespaces: Mapping | None,
    timeout: float | None,
    workers: int | None,
    budget: TimeBudget,
) -> PolicyEvaluation:
    """``items``: ``(file, line, document index, data, class)``; what is not judged when ``budget`` ends is said
    so."""
    results: list[PolicyResult] = []
    problems: list[PolicyProblem] = list(policy_set.problems)
    if items and not policy_set.is_empty:
        docs = [{"i": index, "class": item[4], "data": item[3]} for index, item in enumerate(items)]
        where = [f"{item[0]}:{item[1]}" for item in items]
        context = _namespace_context(items, namespaces)
        count = workers or parallel.default_workers()
        deadline = timeout or policy_set.timeout
        with policy_set.runtime.lock:
            runner = _runner(policy_set)
            problems += [PolicyProblem(*problem) for problem in runner.exclusions.problems()]
            spare = ready_spare(policy_set, runner) if count > 1 else None
            if count > 1 and len(docs) >= PARALLEL_MIN_DOCUMENTS:
                answers = run_sharded(_runners(policy_set, count), docs, context, where, deadline, budget)
            elif spare is not None:
                engines = _engines_by_class(policy_set)
                costs = policy_set.runtime.task_costs
                answers = run_side_by_side([runner, spare], docs, engines, context, where, deadline, costs, budget)
            else:
                answers = runner.run(docs, context, where, deadline, budget=budget)
            for answer in answers:
                remember_costs(policy_set.runtime.task_costs, docs[answer["i"]], answer)
                file, line, document_index, data, _ = items[answer["i"]]
                where = (file, line, document_index, *kind_and_name(data))
                results += _verdicts(where, answer["results"])
                problems += [PolicyProblem(*problem) for problem in answer["problems"]]
            # What the worker found compiling (already among the set's problems when load_policies checked it).
            problems += [PolicyProblem(*problem) for problem in runner.setup_answer.get("problems", ())]
    unique = list(dict.fromkeys(problems))
    return PolicyEvaluation(tuple(results), tuple(unique), tuple(input_problems), len(items))


def _verdicts(where: tuple[str, int, int, str, str], verdicts: list) -> list[PolicyResult]:
    """A worker's verdicts on one document (``[policy, engine, action, message, reason]`` each) as results, the
    document given by ``where``: file, line, index in the file, kind, name."""
    return [PolicyResult(*where, *verdict) for verdict in verdicts]


def evaluate_documents(
    policy_set: PolicySet,
    documents: Iterable[Document],
    *,
    namespaces: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    time_budget: float | None = None,
) -> PolicyEvaluation:
    """Evaluate parsed documents.

    Args:
        policy_set: from :func:`~idp_tui.policy.loading.load_policies`.
        documents: ``(file, line, data)`` each; a file's documents are numbered in the order given.
        namespaces: labels of namespaces not among the documents, by name (for namespace selectors).
        timeout: seconds per document, instead of the policy set's.
        workers: worker processes (two by default where there are two cores): a large evaluation (1,000
            documents or more) shares its documents among them; a smaller one runs its engines side by side in
            them once a golden path's check has started the second (see :mod:`idp_tui.policy.parallel`).
        time_budget: seconds for the whole evaluation, instead of the policy set's.

    Returns:
        The verdicts, and the problems (the policy set's, and those met evaluating).
    """
    counters: dict[str, int] = {}
    items = []
    for file, line, data in documents:
        index = counters.get(file, 0)
        counters[file] = index + 1
        items.append((file, line, index, data, document_class(data)))
    return _evaluate(policy_set, items, [], namespaces, timeout, workers, _budget(policy_set, time_budget))


def _budget(policy_set: PolicySet, seconds: float | None) -> TimeBudget:
    """The evaluation's time budget, starting now."""
    return TimeBudget.from_now(seconds or policy_set.time_budget)


def evaluate_entities(
    policy_set: PolicySet,
    entities: Iterable[EntityLike | Document],
    *,
    timeout: float | None = None,
    workers: int | None = None,
    time_budget: float | None = None,
) -> PolicyEvaluation:
    """Evaluate catalog entities with the catalog packages' Rego rules (``catalog`` by default).

    Args:
        entities: catalog entities (``raw`` and ``source`` with ``path``/``line``) or ``(file, line, data)``.
    """
    items = []
    counters: dict[str, int] = {}
    for entity in entities:
        if isinstance(entity, tuple):
            file, line, data = entity
        else:
            source = getattr(entity, "source", None)
            file = getattr(source, "path", "") if source is not None else ""
            line = getattr(source, "line", 1) if source is not None else 1
            data = entity.raw
        index = counters.get(file, 0)
        counters[file] = index + 1
        items.append((file, line, index, data, "entity"))
    return _evaluate(policy_set, items, [], None, timeout, workers, _budget(policy_set, time_budget))


def _input_files(
    paths: Iterable[str | os.PathLike], problems: list[InputProblem], skip: Callable[[str], bool] | None = None
) -> list[tuple[str, str | None]]:
    """``(file, the real path of the folder it was found in)`` for each input file; None for a file named as such
    (what it leads to is the reader's choice). A file ``skip`` names is left out."""
    files: list[tuple[str, str | None]] = []
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            real_root = os.path.realpath(path)
            stack = [path]
            while stack:
                folder = stack.pop()
                try:
                    entries = sorted(os.scandir(folder), key=lambda entry: entry.name, reverse=True)
                except OSError as error:
                    problems.append(InputProblem(folder, 1, f"cannot list the folder: {error.strerror or error}"))
                    continue
                batch = []
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.lower().endswith(INPUT_SUFFIXES) and (skip is None or not skip(entry.path)):
                        batch.append((entry.path, real_root))  # a .YAML file too: kubectl applies it when named
                files += sorted(batch)
                if len(files) > MAX_INPUT_FILES:
                    problems.append(
                        InputProblem(path, 1, f"more than {MAX_INPUT_FILES:,} files: the rest are not read")
                    )
                    return files[:MAX_INPUT_FILES]
        elif os.path.exists(path):
            if skip is None or not skip(path):
                files.append((path, None))
        else:
            problems.append(InputProblem(path, 1, "no such file or directory"))
    return files


def read_documents(
    paths: Iterable[str | os.PathLike], budget: TimeBudget | None = None, skip: Callable[[str], bool] | None = None
) -> tuple[list[tuple[str, int, int, Any]], list[InputProblem]]:
    """Every document of the YAML and JSON files under ``paths``: ``(file, line, index, data)``, and the
    files or documents that could not be read (none is read once ``budget`` is spent). A symlink found in a folder
    is read only when it leads to a file inside that folder: a policy echoes its input, so ``/etc/passwd`` must not
    become one. ``skip`` leaves out files found in folders (see :func:`_input_files`)."""
    reader = Reader(budget)
    files = _input_files(paths, reader.problems, skip)
    for position, (file, real_root) in enumerate(files):
        if reader.full(file, len(files) - position):
            break
        source = file
        if real_root is not None:
            source = os.path.realpath(file)
            if not resolves_within(source, real_root):
                reader.problems.append(InputProblem(file, 1, "not read: a symlink that leads outside its folder"))
                continue
        try:
            # The resolved path, opened without following a symlink: one swapped in since is refused.
            content, _ = read_regular_file(source, MAX_INPUT_FILE_BYTES, follow_symlinks=real_root is None)
        except RefusedRead as error:
            reader.problems.append(InputProblem(file, 1, f"not read: {error}"))
            continue
        reader.parse(file, content)
    return reader.documents, reader.problems


def read_texts(
    files: Mapping[str, bytes], budget: TimeBudget | None = None
) -> tuple[list[tuple[str, int, int, Any]], list[InputProblem]]:
    """:func:`read_documents` for files already in memory (``{name: content}``, as a golden path's dry run
    returns them): each file's documents ``(file, line, index, data)``, and what could not be parsed."""
    reader = Reader(budget)
    for position, (file, content) in enumerate(files.items()):
        if reader.full(file, len(files) - position):
            break
        if len(content) > MAX_INPUT_FILE_BYTES:
            too_large = f"not read: larger than {MAX_INPUT_FILE_BYTES // MIB} MiB"
            reader.problems.append(InputProblem(file, 1, too_large))
            continue
        reader.parse(file, content)
    return reader.documents, reader.problems


def evaluate_files(
    policy_set: PolicySet,
    paths: Iterable[str | os.PathLike],
    *,
    namespaces: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    time_budget: float | None = None,
    skip: Callable[[str], bool] | None = None,
) -> PolicyEvaluation:
    """Evaluate the YAML and JSON files under ``paths`` (files, or folders read recursively, hidden ones
    skipped, and those ``skip`` names: a chart's templates), every document of each with its line. Unreadable
    files and YAML errors are ``input_problems``; the other documents are still evaluated."""
    budget = _budget(policy_set, time_budget)
    documents, problems = read_documents(paths, budget, skip)
    items = [(file, line, index, data, document_class(data)) for file, line, index, data in documents]
    return _evaluate(policy_set, items, problems, namespaces, timeout, workers, budget)


def evaluate_texts(
    policy_set: PolicySet,
    files: Mapping[str, bytes],
    *,
    namespaces: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    time_budget: float | None = None,
) -> PolicyEvaluation:
    """:func:`evaluate_files` for files in memory (``{name: content}``): a golden path's output, as its dry run or
    a scaffolder's returns it; names are kept as given (``k8s/deployment.yaml``).

    Once a spare worker runs (see :mod:`idp_tui.policy.parallel`), the two workers read the files themselves
    (:func:`_read_by_workers`); otherwise, or where that does not finish, they are read here.
    """
    budget = _budget(policy_set, time_budget)
    shared = _read_by_workers(policy_set, files, namespaces, timeout, workers, budget)
    if shared is not None:
        return shared
    documents, problems = read_texts(files, budget)
    items = [(file, line, index, data, document_class(data)) for file, line, index, data in documents]
    return _evaluate(policy_set, items, problems, namespaces, timeout, workers, budget)


def _read_by_workers(
    policy_set: PolicySet,
    files: Mapping[str, bytes],
    namespaces: Mapping | None,
    timeout: float | None,
    workers: int | None,
    budget: TimeBudget,
) -> PolicyEvaluation | None:
    """The evaluation of a few files in memory by two workers that each read the files of the tasks they take
    (:func:`~idp_tui.policy.parallel.run_on_texts`); None where they cannot share it this way, or could not
    finish it (a worker stopped or missed a deadline: both are stopped, and the caller's evaluation, in the first
    worker while the spare starts again, finds the runaway policy).

    Read here, a golden path's files took 0.6-0.7 ms of each check before either worker could start; read by
    the workers, each file by the worker that first takes one of its tasks, both start at once.

    Only where no verdict depends on the namespaces (a namespace selector, ``namespaceObject``): a worker reads
    only some of the files, so it cannot know every ``Namespace`` among them.
    """
    count = workers or parallel.default_workers()
    texts = _shareable_texts(files)
    if count < 2 or namespaces or texts is None or policy_set.is_empty:
        return None
    with policy_set.runtime.lock:
        runner = _runner(policy_set)
        spare = ready_spare(policy_set, runner)
        if spare is None or any(r.setup_answer.get("needs_namespaces") is not False for r in (runner, spare)):
            return None
        engines = tuple(dict.fromkeys(engine for kinds in _engines_by_class(policy_set).values() for engine in kinds))
        costs = policy_set.runtime.task_costs
        taken = run_on_texts([runner, spare], texts, engines, timeout or policy_set.timeout, costs, budget)
        if taken is None:
            return None
        problems = [*policy_set.problems, *(PolicyProblem(*problem) for problem in runner.exclusions.problems())]
        results, documents, input_problems = _from_file_answers(texts, taken, problems)
        if documents > reading.MAX_DOCUMENTS:
            return None  # each worker read each file on its own: read here, the files' documents are capped together
        problems += [PolicyProblem(*problem) for problem in runner.setup_answer.get("problems", ())]
    unique = list(dict.fromkeys(problems))
    return PolicyEvaluation(tuple(results), tuple(unique), tuple(input_problems), documents)


def _shareable_texts(files: Mapping[str, bytes]) -> list[tuple[str, bytes]] | None:
    """``(name, content)`` of each file, for workers to read; None when the files are too many or too large to
    share so, or one may use aliases (a budget for the nodes they add is kept across the files read here: a worker
    reads only some of them, in no order known beforehand). A worker says where a file is not UTF-8, as here."""
    if not files or len(files) > CHUNK or sum(len(content) for content in files.values()) > MAX_SHARED_TEXT_BYTES:
        return None
    from ..catalog.yaml_docs import may_alias

    texts = list(files.items())
    return None if any(may_alias(content) for _, content in texts) else texts


def _from_file_answers(
    texts: list[tuple[str, bytes]], taken: list[tuple[int, list[str], dict[str, Any]]], problems: list[PolicyProblem]
) -> tuple[list[PolicyResult], int, list[InputProblem]]:
    """The verdicts, the number of documents and the input problems of the files, from their tasks' answers, in
    the order :func:`_evaluate` lists them (file, document, engine); the problems met are added to ``problems``."""
    parts: dict[int, list[tuple[list[str], dict[str, Any]]]] = {}
    for position, engines, answer in taken:
        parts.setdefault(position, []).append((engines, answer))
    results: list[PolicyResult] = []
    input_problems: list[InputProblem] = []
    documents = 0
    for position, (file, _) in enumerate(texts):
        answers = [answer for _, answer in sorted(parts[position], key=lambda part: ENGINES.index(part[0][0]))]
        input_problems += [InputProblem(file, *problem) for problem in answers[0]["input_problems"]]
        for entries in zip(*(answer["docs"] for answer in answers), strict=True):
            index, line, _, kind, name = entries[0][:5]
            documents += 1
            for *_, verdicts, found in entries:
                results += _verdicts((file, line, index, kind, name), verdicts)
                problems += [PolicyProblem(*problem) for problem in found]
    return results, documents, input_problems


def evaluate_rendered(policy_set: PolicySet, directory: str | os.PathLike, **options) -> PolicyEvaluation:
    """Evaluate what a golden path rendered into ``directory`` (its manifests and catalog files)."""
    return evaluate_files(policy_set, [directory], **options)
