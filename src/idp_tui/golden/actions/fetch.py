"""``fetch:template`` and ``fetch:template:file``: render a skeleton into the workspace, as Backstage does.

Backstage's rules, kept here: every file and directory name is rendered (also under ``copyWithoutTemplating``,
whose files keep their content as written); a name that renders empty, starts with ``/`` or contains ``//`` is
skipped (``{% if %}`` around a name is how templates leave files out); files that already exist are not
replaced unless ``replace`` is set; binary files and symlinks are copied as they are; file modes are kept.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..expressions import TemplateEngine, TemplateRenderError
from ..globs import glob_regex
from ..workspace import OUTSIDE_PARENT, inside
from .base import ActionContext, ActionError


@lru_cache(maxsize=8)
def _engine(cookiecutter: bool, trim_blocks: bool, lstrip_blocks: bool) -> TemplateEngine:
    return TemplateEngine(cookiecutter=cookiecutter, trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks)


def _renderer(ctx: ActionContext) -> tuple[TemplateEngine, dict[str, Any]]:
    """The engine for this step's options and what its templates see (``values``, or ``cookiecutter``)."""
    cookiecutter = bool(ctx.input.get("cookiecutterCompat"))
    engine = _engine(cookiecutter, bool(ctx.input.get("trimBlocks")), bool(ctx.input.get("lstripBlocks")))
    return engine, {"cookiecutter" if cookiecutter else "values": ctx.input.get("values") or {}}


def resolve_template_url(ctx: ActionContext, url: Any) -> Path:
    """A skeleton location: relative to the template's directory, or a ``file://`` URL; nothing remote."""
    if not isinstance(url, str) or not url:
        raise ActionError("input url is required")
    if url.startswith("file://"):
        return Path(url.removeprefix("file://"))
    if "://" in url:
        raise ActionError(f"cannot fetch {url}: the local runner reads skeletons from the template's own directory")
    if ctx.template_dir is None:
        raise ActionError(f"cannot resolve {url}: the template has no local directory")
    base = Path(os.path.realpath(ctx.template_dir))
    target = Path(os.path.realpath(ctx.template_dir / url))  # symlinks resolved: a link cannot lead out either
    if target != base and base not in target.parents:
        raise ActionError(f"{OUTSIDE_PARENT}: url {url!r} leads outside the template's directory")
    return target


