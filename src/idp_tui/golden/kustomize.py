"""What kustomize would build from a run's kustomizations, for the guardrails to judge.

A kustomization changes what is applied: ``images: [{name: api, newTag: latest}]`` over a pinned Deployment, a
patch, a generator. So each kustomization that no other one in the run refers to (an overlay: its bases are built
through it) is built with the real kustomize (``kustomize build``, or ``kubectl kustomize``, which embeds it), and
what it builds is judged as a file of its own, named ``kustomize build FOLDER``.

The kustomizations are written by other people, so the build runs in a scratch copy of the run's regular files and:

- reaches no network: in a user and network namespace of its own (``unshare``) where Linux allows it, else with
  proxies that lead nowhere; and a reference that is not a file or folder among the run's files (a remote base,
  which kustomize would fetch) is refused before anything is built;
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
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..safe_text import clean
from .build_sandbox import (
    MAX_TREE_BYTES,
    MIB,
    Builds,
    error_text,
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
ISOLATED = ("unshare", "--user", "--map-root-user", "--net")  # util-linux: no network but a loopback of its own


def is_kustomization(name: str) -> bool:
    return posixpath.basename(name) in KUSTOMIZATION_NAMES


def build_kustomizations(trees: Iterable[tuple[str, Mapping[str, bytes]]]) -> Builds:
    """Build every top-level kustomization of each tree (``(where, {relative path: content})``; ``where`` is
    put before the folder's name, "" for the workspace). A repository's output that the workspace's build gave
    already (the repository is built from it) is judged once. The builds share ``BUILD_TIMEOUT``."""
    builds = Builds()
    seen: set[bytes] = set()
    deadline = time.monotonic() + BUILD_TIMEOUT
    for where, files in trees:
        shown = functools.partial(posixpath.join, where) if where else str
        builds.covered.update(shown(name) for name in files if is_kustomization(name))
        for folder, built, why in _build_tree(files, deadline):
            if why:
                builds.unjudged.append((shown(_kustomization_name(files, folder)), why))
            elif not (where and built in seen):
                seen.add(built)
                builds.manifests[f"{BUILT_PREFIX}{shown(folder) or '.'}"] = built
    return builds


def _kustomization_name(files: Mapping[str, bytes], folder: str) -> str | None:
    """The path of the kustomization file kustomize reads in ``folder``, None when it has none."""
    return next((name for base in KUSTOMIZATION_NAMES if (name := posixpath.join(folder, base)) in files), None)


def _build_tree(files: Mapping[str, bytes], deadline: float) -> list[tuple[str, bytes, str]]:
    """``(folder, output, why not built)`` for each top-level kustomization of ``files``, and for each one that
    no top-level kustomization reaches (kustomizations referring to each other in a circle)."""
    folders = sorted({posixpath.dirname(name) for name in files if is_kustomization(name)})
    if not folders:
        return []
    tool = kustomize_command()
    isolated = tool is not None and tool[0] == ISOLATED[0]
    references = {folder: _references(files, folder, isolated=isolated) for folder in folders}
    referenced = {target for targets, _ in references.values() for target in targets}
    roots = [folder for folder in folders if folder not in referenced]
    reached = {root: _reached(references, root) for root in roots}
    results: list[tuple[str, bytes, str]] = []
    circled = set(folders).difference(roots, *reached.values())
    results += [(folder, b"", "it refers back to itself through other kustomizations") for folder in sorted(circled)]
    refusals: dict[str, str] = {}
    for root in roots:
        # A base's refusal is its overlay's too: what the overlay builds goes through it.
        why = next((references[f][1] for f in (root, *reached[root]) if references[f][1]), "")
        if not why and tool is None:
            why = "kustomize builds the manifests applied from this folder, and neither kustomize nor kubectl is here"
        if not why and tree_too_large(files):
            why = f"the files checked are more than {MAX_TREE_BYTES // MIB} MiB: kustomize was not run on them"
        if not why and len(roots) > MAX_BUILDS:
            why = f"there are more than {MAX_BUILDS} kustomizations to build: none was built"
        refusals[root] = why
    to_build = [root for root in roots if not refusals[root]]
    built = _run_all(tool, files, to_build, deadline) if to_build else {}
    for root in roots:
        output, why = built.get(root, (b"", refusals[root]))
        results.append((root, output, why))
    return results


def _reached(references: Mapping[str, tuple[list[str], str]], root: str) -> list[str]:
    """The kustomization folders ``root`` builds through (its bases and components, and theirs)."""
    reached: list[str] = []
    pending = [root]
    while pending:
        for target in references[pending.pop()][0]:
            if target not in reached and target != root:
                reached.append(target)
                pending.append(target)
    return reached


def _references(files: Mapping[str, bytes], folder: str, *, isolated: bool) -> tuple[list[str], str]:
    """The kustomization folders the one in ``folder`` refers to, and why it cannot be built ("" when it can):
    a reference that is not a file or folder among ``files``, or one kustomize would fetch; where kustomize cannot
    be kept off the network (``isolated`` False), any URL in it (a patch's ``path`` is fetched too)."""
    from ..catalog.yaml_docs import load_documents

    try:
        documents, errors = load_documents(files[_kustomization_name(files, folder)].decode("utf-8"))
    except UnicodeDecodeError:
        return [], "the kustomization is not UTF-8 text"
    if errors or len(documents) != 1 or not isinstance(documents[0].data, dict):
        return [], "the kustomization is not one YAML mapping"
    data = documents[0].data
    if not isolated and (url := _first_url(data)):
        return [], f"it names {url!r}, and kustomize cannot be kept off the network here (no user namespaces)"
    targets: list[str] = []
    for key in REFERENCE_FIELDS:
        entries = data.get(key) or []
        if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
            return [], f"its {key} is not a list of paths"
        for entry in entries:
            if "\n" in entry:
                continue  # a generator's or transformer's configuration written inline: nothing to fetch
            target = _local_target(files, folder, entry)
            if target is None:
                return targets, (
                    f"it refers to {clean(entry, one_line=True)[:200]!r} in {key}, which is not a file or folder "
                    "among the files checked (kustomize would fetch it, or read it from outside them)"
                )
            if _kustomization_name(files, target):
                targets.append(target)
    return targets, ""


def _first_url(value: object) -> str:
    """The first text holding ``://`` in a kustomization's data (shown cut and cleaned), "" when none does."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str) and "://" in item:
            return clean(item, one_line=True)[:200]
    return ""


def _local_target(files: Mapping[str, bytes], folder: str, entry: str) -> str | None:
    """The path inside the tree that ``entry`` (relative to ``folder``) names, when it is a file or a folder of
    ``files``; None otherwise (a URL, an absolute path, one leaving the tree, or one that is not there)."""
    if not entry or "\x00" in entry or "://" in entry or entry.startswith(("/", "~")) or "@" in entry.split("/")[0]:
        return None
    target = posixpath.normpath(posixpath.join(folder, entry))
    if target == ".." or target.startswith("../"):
        return None
    target = "" if target == "." else target
    prefix = f"{target}/" if target else ""
    if target in files or any(name.startswith(prefix) for name in files):
        return target
    return None


@functools.cache
def kustomize_command() -> tuple[str, ...] | None:
    """How to run kustomize here (its own binary, else kubectl's), inside a namespace with no network when Linux
    allows one; None when neither is installed."""
    standalone, kubectl = shutil.which("kustomize"), shutil.which("kubectl")
    command = (standalone, "build") if standalone else (kubectl, "kustomize") if kubectl else None
    if command is None:
        return None
    return (*ISOLATED, *command) if _can_isolate() else command


def _can_isolate() -> bool:
    """Whether this machine lets a process have a user and network namespace of its own."""
    if shutil.which(ISOLATED[0]) is None:
        return False
    try:
        return subprocess.run([*ISOLATED, "true"], capture_output=True, timeout=5, env={}).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _run_all(
    tool: tuple[str, ...], files: Mapping[str, bytes], roots: list[str], deadline: float
) -> dict[str, tuple[bytes, str]]:
    """kustomize's output for each of ``roots`` (or why it failed), built in one scratch copy of ``files``."""
    with scratch_copy(files) as (scratch, why):
        if why:
            return dict.fromkeys(roots, (b"", why))
        return {root: _run(tool, scratch, root, deadline) for root in roots}


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
        reason = " ".join(_KLOG_PREFIX.sub("", error_text(finished.errors, scratch)).split())
        return b"", f"kustomize could not build it: {reason}"
    return finished.output, ""


# kubectl's log prefix before kustomize's reason, and the quotes around it.
_KLOG_PREFIX = re.compile(r'^E\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err=<?"?|"? ?>?$')
