"""``fetch:template`` and ``fetch:template:file``: render a skeleton into the workspace, as Backstage does.

Backstage's rules, kept here: every file and directory name is rendered (also under ``copyWithoutTemplating``,
whose files keep their content as written); a name that renders empty, starts with ``/`` or contains ``//`` is
skipped (``{% if %}`` around a name is how templates leave files out); files that already exist are not
replaced unless ``replace`` is set; binary files and symlinks are copied as they are; file modes are kept.

Hostile skeletons (see :mod:`idp_tui.golden.sources`): the skeleton is read only from the template's own
directory, only regular files, directories and symlinks, within size caps; a skeleton's ``.git`` is skipped; a
symlink is checked where it lands, after its name is rendered, and must point inside the workspace.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...bounded_read import is_within
from ..expressions import TemplateEngine, TemplateRenderError
from ..globs import GlobError, glob_regex
from ..sources import link_problem, list_skeleton, read_regular
from ..sources import resolve_template_url as resolve_source
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


def resolve_template_url(ctx: ActionContext, url: Any, action_id: str = "fetch:template") -> Path:
    """A skeleton location, relative to the template's directory (symlinks resolved); no URLs, nothing outside."""
    return resolve_source(ctx.template_dir, url, action_id)


# Control bytes that make isbinaryfile call a file binary (tab, newlines, form feed and escape are text).
_SUSPICIOUS = bytes([*range(7), *(b for b in range(14, 32) if b != 27)])


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    # Like isbinaryfile (what Backstage uses): text in another encoding is still text; control bytes are not.
    suspicious = len(head) - len(head.translate(None, _SUSPICIOUS))
    return bool(head) and suspicious / len(head) > 0.1


def _matches(entry: str, patterns: list[str]) -> bool:
    """Whether ``entry`` or a folder above it matches a pattern (globby expands a folder to all it holds)."""
    name = entry.rstrip("/")
    candidates = [name] + ["/".join(name.split("/")[:depth]) for depth in range(1, name.count("/") + 1)]
    try:
        return any(
            glob_regex(str(pattern).removeprefix("./").rstrip("/")).fullmatch(c)
            for pattern in patterns
            for c in candidates
        )
    except GlobError as error:
        raise ActionError(f"copyWithoutTemplating: {error}") from None


class FetchTemplate:
    """``fetch:template``: renders a skeleton directory into the workspace (see the module for the rules)."""

    id = "fetch:template"
    description = "Downloads a skeleton, templates variables into file and directory names and content."
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        """Render each entry of the skeleton at ``url`` into ``targetPath`` with the ``values`` input.

        Files already in the workspace are kept unless ``replace`` is set.

        Raises:
            ActionError: the skeleton is missing or outside the template's directory, an input is malformed, a
                name or file does not render, or an entry (or a symlink) would land outside the workspace.
        """
        source = resolve_template_url(ctx, ctx.input.get("url"), self.id)
        if not source.is_dir():
            raise ActionError(f"template directory {ctx.input.get('url')} does not exist")
        target = ctx.workspace_path(ctx.input.get("targetPath") or "./", what="targetPath")
        copy_only = ctx.input.get("copyWithoutTemplating") or []
        if not isinstance(copy_only, list):
            raise ActionError("Fetch action input copyWithoutTemplating must be an Array")
        extension = self._extension(ctx.input, copy_only)
        engine, context = _renderer(ctx)
        ctx.log("Listing files and directories in template")
        entries = list_skeleton(source, self.id, ctx.log)
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
        if not is_within(os.path.realpath(output), os.path.realpath(ctx.workspace)):
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
            _copy_link(ctx, input_path, output, source, entry, name)
            return
        content, mode = read_regular(input_path, f"skeleton entry {entry!r}")
        if _is_binary(content[:8192]):
            ctx.log(f"Copying file binary or symbolic link at {entry}, to template output path.")
            _write(output, content, mode)
            return
        ctx.log(f"Writing file {entry} to template output path with mode {mode}.")
        text = content.decode("utf-8", errors="replace")
        if render_contents:
            text = _render(engine, text, context, f"file {entry}")
        _write(output, text.encode("utf-8"), mode)


def _write(output: Path, content: bytes, mode: int) -> None:
    if os.path.islink(output):
        os.unlink(output)  # replace: never write through a link the skeleton put there
    output.write_bytes(content)
    os.chmod(output, mode & 0o7777)


def _copy_link(ctx: ActionContext, link: Path, output: Path, source: Path, entry: str, name: str) -> None:
    """Copy a skeleton symlink, checked both where it is read (the skeleton) and where it lands (the workspace)."""
    source_real = os.path.realpath(source)
    if not is_within(os.path.realpath(link), source_real):
        raise ActionError(f"skeleton entry {entry!r} is a symlink leading outside the template; refusing to copy it")
    pointer = os.readlink(link)
    if os.path.isabs(pointer):
        # An absolute link into the skeleton would still point at the template: make it relative.
        pointer = os.path.relpath(os.path.realpath(link), os.path.realpath(os.path.dirname(link)))
    problem = link_problem(output, pointer, ctx.workspace)
    if problem:
        raise ActionError(
            f"skeleton entry {entry!r} is a symlink leading outside the task workspace once written as {name!r}: "
            f"{problem}"
        )
    if os.path.lexists(output):
        os.unlink(output)
    os.symlink(pointer, output)


def _render(engine: TemplateEngine, text: str, context: dict[str, Any], what: str) -> str:
    try:
        return engine.render_text(text, context)
    except TemplateRenderError as error:
        raise ActionError(f"cannot render {what}: {error}") from None


class FetchTemplateFile:
    """``fetch:template:file``: renders one template file into the workspace."""

    id = "fetch:template:file"
    description = "Downloads a single file and templates variables into its content."
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        """Render the file at ``url`` with the ``values`` input to ``targetPath``.

        A file already at ``targetPath`` is kept unless ``replace`` is set.

        Raises:
            ActionError: the file is missing or outside the template's directory, ``targetPath`` is missing or
                leads out of the workspace, or the file does not render.
        """
        source = resolve_template_url(ctx, ctx.input.get("url"), self.id)
        if not os.path.lexists(source) or source.is_dir():
            raise ActionError(f"template file {ctx.input.get('url')} does not exist")
        target_path = ctx.input.get("targetPath")
        if not isinstance(target_path, str) or not target_path:
            raise ActionError("input targetPath is required")
        output = ctx.workspace_path(target_path, what="targetPath")
        if output.exists() and not ctx.input.get("replace"):
            ctx.log(f"File {target_path} already exists in the workspace, not replacing it")
            return
        engine, context = _renderer(ctx)
        content, mode = read_regular(source, f"template file {ctx.input.get('url')!r}")
        output.parent.mkdir(parents=True, exist_ok=True)
        text = _render(engine, content.decode("utf-8", errors="replace"), context, f"file {source.name}")
        _write(output, text.encode("utf-8"), mode)


ACTIONS = (FetchTemplate(), FetchTemplateFile())
