"""What Jsonnet evaluates a run's ``*.jsonnet`` files into, for the guardrails to judge.

Argo CD evaluates each ``*.jsonnet`` file of an application's folder into the manifests it applies (a list's items
one by one, or one object); ``*.libsonnet`` files are libraries they import. So each ``*.jsonnet`` file is
evaluated with go-jsonnet, Argo CD's own engine (PyPI's ``gojsonnet``), and what it evaluates to is judged as a
file of its own, named ``jsonnet FILE``, each manifest a document; text it evaluates to is read as YAML (``jsonnet
-S | kubectl apply -f -``); a Grafana dashboard in Jsonnet is judged like any other JSON.

The files are written by other people, and a file that could tell it is being checked could evaluate to something
else in Argo CD: so it is evaluated as if checked out where Argo CD checks repositories out (its ``std.thisFile``
is ``/tmp/_argocd-repo/<uuid>/…``), twice, at two such places, and refused when the two answers differ; nor is one
whose top-level value is a function evaluated (Argo CD calls it with arguments idp-tui does not know). Each
evaluation runs in a child process (``jsonnet_child.py``) with a deadline, memory and output caps, no environment,
and its imports kept inside the run's files (see ``jsonnet_child.Importer`` for where one is looked for); no
external variable is given. A file that cannot be evaluated is not judged, and blocks the run.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import idp_tui

from .build_sandbox import (
    LEFT_OUT_LIST,
    Builds,
    error_text,
    plain_files,
    run_tool,
    scratch_copy,
    stopped_words,
    tree_too_large,
)

EVALUATE_TIMEOUT = 30.0
ARGO_CHECKOUTS = "/tmp/_argocd-repo"  # where Argo CD's repo server checks repositories out
OWN_FOLDER = "."  # the checkout name for "relative to the file's own folder" (jsonnet_child.Importer)
BUILT_PREFIX = "jsonnet "
MAX_SOURCES = 50


def is_jsonnet(name: str) -> bool:
    return name.endswith((".jsonnet", ".libsonnet"))


def evaluate_jsonnet(trees: Iterable[tuple[str, Mapping[str, bytes]]], builds: Builds | None = None) -> Builds:
    """Evaluate every ``*.jsonnet`` file of each tree (``(where, {relative path: content})``, ``where`` put before
    its name). An output evaluated before (the same file in a repository built from the workspace) is judged once.
    The evaluations share ``EVALUATE_TIMEOUT``; what they give is added to ``builds`` (a new one by default)."""
    builds = Builds() if builds is None else builds
    seen: set[bytes] = set()
    deadline = time.monotonic() + EVALUATE_TIMEOUT
    for where, named in trees:
        files = plain_files(named)
        shown = (lambda name, where=where: posixpath.join(where, name)) if where else str
        builds.covered.update(shown(name) for name in files if is_jsonnet(name))
        sources = sorted(name for name in files if name.endswith(".jsonnet"))
        if not sources:
            continue
        for source, output, why in _evaluate_tree(files, sources, deadline):
            if why:
                builds.not_built(source, shown(source), why)
            elif output not in seen:
                seen.add(output)
                builds.keep(f"{BUILT_PREFIX}{shown(source)}", source, shown(source), output)
    return builds


def _evaluate_tree(files: Mapping[str, bytes], sources: list[str], deadline: float) -> list[tuple[str, bytes, str]]:
    """``(source, manifests, why not evaluated)`` for each of ``sources``."""
    if tree_too_large(files):
        return [(source, b"", "the files checked are too large: Jsonnet was not run on them") for source in sources]
    if len(sources) > MAX_SOURCES:
        return [
            (source, b"", f"there are more than {MAX_SOURCES} Jsonnet files: none was evaluated") for source in sources
        ]
    with scratch_copy(files) as (scratch, why):
        if why:
            return [(source, b"", why) for source in sources]
        return [(source, *_evaluate(scratch, source, deadline)) for source in sources]


def _evaluate(scratch: Path, source: str, deadline: float) -> tuple[bytes, str]:
    """What ``source`` evaluates to, as manifests; ("", why) when it could not be evaluated, or when the answers
    differ where it is evaluated: twice in Argo CD's checkouts (``/tmp/_argocd-repo/<uuid>``), once relative to the
    repository's folder (``jsonnet k8s/app.jsonnet``) and once to its own (``cd k8s && jsonnet app.jsonnet``)."""
    answers = []
    for checkout in (f"{ARGO_CHECKOUTS}/{uuid.uuid4()}", f"{ARGO_CHECKOUTS}/{uuid.uuid4()}", "", OWN_FOLDER):
        answer, why = _evaluate_once(scratch, source, checkout, deadline)
        if why:
            return b"", why
        answers.append(answer)
    if len(set(answers)) > 1:
        return b"", "it evaluates to something else at another place: it would not be judged as deployed"
    try:
        value = json.loads(answers[0])
    except ValueError:
        return b"", "Jsonnet's output is not JSON"
    return _as_documents(value), ""


