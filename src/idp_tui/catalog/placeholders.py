"""Backstage's ``$text``/``$json``/``$yaml`` placeholders, resolved against local files.

An API's ``definition: {$text: ./openapi.yaml}`` is replaced by the file's content, as the catalog's
PlaceholderProcessor does. URLs are not fetched by a local catalog: the value says so instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

PLACEHOLDERS = ("$text", "$json", "$yaml")


def resolve_placeholders(data: Any, base_dir: str) -> tuple[Any, list[tuple[str, int, int]], list[str]]:
    """Return ``(data with placeholders replaced, files read, error messages)``."""
    dependencies: list[tuple[str, int, int]] = []
    errors: list[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, target),) = value.items()
                if key in PLACEHOLDERS and isinstance(target, str):
                    return _resolve(key, target)
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    def _resolve(kind: str, target: str) -> Any:
        if "://" in target:
            return f"{kind}: {target} (not fetched by a local catalog)"
        path = os.path.normpath(os.path.join(base_dir, target))
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            stat = os.stat(path)
        except (OSError, UnicodeDecodeError) as error:
            errors.append(f"Placeholder {kind} could not read {target}: {getattr(error, 'strerror', None) or error}")
            return None
        dependencies.append((path, stat.st_mtime_ns, stat.st_size))
        if kind == "$text":
            return text
        try:
            if kind == "$json":
                return json.loads(text)
            from .yaml_docs import load_documents

            documents, yaml_errors = load_documents(text)
            if yaml_errors:
                raise ValueError(yaml_errors[0].message)
            return documents[0].data if documents else None
        except ValueError as error:
            errors.append(f"Placeholder {kind} failed to parse {target}: {error}")
            return None

    return walk(data), dependencies, errors
