"""Reading a file someone else named: only a regular file, never blocking, never more than a cap.

Catalogs, templates, configs, keymaps and palettes all name files, and any of those names may be a FIFO (opening
it waits for a writer forever), ``/dev/zero`` (reading never ends), a 2 GB log, or a symlink to a file of the
person running idp-tui. Every such read goes through :func:`read_regular_file`; callers decide which root a path
must stay in (with :func:`is_within` on resolved paths) and word the refusal for their users.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB

# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever. O_NOCTTY: a terminal device
# never becomes the controlling terminal. Both are no-ops on the regular files that are then read.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_STEP = 64 * KIB  # small files cost one read of their own size, not an allocation of the cap


class RefusedRead(OSError):
    """A file that is not read; ``str()`` says why in a phrase (``larger than 8 MiB``, ``not a regular file``).

    An ``OSError``, so code that already handles a file that cannot be opened handles this one too.

    Attributes:
        kind: ``too-large``, ``not-regular``, ``changed`` (swapped between a check and the read), or ``os``.
    """

    def __init__(self, reason: str, *, kind: str = "os") -> None:
        super().__init__(reason)
        self.kind = kind

    def __str__(self) -> str:
        return self.args[0]


def size_words(size: int) -> str:
    """A size as people read it: ``64 MiB``, ``512 KiB``, ``4 bytes``."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size:,} bytes"


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (``a named pipe (FIFO)``)."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def is_within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` is ``root`` or lies below it. Both must already be resolved (``os.path.realpath``)."""
    path, root = os.fspath(path), os.fspath(root)
    if root == os.sep:
        return path.startswith(os.sep)
    root = root.rstrip(os.sep)
    return path == root or path.startswith(root + os.sep)


def resolves_within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path``, its symlinks resolved, lies inside the resolved ``root`` (a null byte: never)."""
    return "\0" not in os.fspath(path) and is_within(os.path.realpath(path), root)


def read_regular_file(
    path: str | Path, limit: int, *, expected: os.stat_result | None = None, follow_symlinks: bool = True
) -> tuple[bytes, os.stat_result]:
    """The bytes and status of the regular file at ``path``, read without blocking and at most ``limit`` bytes.

    Args:
        path: the file.
        limit: the largest size read; a larger file is refused without reading it all.
        expected: the status a caller checked before (its root, its size): the file opened must be that one
            (same device and inode), so a file swapped for a symlink or a FIFO in between is refused.
        follow_symlinks: when False, a symlink at ``path`` itself is refused instead of followed.

    Returns:
        ``(content, status of the open file)``.

    Raises:
        RefusedRead: not a regular file (with what it is instead), larger than ``limit``, changed since
            ``expected``, or unreadable.
    """
    flags = _OPEN_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if not follow_symlinks and os.path.islink(path):
            raise RefusedRead("a symlink", kind="not-regular") from None
        raise RefusedRead(error.strerror or type(error).__name__) from None
    try:
        status = os.fstat(descriptor)
        if expected is not None and (status.st_dev, status.st_ino) != (expected.st_dev, expected.st_ino):
            raise RefusedRead("the file changed while it was read", kind="changed")
        if not stat.S_ISREG(status.st_mode):
            kind = file_kind(status.st_mode)
            reason = "not a regular file" if kind == "not a regular file" else f"not a regular file ({kind})"
            raise RefusedRead(reason, kind="not-regular")
        if status.st_size > limit:
            raise RefusedRead(f"larger than {size_words(limit)}", kind="too-large")
        # Unbuffered reads sized by the status: a buffered read(limit) would allocate the whole cap every time.
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(descriptor, max(min(status.st_size, limit) + 1 - total, _READ_STEP))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except RefusedRead:
        raise
    except OSError as error:
        raise RefusedRead(error.strerror or type(error).__name__) from None
    finally:
        os.close(descriptor)
    if total > limit:  # it grew after the status was taken
        raise RefusedRead(f"larger than {size_words(limit)}", kind="too-large")
    return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), status
