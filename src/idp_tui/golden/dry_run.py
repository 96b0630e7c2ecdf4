"""Dry runs of a template given as data (a Template document and its files), as Backstage's dry-run API does."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..catalog.entity import Entity, SourceLocation
from ..catalog.refs import entity_key
from ..catalog.validation import validate_entity
from .actions import builtin_actions
from .actions.base import ActionError, RunSettings
from .events import TaskResult
from .runner import LocalTaskRunner
from .template import Template
from .workspace import inside


def dry_run_template(
    template: dict[str, Any], values: dict[str, Any], files: dict[str, bytes], *, user: dict[str, Any] | None = None
) -> TaskResult:
    """Render ``template`` with ``values`` against ``files`` (its directory contents) without changing anything."""
    with tempfile.TemporaryDirectory(prefix="idp-tui-dry-run-") as root:
        base = Path(root) / "template"
        base.mkdir()
        for relative, content in files.items():
            try:
                path = inside(base, relative, what="template file")
            except ActionError as error:
                return TaskResult("failed", [], error=str(error))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        verdict = validate_entity(template)
        if verdict.problems:
            path, _, message = verdict.problems[0]
            return TaskResult("failed", [], error=f"/{'/'.join(map(str, path))} {message}")
        metadata = template.get("metadata") or {}
        key = entity_key("Template", metadata.get("namespace"), str(metadata.get("name", "dry-run")))
        entity = Entity(template, key, SourceLocation(str(base / "template.yaml"), 1))
        settings = RunSettings(publish_root=Path(root) / "repositories", registry_dir=Path(root) / "registry")
        runner = LocalTaskRunner(builtin_actions(), settings)
        return runner.run(Template.from_entity(entity), values, dry_run=True, user=user)
