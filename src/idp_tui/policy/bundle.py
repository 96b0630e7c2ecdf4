"""Reading an OPA bundle (``.tar.gz``) in memory, within budgets, without ever writing a file.

A bundle is someone else's archive. Nothing is extracted to disk, so no member can land outside a folder; member
names are still checked (no ``..``, no NUL; a leading ``/`` is dropped, as OPA's bundle reader drops it) because
they become the paths policies are reported at and the ``data`` paths documents are mounted at. Only regular
files are read: a symlink, hard link or device member is a problem. The decompressed stream is capped as a whole
(headers, long names and skipped data included), so a small archive of gigabytes of zeros costs its cap, not a
minute of CPU and all the memory.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
import zlib
from dataclasses import dataclass

from ..bounded_read import MIB, read_regular_file, size_words

MAX_BUNDLE_BYTES = 32 * MIB  # the .tar.gz as stored
MAX_BUNDLE_UNPACKED_BYTES = 64 * MIB  # everything decompressed: headers, names, members
MAX_BUNDLE_MEMBER_BYTES = 8 * MIB
MAX_BUNDLE_MEMBERS = 10_000


class BundleError(Exception):
    """The bundle as a whole cannot be read; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class BundleFile:
    """A regular file of a bundle: its normalised path inside the bundle (no leading ``/``) and its bytes."""

    path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class BundleContents:
    files: list[BundleFile]
    refused: list[tuple[str, str]]  # (member name, why) for members not read


class _CappedReader(io.RawIOBase):
    """A stream that fails once more than ``cap`` bytes have been read through it."""

    def __init__(self, stream, cap: int) -> None:
        self._stream = stream
        self._left = cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise BundleError(f"it unpacks to more than {size_words(MAX_BUNDLE_UNPACKED_BYTES)}")
        buffer[: len(data)] = data
        return len(data)


def member_path(name: str) -> str | None:
    """A member's path inside the bundle (``/a/b.rego`` is ``a/b.rego``, as for OPA), or None when it could point
    outside it (``..``, NUL, a backslash)."""
    if "\0" in name or "\\" in name:
        return None
    stripped = name.lstrip("/")
    if stripped.startswith("./"):
        stripped = stripped[2:]
    normalised = posixpath.normpath(stripped) if stripped else ""
    if not normalised or normalised == "." or normalised.startswith("../") or normalised == "..":
        return None
    if any(part == ".." for part in normalised.split("/")):
        return None
    return normalised


def read_bundle(path: str) -> BundleContents:
    """The regular files of the OPA bundle at ``path``.

    Raises:
        BundleError: the file cannot be read, is not a gzip-compressed tar, passes a budget, or holds a member
            larger than :data:`MAX_BUNDLE_MEMBER_BYTES` (reading past it would cost what the cap saves).
    """
    try:
        compressed, _ = read_regular_file(path, MAX_BUNDLE_BYTES)
    except OSError as error:
        raise BundleError(str(error)) from None
    files: list[BundleFile] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    stream = io.BufferedReader(
        _CappedReader(gzip.GzipFile(fileobj=io.BytesIO(compressed)), MAX_BUNDLE_UNPACKED_BYTES), 64 * 1024
    )
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_BUNDLE_MEMBERS:
                    raise BundleError(f"it has more than {MAX_BUNDLE_MEMBERS:,} members")
                name = member_path(member.name)
                if member.isdir():
                    continue
                if name is None:
                    refused.append((member.name, "its path points outside the bundle"))
                    continue
                if not member.isreg():
                    refused.append((name, "not a regular file (links and devices are not read)"))
                    continue
                if member.size > MAX_BUNDLE_MEMBER_BYTES:
                    raise BundleError(f"{name} is larger than {size_words(MAX_BUNDLE_MEMBER_BYTES)}")
                if name in seen:
                    refused.append((name, "appears twice in the bundle"))
                    continue
                seen.add(name)
                extracted = archive.extractfile(member)
                content = extracted.read(MAX_BUNDLE_MEMBER_BYTES + 1) if extracted else b""
                files.append(BundleFile(name, content))
    except BundleError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise BundleError(f"not a readable .tar.gz bundle ({error})") from None
    return BundleContents(files, refused)
