"""``catalog:write`` and ``catalog:register`` for the local catalog.

Registering writes a Location entity into the registry directory (part of the active catalog from then on), as
Backstage registers a location. It is staged, so a task that fails later registers nothing.

``catalog:register`` reads only what this task itself staged: a file of a repository an earlier ``publish:*``
step built (its ``repoContentsUrl``). Any other ``file://`` path, remote URL or path leading out of the staged
repository (``..``, a symlink) is refused, so a template cannot register, or quote in an error, a host file.
"""

from __future__ import annotations

import glob
import hashlib
import os
import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from ...bounded_read import is_within
from ...catalog import limits
from ...catalog.confined_glob import GlobBudget, OutsideRoot, confined_glob
from ...catalog.validation.validator import validate_entity
from ...catalog.yaml_docs import load_documents
from ..sources import read_regular
from .base import ActionContext, ActionError
from .publish import refuse_transformed_files


class _BlockDumper(yaml.SafeDumper):
    """YAML like the ``yaml`` npm package writes it: lists indented under their key, keys in their order."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def to_yaml(document: Any) -> str:
    """A document as block YAML, keys in their order, long lines kept whole."""
    return yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=10**6)


class CatalogWrite:
    """``catalog:write``: writes an entity as YAML into the workspace."""

    id = "catalog:write"
    description = "Writes the catalog-info.yaml for your template"
    supports_dry_run = True

    def run(self, ctx: ActionContext) -> None:
        """Write the ``entity`` input as block YAML to ``filePath`` (``catalog-info.yaml`` by default).

        Raises:
            ActionError: ``entity`` is not an object, or ``filePath`` leads out of the workspace.
        """
        entity = ctx.input.get("entity")
        if not isinstance(entity, dict):
            raise ActionError("input entity must be an object")
        path = ctx.input.get("filePath") or "catalog-info.yaml"
        target = ctx.workspace_path(path, what="filePath")
        ctx.log("Writing catalog-info.yaml")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_yaml(entity), encoding="utf-8")


def _local_file(ctx: ActionContext, url: str) -> tuple[Path, Path, Path, Path]:
    """``(where the file can be read now, where it will live, the staged repository, where that will live)`` for a
    catalog-info URL this task staged.

    Raises:
        ActionError: the URL is not inside a location this task staged, or leads out of it.
    """
    for prefix, staged in sorted(ctx.staged_locations.items(), key=lambda item: -len(item[0])):
        if url == prefix or url.startswith(prefix.rstrip("/") + "/"):
            relative = posixpath.normpath(unquote(url[len(prefix) :]).lstrip("/") or ".")
            readable = os.path.realpath(staged / relative)
            if relative.startswith("../") or relative == ".." or not is_within(readable, os.path.realpath(staged)):
                raise ActionError(f"catalog:register refuses {url!r}: it leads out of the repository it names")
            final_root = Path(unquote(urlparse(prefix).path))
            return Path(readable), final_root / relative, staged, final_root
    raise ActionError(
        f"catalog:register refuses {url!r}: the local runner registers only catalog files of repositories this "
        "task publishes (use the publish step's repoContentsUrl), never other file:// paths or remote URLs"
    )


# Files a registered catalog file's Location entities may lead to, in all (a glob can match many).
MAX_LOCATION_FILES = 1000


def _location_files(final: Path, content: bytes, staged: Path, final_root: Path) -> list[tuple[str, bytes]]:
    """``(where it will live, content)`` of every file the Location entities of the registered file lead the catalog
    to, and theirs in turn: the guardrails judge them as the catalog will read them, whatever their names
    (``targets: [./entities.txt]``).

    Followed as the local catalog follows them (``catalog.local_source``), where the repository will be: each
    target from the folder of the file as it is named, not where a symlink leads (``../api/x`` from
    ``…/api/catalog-info.yaml`` is the repository's own file); only inside the registered file's folder; globs
    matched by :func:`~idp_tui.catalog.confined_glob.confined_glob`, within the catalog's folder budget. Each path
    is then read in the staged repository, which will be moved there.

    Raises:
        ActionError: they lead to more than :data:`MAX_LOCATION_FILES` files or too many folders, or one cannot be
            read.
    """
    root = os.path.dirname(os.path.normpath(final))
    root_staged = os.path.realpath(_staged_path(root, staged, final_root))
    budget = GlobBudget(limits.MAX_GLOB_FOLDERS)
    pending = [(os.path.normpath(final), content)]
    seen = {pending[0][0]}
    found: list[tuple[str, bytes]] = []
    while pending:
        path, text = pending.pop()
        for target in _file_targets(text.decode("utf-8", errors="replace")):
            pattern = os.path.normpath(os.path.join(os.path.dirname(path), target))
            if not is_within(pattern, root):
                continue  # the catalog reads nothing outside the registered file's folder
            for match in _matches(_staged_path(pattern, staged, final_root), root_staged, budget):
                written = os.path.normpath(os.path.join(final_root, os.path.relpath(match, staged)))
                real = os.path.realpath(match)
                if written in seen or not is_within(real, root_staged) or not os.path.isfile(real):
                    continue
                seen.add(written)
                if len(seen) > MAX_LOCATION_FILES:
                    raise ActionError(f"the Location entities lead to more than {MAX_LOCATION_FILES:,} files")
                read = read_regular(real, os.path.relpath(written, final_root))[0]
                found.append((written, read))
                pending.append((written, read))
    return found


def _staged_path(path: str, staged: Path, final_root: Path) -> str:
    """Where ``path`` (inside the repository's final place) is in the staged repository."""
    return os.path.join(staged, os.path.relpath(path, final_root))


def _matches(pattern: str, root: str, budget: GlobBudget) -> list[str]:
    """The paths a Location target names inside ``root`` (none outside it, as the catalog reads none there). Each
    costs the folder budget a folder per part: a path of a thousand parts is resolved part by part."""
    if not glob.has_magic(pattern):
        budget.folders -= max(1, pattern.count(os.sep))
        if budget.folders < 0:
            raise ActionError("the Location entities name too many files and folders to follow")
        return [pattern] if is_within(os.path.realpath(pattern), root) else []
    try:
        result = confined_glob(pattern, root, MAX_LOCATION_FILES, budget)
    except OutsideRoot:
        return []
    if result.truncated or result.out_of_folders:
        raise ActionError(
            f"the Location entities match more than {MAX_LOCATION_FILES:,} files, or list too many folders"
        )
    return result.matches


def _file_targets(text: str) -> list[str]:
    """The file targets of the Location entities in ``text`` (a URL target is not read by the local catalog)."""
    documents, _ = load_documents(text)
    targets: list[str] = []
    for document in documents:
        data = document.data
        spec = data.get("spec") if isinstance(data, dict) and data.get("kind") == "Location" else None
        if not isinstance(spec, dict) or spec.get("type", "file") != "file":
            continue
        listed = [spec.get("target"), *(spec.get("targets") if isinstance(spec.get("targets"), list) else [])]
        # A URL is not read by the local catalog, and a NUL byte names no file.
        targets += [target for target in listed if isinstance(target, str) and target and not _unread(target)]
    return targets


def _unread(target: str) -> bool:
    return "://" in target or "\0" in target


class RegisterLocation:
    """The staged registration: one Location file in the registry directory."""

    def __init__(
        self,
        registry_dir: Path,
        target: Path,
        entity_keys: list[str],
        existing: frozenset[str],
        registered: tuple[tuple[str, bytes], ...] = (),
    ) -> None:
        self.target = target
        self.entity_keys = entity_keys
        self.existing = existing
        self.registered = registered  # (name, content) of each catalog file read (see registered_files)
        digest = hashlib.sha1(str(target).encode()).hexdigest()[:12]
        self.location_file = registry_dir / f"location-{digest}.yaml"

    def describe(self) -> str:
        """The entities registered and the Location file that registers them."""
        return f"catalog entry {', '.join(self.entity_keys)} (location {self.location_file})"

    def registered_files(self) -> tuple[tuple[str, bytes], ...]:
        """What the guardrails judge (:class:`~idp_tui.golden.actions.base.RegistersFile`): the catalog file, and
        the files its Location entities lead the catalog to."""
        return self.registered

    def check(self) -> None:
        """Refuse a registration that would clash with the catalog.

        Raises:
            ActionError: one of the entities is in the catalog already, or this target's Location file exists.
        """
        taken = [key for key in self.entity_keys if key in self.existing]
        if taken:
            raise ActionError(f"Conflict: entity {', '.join(taken)} already exists in the catalog")
        if self.location_file.exists():
            raise ActionError(f"Conflict: location {self.target} is already registered ({self.location_file})")

    def apply(self) -> None:
        """Write the Location file, whose target is where the catalog file will live, into the registry."""
        self.location_file.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {"name": self.location_file.stem, "description": f"Registered by idp-tui: {self.target}"},
            "spec": {"type": "file", "target": str(self.target)},
        }
        self.location_file.write_text(to_yaml(document), encoding="utf-8")

    def undo(self) -> None:
        """Remove the Location file, if it is there."""
        if self.location_file.exists():
            os.unlink(self.location_file)


class CatalogRegister:
    """``catalog:register``: registers a catalog file of a repository this task publishes."""

    id = "catalog:register"
    description = "Registers entities from a catalog descriptor file in the workspace into the software catalog."
    supports_dry_run = False

    def run(self, ctx: ActionContext) -> None:
        """Read and validate the catalog file the inputs name, and stage its registration.

        The file is ``catalogInfoUrl``, else ``repoContentsUrl`` plus ``catalogInfoPath`` (``/catalog-info.yaml``).
        Outputs ``entityRef`` (the file's first Component, else its first entity) and ``catalogInfoUrl``. With
        ``optional`` set, a file that cannot be read is logged and skipped.

        Raises:
            ActionError: the URL is not in a repository this task staged, the file cannot be read, holds bad YAML,
                an invalid entity or none, or an entity of it is in the catalog already.
        """
        url = self._url(ctx.input)
        readable, final, staged, final_root = _local_file(ctx, url)
        ctx.log(f"Registering {url} in the catalog")
        try:
            content = read_regular(readable, url)[0]
        except ActionError as error:
            if ctx.input.get("optional"):
                ctx.log(f"Skipping optional registration of {url}: {error}")
                return
            raise
        keys = self._entity_keys(content.decode("utf-8", errors="replace"), url)
        registered = ((str(final), content), *_location_files(final, content, staged, final_root))
        staged_real = os.path.realpath(staged)
        in_repository = [
            os.path.relpath(os.path.realpath(_staged_path(name, staged, final_root)), staged_real)
            for name, _ in registered
        ]
        refuse_transformed_files(staged, in_repository, self.id)
        settings = ctx.settings
        ctx.stage(RegisterLocation(settings.registry_dir, final, keys, settings.existing_entity_keys, registered))
        ctx.output("entityRef", next((k for k in keys if k.startswith("component:")), keys[0]))
        ctx.output("catalogInfoUrl", url)

    @staticmethod
    def _url(inputs: dict[str, Any]) -> str:
        if isinstance(inputs.get("catalogInfoUrl"), str):
            return inputs["catalogInfoUrl"]
        contents = inputs.get("repoContentsUrl")
        if not isinstance(contents, str) or not contents:
            raise ActionError("Missing repoContentsUrl or catalogInfoUrl input")
        path = inputs.get("catalogInfoPath") or "/catalog-info.yaml"
        return contents.rstrip("/") + "/" + str(path).lstrip("/")

    @staticmethod
    def _entity_keys(text: str, url: str) -> list[str]:
        documents, errors = load_documents(text)
        if errors:
            raise ActionError(f"{url}:{errors[0].line}: {errors[0].message}")
        keys = []
        for document in documents:
            verdict = validate_entity(document.data)
            if verdict.problems:
                path, _, message = verdict.problems[0]
                raise ActionError(
                    f"{url}:{document.line}: {verdict.key or 'entity'}: {'.'.join(map(str, path))} {message}"
                )
            keys.append(verdict.key)
        if not keys:
            raise ActionError(f"{url} holds no catalog entities")
        return keys


ACTIONS = (CatalogWrite(), CatalogRegister())
