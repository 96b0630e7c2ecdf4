"""Evaluating one Jsonnet file with go-jsonnet (Argo CD's engine), in a child process of its own (see
``jsonnet.py``).

Jsonnet cannot be interrupted once it evaluates, and a file can loop or grow without end: so this runs in a process
the parent kills at its deadline, with its memory and CPU time capped, no file written, and imports kept to the
folder being checked.

The file is evaluated under the name a deployer gives it (its ``std.thisFile``, and every imported file's): in Argo
CD's checkout of the repository, ``/tmp/_argocd-repo/<uuid>/…``, or relative to the repository's folder, as
``jsonnet k8s/app.jsonnet`` run there names it; the files are read from the scratch copy behind that name.

    python -I -c "…main()" TREE FILE CHECKOUT LEFT_OUT_LIST   -> the JSON on stdout, or the error on stderr
    (CHECKOUT "" for the repository's folder itself)
"""

from __future__ import annotations

import json
import os
import posixpath
import sys

MAX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
CPU_SECONDS = 120
MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_STACK = 500
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


class Importer:
    """go-jsonnet's import callback over the scratch copy ``tree``, seen as ``checkout`` (Argo CD's
    ``/tmp/_argocd-repo/<uuid>``, or "" for the repository's folder itself, as ``jsonnet k8s/app.jsonnet`` run in it
    sees it).

    An import is read beside the file importing it, as go-jsonnet does first. Otherwise it is read from the
    search path (Argo CD's: the application's folder and the Application's `libs`), which idp-tui does not know:
    every folder of the repository holding the name must hold the same file, else which one is read depends on a
    configuration. A file left out of the copy (past the cap) is never read in another's place. Each refusal is
    kept in ``refused``: go-jsonnet's bindings do not always pass a callback's message on intact.
    """

    def __init__(self, tree: str, checkout: str, left_out: set[str], evaluated: str) -> None:
        self.tree, self.left_out = tree, left_out
        # An absolute checkout names files under it; otherwise names are relative to a working folder inside the
        # tree: the repository's ("") or, for ".", the evaluated file's own (`cd k8s && jsonnet app.jsonnet`).
        self.checkout = checkout if checkout.startswith("/") else ""
        self.working = posixpath.dirname(evaluated) if checkout == "." else ""
        self.folders = [""]
        for directory, dirnames, _ in os.walk(tree):
            dirnames.sort()
            self.folders += [posixpath.relpath(os.path.join(directory, name), tree) for name in dirnames]
        self.folders += sorted({posixpath.dirname(name) for name in left_out} - set(self.folders))
        self.refused: list[str] = []

    def __call__(self, directory: str, relative: str) -> tuple[str, bytes]:
        try:
            return self._find(directory, relative)
        except Exception as error:
            self.refused.append(f"{relative}: {error}")
            raise

    def shown(self, inside: str) -> str:
        """The name go-jsonnet gives a file of the tree (its ``std.thisFile``)."""
        if self.checkout:
            return posixpath.join(self.checkout, inside)
        return posixpath.relpath(inside or ".", self.working) if self.working else inside

    def _inside(self, path: str) -> str | None:
        """``path`` (as go-jsonnet names it) as a path inside the tree, None when it leaves it."""
        if self.checkout:
            relative = posixpath.relpath(posixpath.normpath(path), self.checkout)
        elif posixpath.isabs(path):
            return None
        else:
            relative = posixpath.normpath(posixpath.join(self.working, path))
        if posixpath.isabs(relative) or relative == ".." or relative.startswith("../"):
            return None
        return "" if relative == "." else relative

    def _find(self, directory: str, relative: str) -> tuple[str, bytes]:
        beside = self._inside(posixpath.join(directory, relative))
        if beside is None:
            raise RuntimeError("idp-tui's check reads no file outside the folder checked")
        candidates = [beside] if self._exists(beside) else []
        if not candidates:
            places = (self._inside(posixpath.join(self.shown(folder), relative)) for folder in self.folders)
            candidates = list(dict.fromkeys(place for place in places if place is not None and self._exists(place)))
        if not candidates:
            raise RuntimeError("no such file beside it, nor in any folder a search path could name")
        if any(candidate in self.left_out for candidate in candidates):
            raise RuntimeError("it is past the size idp-tui reads, so it was left out of the check")
        contents = {candidate: self.read(candidate) for candidate in candidates}
        if len(set(contents.values())) > 1:
            raise RuntimeError(f"found, different, in {len(contents)} folders a search path (Argo CD's libs) names")
        found = candidates[0]
        return self.shown(found), contents[found]

    def _exists(self, inside: str) -> bool:
        return inside in self.left_out or os.path.isfile(os.path.join(self.tree, inside))

    def read(self, inside: str) -> bytes:
        from idp_tui.bounded_read import is_within, read_regular_file

        path = os.path.realpath(os.path.join(self.tree, inside))
        if not is_within(path, self.tree):
            raise RuntimeError("idp-tui's check reads no file outside the folder checked")
        return read_regular_file(path, MAX_IMPORT_BYTES, follow_symlinks=False)[0]


def main() -> None:
    tree, name, checkout, left_out_list = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(left_out_list, encoding="utf-8") as listed:
        left_out = set(json.load(listed))
    _confine()
    importer = Importer(tree, checkout, left_out, name)
    try:
        import _gojsonnet

        source = importer.read(name).decode("utf-8")
        shown = importer.shown(name)
        kind = _gojsonnet.evaluate_snippet(
            importer.shown(posixpath.join(importer.working, "<idp-tui>")),
            f"std.type(import {json.dumps(shown)})",
            import_callback=importer,
            max_stack=MAX_STACK,
        )
        if json.loads(kind) == "function":
            raise RuntimeError(FUNCTION_AT_TOP)
        output = _gojsonnet.evaluate_snippet(shown, source, import_callback=importer, max_stack=MAX_STACK)
        sys.stdout.buffer.write(output.encode("utf-8", "surrogatepass"))
    except Exception as error:  # noqa: BLE001 - whatever stops it is said, in one line, to the parent
        sys.stderr.write(
            f"import refused: {importer.refused[0]}" if importer.refused else str(error) or type(error).__name__
        )
        sys.exit(1)
