"""Running a deploy tool (kustomize, Jsonnet) on a run's files, to judge what it builds: the files are written by
other people, so the tool gets a scratch copy of them, no environment, and a deadline and an output cap.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..bounded_read import read_regular_file, size_words
from ..safe_text import clean

MIB = 1024 * 1024
MAX_OUTPUT_BYTES = 8 * MIB
MAX_TREE_BYTES = 64 * MIB
MAX_FILE_BYTES = 8 * MIB  # a file a tool reads, as a file the policies read
# The content given for a file left out of what a tool reads (past MAX_FILE_BYTES): not copied, but named in
# LEFT_OUT_LIST beside the copy, so a Jsonnet import of it is refused instead of finding another file.
LEFT_OUT = b"\0idp-tui: a file past the cap, left out\0"
LEFT_OUT_LIST = "left-out.json"
MAX_BUILT_BYTES = 32 * MIB  # what the tools build from one run, together
MAX_FILES = 10_000  # files of a folder given to `validate` that a tool may read
MAX_ERROR_CHARS = 400
# Folders of dependencies and caches, in a folder given to `validate`: no deploy tool builds from them.
NOT_BUILT_FROM = frozenset({"node_modules", "__pycache__"})
ISOLATED = ("unshare", "--user", "--map-root-user", "--net")  # util-linux: no network but a loopback of its own


@dataclass
class Builds:
    """What a tool built from a run's files (a name for each output, such as ``kustomize build FOLDER`` -> the
    manifests), each source it could not build (its file and why), and every source file either covers."""

    manifests: dict[str, bytes] = field(default_factory=dict)
    unjudged: list[tuple[str, str]] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)
    _said: set[tuple[str, str]] = field(default_factory=set)  # (path inside its tree, why) of each not built
    built_bytes: int = 0

    def keep(self, name: str, relative: str, shown: str, output: bytes) -> None:
        """Keep ``output`` as ``name`` (built from the source at ``relative``, ``shown`` with its tree's place),
        unless the outputs together pass ``MAX_BUILT_BYTES``: then the source is not judged."""
        if self.built_bytes + len(output) > MAX_BUILT_BYTES:
            self.not_built(relative, shown, f"the tools built more than {size_words(MAX_BUILT_BYTES)} from the run")
            return
        if self.manifests.get(name, output) != output:
            # Two sources whose builds have one name (a folder named `chart -f values-prod.yaml`): neither may
            # stand for the other.
            self.not_built(relative, shown, f"another build has its name ({name}): it was not judged")
            return
        self.built_bytes += len(output)
        self.manifests[name] = output

    def not_built(self, relative: str, shown: str, why: str) -> None:
        """Say that the source at ``relative`` in its tree (``shown`` with the tree's place) was not built, once for
        the same source and reason (a repository built from the workspace holds the same one)."""
        if (relative, why) not in self._said:
            self._said.add((relative, why))
            self.unjudged.append((shown, why))

    def unjudged_lines(self) -> list[str]:
        """``FILE:1: not judged: why`` for each source not built."""
        return [f"{file}:1: not judged: {why}" for file, why in self.unjudged]


@dataclass(frozen=True)
class Finished:
    """A tool's run: its output and errors, its exit status, and why it was stopped: ``deadline``, ``output``
    (past ``MAX_OUTPUT_BYTES``), ``start`` (it could not be started: ``errors`` says why), or ""."""

    output: bytes
    errors: bytes
    status: int
    stopped: str


@contextlib.contextmanager
def scratch_copy(files: Mapping[str, bytes]) -> Iterator[tuple[Path, str]]:
    """A scratch folder holding ``files`` (regular files only) under ``tree/``: ``(the folder, why not)``, why
    not being "" once every file is written. A name that would leave the folder (a dry run's names come from a
    server) is left out; so is a file :data:`LEFT_OUT` stands for, named in ``LEFT_OUT_LIST`` beside ``tree/``."""
    with tempfile.TemporaryDirectory(prefix="idp-tui-build-") as scratch:
        tree = Path(scratch, "tree")
        left_out = []
        try:
            tree.mkdir()
            for name, content in files.items():
                if not _is_plain_relative(name):
                    continue
                if content == LEFT_OUT:
                    left_out.append(name)
                    continue
                path = tree / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            Path(scratch, LEFT_OUT_LIST).write_text(json.dumps(left_out))
        except OSError as error:
            yield Path(scratch), f"the files could not be copied to build them: {error.strerror}"
            return
        yield Path(scratch), ""


def _is_plain_relative(name: str) -> bool:
    """Whether ``name`` can be given to a tool as it is: relative, plain, and a name the file system can hold (a
    dry run's name can hold a lone surrogate)."""
    parts = name.split("/")
    if not name or "\x00" in name or name.startswith("/") or {"", ".", ".."} & set(parts):
        return False
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        return False
    return True


def plain_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """``files`` without a name that is not a plain relative path (``k8s//x``, ``../x``: a dry run's names come
    from a server), which a tool could not be given."""
    return {name: content for name, content in files.items() if _is_plain_relative(name)}


def run_tool(command: list[str], scratch: Path, environment: dict[str, str], deadline: float) -> Finished:
    """Run ``command`` in ``scratch`` with only ``environment``, reading its output (at most
    ``MAX_OUTPUT_BYTES``) until it ends or ``deadline`` passes; then it is killed."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=scratch,
            env=environment,
        )
    except OSError as error:
        return Finished(b"", (error.strerror or "").encode(), -1, "start")
    with process:
        streams = {process.stdout.fileno(): bytearray(), process.stderr.fileno(): bytearray()}
        open_ends = set(streams)
        stopped = ""
        while open_ends and not stopped:
            ready, _, _ = select.select(list(open_ends), [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                stopped = "deadline"
            for descriptor in ready:
                chunk = os.read(descriptor, 1 << 16)
                if not chunk:
                    open_ends.discard(descriptor)
                streams[descriptor] += chunk
                if len(streams[descriptor]) > MAX_OUTPUT_BYTES:
                    stopped = "output"
        if stopped:
            process.kill()
        process.wait()
        output, errors = (bytes(streams[stream.fileno()]) for stream in (process.stdout, process.stderr))
    return Finished(output, errors, process.returncode, stopped)


@functools.cache
def can_isolate() -> bool:
    """Whether this machine lets a process have a user and network namespace of its own (``ISOLATED``)."""
    if shutil.which(ISOLATED[0]) is None:
        return False
    try:
        return subprocess.run([*ISOLATED, "true"], capture_output=True, timeout=5, env={}).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def error_text(stderr: bytes, scratch: Path, extract: Callable[[str], str] = str.strip) -> str:
    """A tool's reason, on one line, without the scratch copy's location: what ``extract`` finds in what it wrote
    (a tool may print warnings and log prefixes around it), cut to ``MAX_ERROR_CHARS``."""
    text = stderr.decode("utf-8", "replace").replace(f"{scratch}/tree/", "").replace(f"{scratch}/tree", ".")
    text = " ".join(clean(extract(text), one_line=True).split())
    return text if len(text) <= MAX_ERROR_CHARS else f"{text[: MAX_ERROR_CHARS - 1]}…"


def tree_too_large(files: Mapping[str, bytes]) -> bool:
    return sum(len(content) for content in files.values()) > MAX_TREE_BYTES


def stopped_words(finished: Finished, tool: str, seconds: float) -> str:
    """Why ``tool`` was stopped, in words."""
    if finished.stopped == "deadline":
        return f"{tool} took longer than {seconds:g} s"
    if finished.stopped == "output":
        return f"{tool} wrote more than {MAX_OUTPUT_BYTES // MIB} MiB"
    return f"{tool} could not be started: {finished.errors.decode('utf-8', 'replace')}"


def read_folder(folder: Path, wanted) -> dict[str, bytes] | None:
    """Every regular file under ``folder`` (hidden folders, ``NOT_BUILT_FROM`` and links left out) when one of
    them is ``wanted`` (a kustomization, a Jsonnet file, a chart), to build from; None when none is. The files
    together are read up to ``MAX_TREE_BYTES``.

    Raises:
        OSError: a file could not be read (``RefusedRead``: the files past ``MAX_TREE_BYTES`` together, or not a
            regular file any more), named in the message; the folder holds more than ``MAX_FILES`` files.
    """
    found: list[str] = []
    sources = False
    for directory, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith(".") and name not in NOT_BUILT_FROM)
        if len(found) <= MAX_FILES:  # past it, only whether a source is there matters
            found += [os.path.join(directory, name) for name in sorted(filenames)]
        sources = sources or any(wanted(name) for name in filenames)
        if len(found) > MAX_FILES and sources:
            raise OSError(f"it holds more than {MAX_FILES:,} files: none was built")
    if not sources:
        return None
    files: dict[str, bytes] = {}
    left = MAX_TREE_BYTES
    for path in found:
        relative = Path(path).relative_to(folder).as_posix()
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        if os.path.getsize(path) > MAX_FILE_BYTES:
            files[relative] = LEFT_OUT  # a video, an archive: a tool that needs it fails without it, and says so
            continue
        try:
            content, _ = read_regular_file(path, left, follow_symlinks=False)
        except OSError as error:
            raise OSError(f"{relative}: {error}") from None
        left -= len(content)
        files[relative] = content
    return files
