"""What kustomize would build from a run's kustomizations, for the guardrails to judge.

A kustomization changes what is applied: ``images: [{name: api, newTag: latest}]`` over a pinned Deployment, a
patch, a generator. So each kustomization of the run (an overlay, and its bases, which can be applied on their own
too) is built with the real kustomize (``kustomize build``, or ``kubectl kustomize``, which embeds it), and what it
builds is judged as a file of its own, named ``kustomize build FOLDER``. The files it builds from are judged as
they are too: a patch among them may be applied on its own (``kubectl apply -f``, an Argo CD directory app).

The kustomizations are written by other people, so the build runs in a scratch copy of the run's regular files and:

- reaches no network: in a user and network namespace of its own (``unshare``) where Linux allows it; else
  proxies lead nowhere, and a tree with a URL in any file is not built (no proxy stops a fetch from 127.0.0.1);
  and a reference that is not a file or folder among the run's files (a remote base, which kustomize would fetch)
  is refused before anything is built;
- reads nothing outside the run's files: a reference leaving them is refused, and kustomize's load restrictor
  keeps each kustomization's files inside its folder; plugins and Helm stay off (kustomize's defaults);
- is given no environment but ``PATH``, and is bounded in time and in output.

A kustomization that cannot be built (no kustomize here, a refused reference, kustomize's own error) is not judged,
and blocks the run, as a file the policies cannot read does.
"""

from __future__ import annotations

import functools
import os
import posixpath
import shutil
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
    can_isolate,
    error_text,
    plain_files,
    run_tool,
    scratch_copy,
    stopped_words,
    tree_too_large,
)

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")  # kustomize looks in this order
# Where a kustomization names other kustomizations, or files, to build from (kustomize's own field names): each
# may be a remote one, fetched.
REFERENCE_FIELDS = ("resources", "bases", "components", "generators", "transformers", "validators")
MAX_BUILDS = 50
BUILD_TIMEOUT = 30.0
BUILT_PREFIX = "kustomize build "
# Proxies that lead nowhere (port 9, discard, on the loopback): kustomize's HTTP and git fetches go there.
NOWHERE = "http://127.0.0.1:9"


def is_kustomization(name: str) -> bool:
    return posixpath.basename(name) in KUSTOMIZATION_NAMES


def build_kustomizations(trees: Iterable[tuple[str, Mapping[str, bytes]]], builds: Builds | None = None) -> Builds:
    """Build every kustomization of each tree (``(where, {relative path: content})``; ``where`` is put before
    the folder's name, "" for the workspace). An output built before (a base an overlay changes nothing of; a
    repository built from the workspace) is judged once. The builds share ``BUILD_TIMEOUT``; what they build is
    added to ``builds`` (a new one by default), with the other tools' outputs (they share its caps)."""
    builds = Builds() if builds is None else builds
    seen: set[bytes] = set()
    deadline = time.monotonic() + BUILD_TIMEOUT
    for where, named in trees:
        files = plain_files(named)
        shown = functools.partial(posixpath.join, where) if where else str
        # An odd name (``k8s//kustomization.yaml``) is not built, nor covered: it blocks, as one not judged.
        builds.covered.update(shown(name) for name in files if is_kustomization(name))
        for folder, built, why in _build_tree(files, deadline):
            if why:
                name = _kustomization_name(files, folder)
                builds.not_built(name, shown(name), why)
            elif built not in seen:
                seen.add(built)
                name = _kustomization_name(files, folder)
                builds.keep(f"{BUILT_PREFIX}{shown(folder) or '.'}", name, shown(name), built)
    return builds


def _kustomization_name(files: Mapping[str, bytes], folder: str) -> str | None:
    """The path of the kustomization file kustomize reads in ``folder``, None when it has none."""
    return next((name for base in KUSTOMIZATION_NAMES if (name := posixpath.join(folder, base)) in files), None)


@dataclass(frozen=True)
class _Kustomization:
    """What a kustomization refers to: the kustomization folders it builds through, and why it cannot be built
    ("" when it can)."""

    bases: frozenset[str] = frozenset()
    refused: str = ""


def _build_tree(files: Mapping[str, bytes], deadline: float) -> list[tuple[str, bytes, str]]:
    """``(folder, output, why not built)`` for each kustomization of ``files``: every one is built, an overlay's
    base too (it can be applied on its own)."""
    folders = sorted({posixpath.dirname(name) for name in files if is_kustomization(name)})
    if not folders:
        return []
    tool = kustomize_command()
    refused = _refused_tree(files, folders, tool)
    if refused:
        return [(folder, b"", refused) for folder in folders]
    paths = _paths_and_folders(files)
    read = {folder: _read_kustomization(files, paths, folder) for folder in folders}
    refusals = {}
    for folder in folders:
        # A base's refusal is its overlay's too: what the overlay builds goes through it.
        base = next((f for f in (folder, *_reached(read, folder)) if read[f].refused), None)
        refusals[folder] = (
            ""
            if base is None
            else read[base].refused
            if base == folder
            else (f"it builds through {base or '.'}, where {read[base].refused}")
        )
    to_build = [folder for folder in folders if not refusals[folder]]
    built = _run_all(tool, files, to_build, deadline) if to_build else {}
    return [(folder, *built.get(folder, (b"", refusals[folder]))) for folder in folders]


