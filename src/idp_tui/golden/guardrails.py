"""Guardrails on what a golden path produces: checked after the steps rendered the workspace and before anything
leaves it (published, registered, provisioned), by both runners and by their dry runs alike.

The golden domain knows only the verdicts: the checker (policy-as-code, given by the session) implements
:class:`Guardrails`. A ``deny`` stops the run before any staged effect is applied, so nothing is created; a
``warn`` is said as a log event and the run goes on. A checker that cannot answer stops the run too: guardrails the
person configured are never skipped silently.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..bounded_read import is_within
from .build_sandbox import LEFT_OUT
from .deploy_tools import build_tool_sources
from .helm import helm_only
from .kustomize import is_kustomization

#: The files a guardrail reads: every YAML and JSON file (manifests, catalog files, anything else).
GUARDRAIL_SUFFIXES = (".yaml", ".yml", ".json")
#: A workspace file larger than this is not a manifest anyone wrote by hand: it is left unread, and said so.
MAX_GUARDRAIL_FILE_BYTES = 8 * 1024 * 1024
#: At most this many files are read for one check (a workspace is bounded already; this bounds the check).
MAX_GUARDRAIL_FILES = 10_000
#: Links to folders followed reading a run's files for a deploy tool, and what it reads of them together.
MAX_FOLDER_LINKS = 100
MAX_TREE_READ_BYTES = 64 * 1024 * 1024
NOTHING_CREATED = "nothing was published, registered or provisioned"


class GuardrailError(Exception):
    """The guardrails could not be checked (the checker failed, or its input could not be read); ``str()`` is one
    line for the user. The run stops: nothing is created unchecked."""


@dataclass(frozen=True, slots=True)
class GuardrailFinding:
    """One verdict on one document a golden path would produce.

    Attributes:
        file: the file's path in the workspace (``k8s/deployment.yaml``).
        line: 1-based line where the document starts.
        action: ``deny`` (the run stops), ``warn`` or ``audit`` (said, the run goes on).
        policy: the policy that spoke (``main.deny_latest_image``, a ValidatingAdmissionPolicy's name).
        message: the policy's message.
        engine: what evaluated it (``rego``, ``vap``).
        kind: the document's ``kind`` ("" when it has none).
        name: the document's ``metadata.name`` ("" when it has none).
    """

    file: str
    line: int
    action: str
    policy: str
    message: str
    engine: str = ""
    kind: str = ""
    name: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.action.upper()} {self.policy}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """``{file, line, kind, name, policy, engine, action, message}``."""
        return {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "name": self.name,
            "policy": self.policy,
            "engine": self.engine,
            "action": self.action,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class GuardrailReport:
    """What the guardrails said about one run's files.

    Attributes:
        findings: every verdict, in file and document order.
        documents: how many documents were checked.
        files: how many files were read.
        unjudged: where a policy could not judge a document (too slow on it, failing on it, lacking a function),
            or a file or document could not be read (not YAML, past a budget, a merge key), one line each. The run
            stops: a template could otherwise make a policy give up on what it renders, or hide it from the
            policies in a file kubectl reads another way.
    """

    findings: tuple[GuardrailFinding, ...] = ()
    documents: int = 0
    files: int = 0
    unjudged: tuple[str, ...] = ()

    @property
    def denials(self) -> tuple[GuardrailFinding, ...]:
        """The findings that stop the run."""
        return tuple(finding for finding in self.findings if finding.action == "deny")

    @property
    def warnings(self) -> tuple[GuardrailFinding, ...]:
        """The findings that are said while the run goes on (``warn`` and ``audit``)."""
        return tuple(finding for finding in self.findings if finding.action in ("warn", "audit"))

    @property
    def exceptions(self) -> tuple[GuardrailFinding, ...]:
        """What a rule said about a file that a policy's exception excepts: shown, never blocking."""
        return tuple(finding for finding in self.findings if finding.action == "exception")

    @property
    def blocked(self) -> bool:
        """Whether a policy denied something, or could not judge a document: the run must not create anything."""
        return bool(self.denials or self.unjudged)

    def lines(self) -> list[str]:
        """Every verdict as ``file:line: DENY policy: message``, then what was not judged (not yet cleaned: policy
        authors wrote the messages, so whoever prints them cleans them)."""
        return [*(str(finding) for finding in self.findings), *self.unjudged]

    def blocked_words(self) -> str:
        """Why the run is blocked: ``2 denied``, ``1 not judged``, or both."""
        words = [f"{len(self.denials)} denied"] if self.denials else []
        return ", ".join(words + ([f"{len(self.unjudged)} not judged"] if self.unjudged else []))

    def summary(self) -> str:
        """``Policies: 2 denied, 1 warning (14 documents in 6 files)``."""
        denied, warned, excepted = len(self.denials), len(self.warnings), len(self.exceptions)
        verdict = "all passed" if not self.findings else f"{denied} denied, {warned} warning{'s' * (warned != 1)}"
        if excepted:
            verdict += f", {excepted} excepted"
        if self.unjudged:
            verdict = ("" if not self.findings else verdict + ", ") + f"{len(self.unjudged)} not judged"
        where = f"{self.documents} document{'s' * (self.documents != 1)} in {self.files} file{'s' * (self.files != 1)}"
        return f"Policies: {verdict} ({where})"

    def failure_message(self) -> str:
        """The run's error when it is blocked: the first denial whole (else the first document not judged), and
        how many more there are."""
        if self.denials:
            why, first, more = "Blocked by policy", str(self.denials[0]), len(self.denials) - 1
            others = [f"{more} more denied"] if more else []
            others += [f"{len(self.unjudged)} not judged"] if self.unjudged else []
        else:
            why, first, more = "Blocked: the policies could not judge a file", self.unjudged[0], len(self.unjudged) - 1
            others = [f"{more} more not judged"] if more else []
        return f"{why}: {first}{' (and ' + ', '.join(others) + ')' if others else ''}; {NOTHING_CREATED}"

    def to_json(self) -> dict[str, Any]:
        """``{blocked, documents, files, results: [...], unjudged: [...]}``."""
        return {
            "blocked": self.blocked,
            "documents": self.documents,
            "files": self.files,
            "results": [finding.to_json() for finding in self.findings],
            "unjudged": list(self.unjudged),
        }


class Guardrails(Protocol):
    """Checks the files a golden path would produce; the session gives one to the runners when policies are set."""

    def check(self, files: Mapping[str, bytes]) -> GuardrailReport:
        """Judge ``files`` (workspace path -> content, YAML and JSON files only).

        Raises:
            GuardrailError: the check itself could not be made.
        """
        ...


def is_guardrail_input(path: str) -> bool:
    """A YAML or JSON file the run produces. Hidden ones too: a template's ``.github/workflows/ci.yaml`` ships with
    the service, and policies on CI workflows are common. (``idp-tui validate`` skips hidden folders of a folder it
    is given, which may hold ``.venv`` or ``.terraform``; a template's output holds what its author put there.)
    A ``.git`` folder is version control's, not the run's output. ``deployment.YAML`` is a manifest too: kubectl
    applies a file it is named whatever its suffix."""
    parts = path.replace("\\", "/").split("/")
    return path.lower().endswith(GUARDRAIL_SUFFIXES) and ".git" not in parts[:-1]


def guardrail_inputs(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files of a dry run's result that the guardrails read."""
    return {path: content for path, content in files.items() if is_guardrail_input(path)}


def read_guardrail_inputs(workspace: Path) -> dict[str, bytes]:
    """The YAML and JSON files of a workspace; a symlink with such a name is read as what it leads to (see
    :func:`read_linked_inputs`).

    Raises:
        GuardrailError: a file cannot be read, is not a regular file or is too large; there are too many files.
    """
    files: dict[str, bytes] = {}
    links: list[str] = []
    for directory, dirnames, filenames in os.walk(workspace):
        dirnames[:] = sorted(name for name in dirnames if name != ".git")
        for name in sorted(filenames):
            path = Path(directory, name)
            relative = path.relative_to(workspace).as_posix()
            if not is_guardrail_input(relative):
                continue
            if len(files) + len(links) >= MAX_GUARDRAIL_FILES:
                raise GuardrailError(f"the workspace holds more than {MAX_GUARDRAIL_FILES:,} YAML and JSON files")
            if path.is_symlink():
                links.append(relative)
            else:
                files[relative] = _read_input(path, relative)
    return {**files, **read_linked_inputs(workspace, links)}


def read_linked_inputs(workspace: Path, links: Iterable[str]) -> dict[str, bytes]:
    """What kubectl reads through each symlink of ``links`` (workspace paths) that bears a YAML or JSON name: the
    file it leads to, under the link's name. A ``deployment.yaml`` linked to ``deploy.txt`` is applied as a
    manifest, and ``deploy.txt`` is not judged under its own name. A link to a folder is left out: kubectl cannot
    read it either.

    Raises:
        GuardrailError: a link leads out of the workspace or to nothing, or what it leads to cannot be read within
            the cap.
    """
    root = os.path.realpath(workspace)
    files: dict[str, bytes] = {}
    for relative in links:
        if not is_guardrail_input(relative):
            continue
        target = os.path.realpath(workspace / relative)
        if os.path.commonpath([root, target]) != root:
            raise GuardrailError(f"{relative} is a symlink leading out of the workspace")
        if not os.path.exists(target):  # on a file system that ignores case, it may lead to a file after all
            raise GuardrailError(f"{relative} is a symlink leading to nothing")
        if os.path.isfile(target):
            files[relative] = _read_input(Path(target), relative)
    return files


def read_tree(tree: Path) -> dict[str, bytes]:
    """Every file of ``tree`` as a deploy tool reads it (kustomize, Jsonnet): regular files, and each symlink to a
    file or folder inside the tree as what it leads to (``k8s/sub -> ../lib`` holds lib's files under ``k8s/sub``);
    ``.git`` left out, and a file past the cap of a file the policies read given as ``LEFT_OUT``.

    Links are written by the template, so the walk is bounded: ``MAX_GUARDRAIL_FILES`` entries looked at (folders,
    files, links, including those skipped), ``MAX_FOLDER_LINKS`` links to folders followed, and
    ``MAX_TREE_READ_BYTES`` read together (a file reached by several names is read once).

    Raises:
        GuardrailError: a file cannot be read, is not a regular file or is too large; a bound is passed; a folder
            cannot be listed (a link loop the kernel stops, a name too long).
    """
    root = os.path.realpath(tree)
    root_parts = len(Path(root).parts)
    files: dict[str, bytes] = {}
    read: dict[str, bytes] = {}  # real path -> content, each read once
    looked = links = total = 0
    # Each folder with the real folders above it: a link back up to one of them is not walked into again.
    pending: list[tuple[Path, str, frozenset[str]]] = [(Path(tree), "", frozenset({root}))]
    try:
        while pending:
            folder, prefix, above = pending.pop()
            for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
                looked += 1
                if looked > MAX_GUARDRAIL_FILES:
                    raise GuardrailError(f"the run's files, links followed, are more than {MAX_GUARDRAIL_FILES:,}")
                relative = f"{prefix}{entry.name}"
                target = os.path.realpath(entry.path)
                if entry.name == ".git" or not is_within(target, root) or ".git" in Path(target).parts[root_parts:]:
                    continue  # leading out of the tree (or into git's own folder): the tool finds nothing there
                if os.path.isdir(target):
                    links += entry.is_symlink()
                    if links > MAX_FOLDER_LINKS:
                        raise GuardrailError(f"the run's files hold more than {MAX_FOLDER_LINKS} links to folders")
                    if target not in above:
                        pending.append((Path(entry.path), f"{relative}/", above | {target}))
                elif os.path.isfile(target):
                    if os.path.getsize(target) > MAX_GUARDRAIL_FILE_BYTES:
                        files[relative] = LEFT_OUT  # a video, an archive: a tool needing it fails without it
                        continue
                    if target not in read:
                        read[target] = _read_input(Path(target), relative)
                        total += len(read[target])
                        if total > MAX_TREE_READ_BYTES:
                            raise GuardrailError(
                                f"the run's files are more than {MAX_TREE_READ_BYTES // (1024 * 1024)} MiB together"
                            )
                    files[relative] = read[target]
    except OSError as error:
        raise GuardrailError(f"the run's files could not be listed: {error.strerror or error}") from None
    return files


def _read_input(path: Path, relative: str) -> bytes:
    from ..bounded_read import RefusedRead, read_regular_file

    try:
        content, _ = read_regular_file(path, MAX_GUARDRAIL_FILE_BYTES, follow_symlinks=False)
    except RefusedRead as refused:
        raise GuardrailError(f"{relative} could not be read for the policies: {refused}") from None
    return content


# Files a deploy tool turns into the manifests it applies: what is applied is in no file the policies read. A Helm
# template's `image: {{ .Values.tag }}`; Argo CD's `.argocd-source.yaml`, which it merges into an application's
# source (`kustomize: {images: [api:latest]}`, Jsonnet arguments); kustomize's `images: [{name: api, newTag:
# latest}]` over a pinned Deployment, Jsonnet that Argo CD evaluates, unless they were built or rendered here
# (golden/deploy_tools.py). A run that ships one is blocked, as one that ships a file the policies cannot read is.
BUILT_ELSEWHERE = {
    "kustomize": "kustomize builds the manifests applied from this folder (images, patches, generators)",
    "helm": "a Helm chart: Helm renders its templates into the manifests it applies",
    "jsonnet": "Argo CD evaluates Jsonnet into the manifests it applies",
    "argocd": "Argo CD merges it into the source of the applications of this folder (images, values, arguments)",
}


def without_helm_only(files: Mapping[str, bytes], names: Iterable[str] = ()) -> dict[str, bytes]:
    """``files`` but those only Helm reads (:func:`~idp_tui.golden.helm.helm_only`)."""
    left_to_helm = helm_only(files, names)
    return {name: content for name, content in files.items() if name not in left_to_helm}


def built_elsewhere(names: Iterable[str]) -> list[str]:
    """A line for each file among ``names`` (paths a run ships) that a deploy tool builds manifests from, which the
    policies cannot judge (see :data:`BUILT_ELSEWHERE`)."""
    lines = []
    for name in sorted(set(names)):
        base = posixpath.basename(name)
        if is_kustomization(base):
            tool = "kustomize"
        elif base == "Chart.yaml":
            tool = "helm"
        elif base.endswith((".jsonnet", ".libsonnet")):
            tool = "jsonnet"
        elif base.startswith(".argocd-source") and base.endswith((".yaml", ".yml")):
            tool = "argocd"
        else:
            continue
        lines.append(f"{name}:1: not judged: {BUILT_ELSEWHERE[tool]}, which idp-tui cannot do")
    return lines


def shipped_names(tree: Path) -> list[str]:
    """Every file of ``tree`` (a workspace, a built repository), as a path inside it; ``.git`` left out."""
    names = []
    for directory, dirnames, filenames in os.walk(tree):
        dirnames[:] = [name for name in dirnames if name != ".git"]
        names += [Path(directory, name).relative_to(tree).as_posix() for name in filenames]
    return names


def check_guardrails(
    guardrails: Guardrails,
    files: Mapping[str, bytes],
    say: Callable[[str], None],
    shipped: Iterable[str] = (),
    registered: Mapping[str, bytes] | None = None,
    trees: Callable[[], list[tuple[str, Mapping[str, bytes]]]] | None = None,
) -> GuardrailReport:
    """Check ``files`` and ``say`` each finding and problem (a runner makes each a log event of the task; warnings
    are said too, and the run goes on). ``shipped`` names the run's other files (``files`` may hold only the YAML
    and JSON ones): one a deploy tool builds manifests from blocks the run (:func:`built_elsewhere`), unless it
    is a kustomization, Jsonnet or a Helm chart that kustomize, Jsonnet or Helm builds here: then what it builds
    is judged (:mod:`~idp_tui.golden.deploy_tools`), and a chart's templates are not judged as files.
    ``registered`` are the catalog files the run registers, judged whatever their names.

    Args:
        trees: every file of the trees the run ships, read when a deploy tool's source is among them, as
            ``(where, {path: content})``; by default ``files`` is the whole run (a dry run's files).

    Raises:
        GuardrailError: the check could not be made (said in words; the caller stops the run).
    """
    names = [*files, *shipped]
    # A chart's templates are not YAML until Helm renders them: what it renders is judged instead.
    inputs = without_helm_only(guardrail_inputs(files), names)
    inputs.update(registered or {})
    builds = build_tool_sources(names, trees or (lambda: [("", files)]))
    clashing = set(builds.manifests) & {*names, *inputs}
    inputs.update({name: built for name, built in builds.manifests.items() if name not in clashing})
    if len(inputs) > MAX_GUARDRAIL_FILES:
        raise GuardrailError(f"the run produces more than {MAX_GUARDRAIL_FILES:,} YAML and JSON files to check")
    say(f"Checking {len(inputs)} YAML and JSON files against the policies")
    report = guardrails.check(inputs)
    unbuilt = [*built_elsewhere(name for name in names if name not in builds.covered), *builds.unjudged_lines()]
    # A file named as a build is would hide what was built (or be hidden): the build is not judged in its place.
    unbuilt += [f"{name}:1: not judged: a file of the run has the name of what a tool built" for name in clashing]
    if unbuilt:
        report = replace(report, unjudged=(*report.unjudged, *unbuilt))
    for line in report.lines():
        say(line)
    say(report.summary())
    return report