def _evaluate_once(scratch: Path, source: str, checkout: str, deadline: float) -> tuple[bytes, str]:
    """One evaluation, the files named as in ``checkout`` (a name only, never made: they are read from the copy)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(idp_tui.__file__)))
    code = f"import sys; sys.path.insert(0, {root!r}); from idp_tui.golden.jsonnet_child import main; main()"
    listed = str(scratch / LEFT_OUT_LIST)
    command = [sys.executable, "-I", "-c", code, str(scratch / "tree"), source, checkout, listed]
    finished = run_tool(command, scratch, {}, deadline)
    errors = finished.errors.replace(f"{checkout}/".encode(), b"") if checkout else finished.errors
    if finished.stopped:
        return b"", f"{stopped_words(finished, 'Jsonnet', EVALUATE_TIMEOUT)} to evaluate the Jsonnet files"
    if finished.status < 0 or errors.startswith((b"runtime:", b"fatal error:")):
        # Go's runtime stopped it (out of memory under the cap, a stack past its limit): its first line says why.
        reason = error_text(errors.split(b"\n", 1)[0], scratch)
        return b"", f"Jsonnet stopped evaluating it: {reason or f'signal {-finished.status}'}"
    if finished.status != 0:
        reason = error_text(errors.split(b"\n", 1)[0], scratch)  # the error, not its stack trace
        return b"", f"Jsonnet could not evaluate it: {reason or 'it stopped'}"
    return finished.output, ""


# What YAML cannot hold unescaped (DEL, C1 controls, surrogates, U+FFFE/U+FFFF) and JSON leaves as it is.
_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def _as_documents(value: Any) -> bytes:
    """A YAML stream with one document per manifest, each written as JSON; text as the YAML it is (``jsonnet -S``
    prints it so).

    The manifests are what Argo CD applies (a list's items, or the object) and what Tanka, kubecfg and
    ``jsonnet -m`` apply too: every object with an ``apiVersion`` and a ``kind``, however deep in objects and lists
    (``{deployment: {...}, service: {...}}``). A value holding none (a Grafana dashboard) is one document.
    """
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    manifests = list(_manifests(value)) or [value]
    written = (json.dumps(item, indent=2, ensure_ascii=False) for item in manifests)
    escaped = (_NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) for text in written)
    return "".join(f"---\n{text}\n" for text in escaped).encode("utf-8", "surrogatepass")


def _manifests(value: Any) -> Iterator[dict]:
    """Every object with an ``apiVersion`` and a ``kind`` in ``value``, outermost first (one is not looked into:
    a List's items are the policies' to read)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if "apiVersion" in item and "kind" in item:
                yield item
            else:
                pending += reversed(list(item.values()))
        elif isinstance(item, list):
            pending += reversed(item)
