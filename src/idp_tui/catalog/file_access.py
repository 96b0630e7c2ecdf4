"""Reading files named by a catalog: only regular files, only inside the catalog root, never more than a cap.

A catalog is written by other people and read by whoever runs idp-tui, often on a shared machine: a path in it
(a Location target, a ``$text`` placeholder, a symlink in a catalog folder) must not make idp-tui read that
person's files, block on a FIFO or read ``/dev/zero`` until memory runs out. Paths are compared after resolving
symlinks (``os.path.realpath``), files are opened without blocking and checked again once open, and at most
``limit`` bytes are read.
"""

from __future__ import annotations

import os
import stat as stat_module

from ..bounded_read import RefusedRead, is_within, read_regular_file, resolves_within, size_words

__all__ = ["RefusedRead", "checked_stat", "is_within", "read_checked", "real_root", "resolves_within", "size_words"]


def real_root(path: str) -> str:
    """The catalog root a path stands for, with symlinks resolved."""
    return os.path.realpath(path)


def checked_stat(path: str, root: str | None, limit: int, *, parent_inside: bool = False) -> os.stat_result:
    """Stat a file that is about to be read, refusing it unless it is a regular file inside ``root``.

    Args:
        path: the file, absolute.
        root: the resolved catalog root; ``None`` for a file the user named (it is its own root).
        limit: the largest size read, in bytes.
        parent_inside: the folder holding ``path`` is known to lie inside ``root`` (it was found by scanning or
            by a confined glob), so only a symlink at ``path`` itself can lead out, and a plain file costs one
            ``lstat`` rather than a ``realpath``.

    Raises:
        RefusedRead: outside the root, not a regular file, larger than ``limit`` or not there.
    """
    if "\0" in path:
        raise RefusedRead("the path holds a null byte")
    try:
        if root is None:
            info = os.stat(path)
        else:
            info = os.lstat(path) if parent_inside else None
            if info is None or stat_module.S_ISLNK(info.st_mode):
                if not is_within(os.path.realpath(path), root):
                    raise RefusedRead("it resolves outside the catalog root")
                info = os.stat(path)
    except RefusedRead:
        raise
    except OSError as error:
        raise RefusedRead(error.strerror or str(error)) from None
    if not stat_module.S_ISREG(info.st_mode):
        raise RefusedRead("not a regular file", kind="not-regular")
    if info.st_size > limit:
        raise RefusedRead(f"larger than {size_words(limit)}", kind="too-large")
    return info


def read_checked(path: str, checked: os.stat_result, limit: int) -> bytes:
    """The bytes of a file that :func:`checked_stat` accepted, read without blocking and at most ``limit``.

    The file opened must be the one checked (same device and inode, still regular): a file swapped for a
    symlink or a FIFO between the check and the read is refused, not followed.

    Raises:
        RefusedRead: the file changed, cannot be opened, or grew beyond ``limit``.
    """
    return read_regular_file(path, limit, expected=checked)[0]
