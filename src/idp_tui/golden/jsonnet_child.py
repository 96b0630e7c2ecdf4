"""Evaluating one Jsonnet file with go-jsonnet (Argo CD's engine), in a child process of its own (see
``jsonnet.py``).

Jsonnet cannot be interrupted once it evaluates, and a file can loop or grow without end: so this runs in a process
the parent kills at its deadline, with its memory and CPU time capped, no file written, and imports kept to the
folder being checked.

    python -I -c "…main()" ROOT FILE     (FILE relative to ROOT) -> the JSON on stdout, or the error on stderr
"""

from __future__ import annotations

import json
import os
import sys

MAX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
CPU_SECONDS = 120
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_STACK = 500
# Where an import not found beside the file importing it is looked for, in the folder checked: Argo CD's usual
# `libs` and jsonnet-bundler's vendor folder.
LIBRARY_FOLDERS = ("lib", "vendor")
FUNCTION_AT_TOP = (
    "its top-level value is a function: Argo CD calls it with the Application's arguments (tlas), which idp-tui "
    "does not know"
)


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


def _importer(root: str, refused: list[str]):
    """An import callback reading only files inside ``root``: beside the file importing, else in one of its
    ``LIBRARY_FOLDERS``; refused where two of those places hold different files of the name (which one Argo CD
    reads depends on its configuration). Each refusal is added to ``refused`` too: go-jsonnet's bindings do not
    always pass a callback's message on intact."""
    from idp_tui.bounded_read import is_within, read_regular_file

    def imported(directory: str, relative: str) -> tuple[str, bytes]:
        try:
            return find(directory, relative)
        except Exception as error:
            refused.append(f"{relative}: {error}" if isinstance(error, OSError) else str(error))
            raise

    def find(directory: str, relative: str) -> tuple[str, bytes]:
        if "\x00" in relative:
            raise RuntimeError("an import path holds a NUL character")
        places = [os.path.join(directory, relative), *(os.path.join(root, lib, relative) for lib in LIBRARY_FOLDERS)]
        found: dict[str, bytes] = {}
        for place in places:
            path = os.path.realpath(place)
            if not is_within(path, root):
                if place is places[0]:
                    raise RuntimeError(f"{relative}: idp-tui's check reads no file outside the folder checked")
                continue
            if os.path.isfile(path) and path not in found:
                found[path] = read_regular_file(path, MAX_IMPORT_BYTES, follow_symlinks=False)[0]
        if len(set(found.values())) > 1:
            raise RuntimeError(f"{relative}: found in more than one of its folder, lib/ and vendor/")
        if not found:
            raise RuntimeError(f"{relative}: no such file beside it, in lib/ or in vendor/")
        return next(iter(found.items()))

    return imported


def main() -> None:
    root, name = os.path.realpath(sys.argv[1]), sys.argv[2]
    _confine()
    refused: list[str] = []
    try:
        import _gojsonnet

        imported = _importer(root, refused)
        path = os.path.join(root, name)
        kind = _gojsonnet.evaluate_snippet(
            "<idp-tui>", f"std.type(import {json.dumps(path)})", import_callback=imported, max_stack=MAX_STACK
        )
        if json.loads(kind) == "function":
            raise RuntimeError(FUNCTION_AT_TOP)
        output = _gojsonnet.evaluate_file(path, import_callback=imported, max_stack=MAX_STACK)
        sys.stdout.buffer.write(output.encode("utf-8", "surrogatepass"))
    except Exception as error:  # noqa: BLE001 - whatever stops it is said, in one line, to the parent
        sys.stderr.write(f"import refused: {refused[0]}" if refused else str(error) or type(error).__name__)
        sys.exit(1)