def _is_binary(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        return True
    # Like isbinaryfile (what Backstage uses): text in another encoding is still text; control bytes are not.
    suspicious = sum(1 for byte in head if byte < 7 or 14 <= byte < 32 and byte != 27)
    return bool(head) and suspicious / len(head) > 0.1


def _list_entries(root: Path) -> list[str]:
    """Every file and directory under ``root`` (dot files too, symlinks not followed), directories ending in ``/``."""
    entries: list[str] = []
    pending = [""]
    while pending:
        prefix = pending.pop(0)
        with os.scandir(root / prefix if prefix else root) as scan:
            items = sorted(scan, key=lambda e: e.name)
        for item in items:
            relative = prefix + item.name
            if item.is_dir(follow_symlinks=False):
                entries.append(relative + "/")
                pending.append(relative + "/")
            else:
                entries.append(relative)
    return entries


def _matches(entry: str, patterns: list[str]) -> bool:
    """Whether ``entry`` or a folder above it matches a pattern (globby expands a folder to all it holds)."""
    name = entry.rstrip("/")
    candidates = [name] + ["/".join(name.split("/")[:depth]) for depth in range(1, name.count("/") + 1)]
    return any(
        glob_regex(str(pattern).removeprefix("./").rstrip("/")).fullmatch(c) for pattern in patterns for c in candidates
    )


class FetchTemplate:
    id = "fetch:template"
    description = "Downloads a skeleton, templates variables into file and directory names and content."
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        source = resolve_template_url(ctx, ctx.input.get("url"))
        if not source.is_dir():
            raise ActionError(f"template directory {ctx.input.get('url')} does not exist")
        target = ctx.workspace_path(ctx.input.get("targetPath") or "./", what="targetPath")
        copy_only = ctx.input.get("copyWithoutTemplating") or []
        if not isinstance(copy_only, list):
            raise ActionError("Fetch action input copyWithoutTemplating must be an Array")
        extension = self._extension(ctx.input, copy_only)
        engine, context = _renderer(ctx)
        ctx.log("Listing files and directories in template")
        entries = _list_entries(source)
        ctx.log(f"Processing {len(entries)} template files/directories with input values")
        replace = bool(ctx.input.get("replace"))
        for entry in entries:
            self._write_entry(ctx, engine, context, source, target, entry, copy_only, extension, replace)
        ctx.log(f"Template result written to {target.relative_to(ctx.workspace).as_posix() or '.'}")

    @staticmethod
    def _extension(inputs: dict[str, Any], copy_only: list[str]) -> str | None:
        option = inputs.get("templateFileExtension")
        if not option:
            return None
        if copy_only or inputs.get("cookiecutterCompat"):
            raise ActionError(
                "Fetch action input extension incompatible with copyWithoutTemplating and cookiecutterCompat"
            )
        extension = ".njk" if option is True else str(option)
        return extension if extension.startswith(".") else f".{extension}"

    def _write_entry(
        self,
        ctx: ActionContext,
        engine: TemplateEngine,
        context: dict[str, Any],
        source: Path,
        target: Path,
        entry: str,
        copy_only: list[str],
        extension: str | None,
        replace: bool,
    ) -> None:
        name = entry
        if extension:
            render_contents = Path(entry.rstrip("/")).suffix == extension and not entry.endswith("/")
            if render_contents:
                name = entry[: -len(extension)]
        else:
            render_contents = not _matches(entry, copy_only)
        name = _render(engine, name, context, f"file name {entry!r}")
        if name == "" or name.startswith("/") or "//" in name:
            return
        output = inside(target, name, what=f"skeleton entry {entry!r} (rendered as {name!r})")
        if not _within(output, ctx.workspace):
            raise ActionError(f"{OUTSIDE_PARENT}: skeleton entry {entry!r} leads outside the task workspace")
        if os.path.lexists(output) and not replace:
            return
        if not render_contents and not extension:
            ctx.log(f"Copying file/directory {entry} without processing.")
        input_path = source / entry
        if entry.endswith("/"):
            ctx.log(f"Writing directory {entry} to template output path.")
            output.mkdir(parents=True, exist_ok=True)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        if input_path.is_symlink():
            self._copy_link(input_path, output, source, entry)
            return
        if _is_binary(input_path):
            ctx.log(f"Copying file binary or symbolic link at {entry}, to template output path.")
            shutil.copy2(input_path, output)
            return
        mode = input_path.stat().st_mode
        ctx.log(f"Writing file {entry} to template output path with mode {mode}.")
        text = input_path.read_bytes().decode("utf-8", errors="replace")
        if render_contents:
            text = _render(engine, text, context, f"file {entry}")
        output.write_bytes(text.encode("utf-8"))
        os.chmod(output, mode & 0o7777)

    @staticmethod
    def _copy_link(link: Path, output: Path, source: Path, entry: str) -> None:
        pointee = Path(os.path.realpath(link))
        if not _within(pointee, Path(os.path.realpath(source))):
            raise ActionError(
                f"skeleton entry {entry!r} is a symlink leading outside the template; refusing to copy it"
            )
        os.symlink(os.readlink(link), output)


def _within(path: Path, root: Path) -> bool:
    path, root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return path == root or root in path.parents


def _render(engine: TemplateEngine, text: str, context: dict[str, Any], what: str) -> str:
    try:
        return engine.render_text(text, context)
    except TemplateRenderError as error:
        raise ActionError(f"cannot render {what}: {error}") from None


class FetchTemplateFile:
    id = "fetch:template:file"
    description = "Downloads a single file and templates variables into its content."
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        source = resolve_template_url(ctx, ctx.input.get("url"))
        if not source.is_file():
            raise ActionError(f"template file {ctx.input.get('url')} does not exist")
        target_path = ctx.input.get("targetPath")
        if not isinstance(target_path, str) or not target_path:
            raise ActionError("input targetPath is required")
        output = ctx.workspace_path(target_path, what="targetPath")
        if output.exists() and not ctx.input.get("replace"):
            ctx.log(f"File {target_path} already exists in the workspace, not replacing it")
            return
        engine, context = _renderer(ctx)
        output.parent.mkdir(parents=True, exist_ok=True)
        text = _render(engine, source.read_bytes().decode("utf-8", errors="replace"), context, f"file {source.name}")
        output.write_bytes(text.encode("utf-8"))
        os.chmod(output, source.stat().st_mode & 0o7777)


ACTIONS = (FetchTemplate(), FetchTemplateFile())
