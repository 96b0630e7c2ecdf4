"""Evaluating one Jsonnet file, in a child process of its own (see ``jsonnet.py``).

Jsonnet cannot be interrupted once it evaluates, and a file can loop or grow without end: so this runs in a process
the parent kills at its deadline, with its memory and CPU time capped, no file written, and imports kept to the
folder being checked.

    python -I -c "…main()" ROOT FILE     (FILE relative to ROOT) -> the JSON on stdout, or the error on stderr
"""

from __future__ import annotations

import os
import sys

MAX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
CPU_SECONDS = 120
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_STACK = 500


def _confine() -> None:
    import resource

    for limit, value in (
        (resource.RLIMIT_AS, MAX_MEMORY_BYTES),
        (resource.RLIMIT_CPU, CPU_SECONDS),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ):
        _, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def main() -> None:
    from idp_tui.bounded_read import is_within, read_regular_file

    root, name = os.path.realpath(sys.argv[1]), sys.argv[2]
    _confine()
    import _jsonnet

    def imported(directory: str, relative: str) -> tuple[str, bytes]:
        """An ``import`` or ``importstr``: only a file inside ``root``."""
        path = os.path.realpath(os.path.join(directory, relative))
        if "\x00" in relative or not is_within(path, root):
            raise RuntimeError(f"{relative}: idp-tui's check reads no file outside the folder checked")
        content, _ = read_regular_file(path, MAX_IMPORT_BYTES, follow_symlinks=False)
        return path, content

    try:
        output = _jsonnet.evaluate_file(
            os.path.join(root, name), import_callback=imported, max_stack=MAX_STACK, max_trace=10
        )
    except RuntimeError as error:
        sys.stderr.write(str(error))
        sys.exit(1)
    sys.stdout.write(output)