def _refused_tree(files: Mapping[str, bytes], folders: list[str], tool: tuple[str, ...] | None) -> str:
    """Why none of the tree's kustomizations is built ("" when they may be)."""
    if tool is None:
        return "kustomize builds the manifests applied from this folder, and neither kustomize nor kubectl is here"
    if len(folders) > MAX_BUILDS:
        return f"there are more than {MAX_BUILDS} kustomizations to build: none was built"
    if tree_too_large(files):
        return f"the files checked are more than {MAX_TREE_BYTES // MIB} MiB: kustomize was not run on them"
    if tool[0] != ISOLATED[0]:
        # Only proxies keep kustomize off the network, and none stops a fetch from 127.0.0.1: any file it may
        # read (a transformer's configuration, a patch) can name a URL.
        named = next((name for name, content in sorted(files.items()) if b"://" in content), None)
        if named is not None:
            return (
                f"{clean(named, one_line=True)} names a URL, and kustomize cannot be kept off the network here "
                "(no user namespaces)"
            )
    return ""


def _reached(read: Mapping[str, _Kustomization], folder: str) -> list[str]:
    """The kustomization folders ``folder`` builds through (its bases and components, and theirs)."""
    reached: dict[str, None] = {}
    pending = [folder]
    while pending:
        for base in read[pending.pop()].bases:
            if base not in reached and base != folder:
                reached[base] = None
                pending.append(base)
    return list(reached)


def _read_kustomization(files: Mapping[str, bytes], paths: set[str], folder: str) -> _Kustomization:
    """What the kustomization in ``folder`` refers to; refused where a reference is not a file or folder among
    ``files`` (``paths``: their paths and folders), as one kustomize would fetch."""
    from ..catalog.yaml_docs import load_documents

    try:
        documents, errors = load_documents(files[_kustomization_name(files, folder)].decode("utf-8"))
    except UnicodeDecodeError:
        return _Kustomization(refused="the kustomization is not UTF-8 text")
    if errors or len(documents) != 1 or not isinstance(documents[0].data, dict):
        return _Kustomization(refused="the kustomization is not one YAML mapping")
    data = documents[0].data
    bases: set[str] = set()
    for key in REFERENCE_FIELDS:
        entries = data.get(key) or []
        if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
            return _Kustomization(refused=f"its {key} is not a list of paths")
        for entry in entries:
            if "\n" in entry:
                continue  # a generator's or transformer's configuration written inline: nothing to fetch
            target = _local_target(paths, folder, entry)
            if target is None:
                return _Kustomization(
                    refused=f"it refers to {clean(entry, one_line=True)[:200]!r} in {key}, which is not a file or "
                    "folder among the files checked (kustomize would fetch it, or read it from outside them)"
                )
            if _kustomization_name(files, target):
                bases.add(target)
    return _Kustomization(frozenset(bases))


def _paths_and_folders(files: Mapping[str, bytes]) -> set[str]:
    """Every path of ``files`` and every folder holding one ("" the tree itself)."""
    paths = {""}
    for name in files:
        paths.add(name)
        while "/" in name:
            name = name.rsplit("/", 1)[0]
            paths.add(name)
    return paths


def _local_target(paths: set[str], folder: str, entry: str) -> str | None:
    """The path inside the tree that ``entry`` (relative to ``folder``) names, when it is a file or a folder of the
    tree (``paths``); None otherwise (a URL, an absolute path, one leaving the tree, or one that is not there)."""
    if not entry or "\x00" in entry or "://" in entry or entry.startswith(("/", "~")) or "@" in entry.split("/")[0]:
        return None
    target = posixpath.normpath(posixpath.join(folder, entry))
    if target == ".." or target.startswith("../"):
        return None
    target = "" if target == "." else target
    return target if target in paths else None


@functools.cache
def kustomize_command() -> tuple[str, ...] | None:
    """How to run kustomize here (its own binary, else kubectl's), inside a namespace with no network when Linux
    allows one; None when neither is installed."""
    standalone, kubectl = shutil.which("kustomize"), shutil.which("kubectl")
    command = (standalone, "build") if standalone else (kubectl, "kustomize") if kubectl else None
    if command is None:
        return None
    return (*ISOLATED, *command) if can_isolate() else command


def _run_all(
    tool: tuple[str, ...], files: Mapping[str, bytes], folders: list[str], deadline: float
) -> dict[str, tuple[bytes, str]]:
    """kustomize's output for each of ``folders`` (or why it failed), built in one scratch copy of ``files``."""
    with scratch_copy(files) as (scratch, why):
        if why:
            return dict.fromkeys(folders, (b"", why))
        return {folder: _run(tool, scratch, folder, deadline) for folder in folders}


def _run(tool: tuple[str, ...], scratch: Path, root: str, deadline: float) -> tuple[bytes, str]:
    """kustomize's output for the folder ``root`` of the copy in ``scratch``; ("", why) when it failed."""
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(scratch),
        "KUBECONFIG": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        **dict.fromkeys(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"), NOWHERE),
    }
    command = [*tool, str(scratch / "tree" / root), "--load-restrictor", "LoadRestrictionsRootOnly"]
    finished = run_tool(command, scratch, environment, deadline)
    if finished.stopped:
        return b"", f"{stopped_words(finished, 'kustomize', BUILD_TIMEOUT)} to build the kustomizations"
    if finished.status != 0:
        return b"", f"kustomize could not build it: {error_text(finished.errors, scratch, _reason)}"
    return finished.output, ""


def _reason(text: str) -> str:
    """kustomize's reason from what kubectl printed: after its log line's ``err=`` (a warning may come before it),
    without the quotes around it."""
    _, marker, after = text.partition(' "command failed" err=')
    return (after if marker else text).strip().strip('<>"').strip().replace('\\"', '"')
