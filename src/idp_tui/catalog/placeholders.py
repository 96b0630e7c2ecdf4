"""Backstage's ``$text``/``$json``/``$yaml`` placeholders, resolved against local files.

An API's ``definition: {$text: ./openapi.yaml}`` is replaced by the file's content, as the catalog's
PlaceholderProcessor does. URLs are not fetched by a local catalog: the value says so instead.

The catalog is written by other people: a placeholder reads only a regular file inside the catalog root
(never ``/etc/shadow``, ``/proc/self/environ``, a FIFO or ``/dev/zero``), at most
``limits.MAX_PLACEHOLDER_FILE_BYTES`` of it, and all the placeholders of one catalog file include at most
``limits.MAX_INCLUDED_BYTES_PER_FILE`` together (one spec referenced a thousand times prints a thousand
times). What ``$json``/``$yaml`` include must be JSON data, as the catalog's own YAML is.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from . import limits
from .file_access import RefusedRead, checked_stat, read_checked, size_words
from .json_data import OverBudget, json_data_cost

PLACEHOLDERS = ("$text", "$json", "$yaml")

# A placeholder that could not be resolved: the path of the field holding it (for its line) and why.
PlaceholderError = tuple[tuple[Any, ...], str]


class Resolved(NamedTuple):
    """A document with its placeholders replaced.

    ``dependencies`` are the files read as ``(path, mtime_ns, size)``; one that could not be used has size -1,
    so a cached parse is redone once it changes. ``included`` is the JSON size of what was included.
    """

    data: Any
    dependencies: list[tuple[str, int, int]]
    errors: list[PlaceholderError]
    included: int


def resolve_placeholders(
    data: Any, base_dir: str, root: str, budget: int = limits.MAX_INCLUDED_BYTES_PER_FILE
) -> Resolved:
    """Replace the placeholders of one document.

    Args:
        data: one document.
        base_dir: the folder of the catalog file (targets are relative to it).
        root: the resolved catalog root every target must lie in.
        budget: what this document may still include (what its file's other documents left).
    """
    dependencies: list[tuple[str, int, int]] = []
    errors: list[PlaceholderError] = []
    remaining = [budget]
    texts: dict[str, str] = {}  # each file is read once however often it is included

    def walk(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, target),) = value.items()
                if key in PLACEHOLDERS and isinstance(target, str):
                    return _resolve(key, target, (*path, key))
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _resolve(kind: str, target: str, where: tuple[Any, ...]) -> Any:
        if "://" in target:
            return f"{kind}: {target} (not fetched by a local catalog)"
        try:
            text = _read(kind, target)
            if kind == "$text":
                value, cost = text, len(text)
            else:
                value = _parse(kind, target, text)
                try:
                    cost = json_data_cost(value, remaining[0])
                except ValueError as error:
                    raise ValueError(f"Placeholder {kind} of {target} is not included: {error}") from None
            if cost > remaining[0]:
                raise OverBudget
        except ValueError as error:
            errors.append((where, str(error)))
            return None
        except OverBudget:
            errors.append(
                (
                    where,
                    f"Placeholder {kind} of {target} is not included: the placeholders of this file would include "
                    f"more than {size_words(limits.MAX_INCLUDED_BYTES_PER_FILE)} together",
                )
            )
            return None
        remaining[0] -= cost
        return value

    def _read(kind: str, target: str) -> str:
        if "\0" in target:
            raise ValueError(f"Placeholder {kind} could not read {target!r}: the path holds a null byte")
        path = os.path.normpath(os.path.join(base_dir, target))
        if path in texts:
            return texts[path]
        limit = limits.MAX_PLACEHOLDER_FILE_BYTES
        try:
            checked = checked_stat(path, root, limit)
            if checked.st_size > remaining[0]:
                dependencies.append((path, checked.st_mtime_ns, checked.st_size))  # the verdict changes with it
                raise OverBudget  # not even read
            text = read_checked(path, checked, limit).decode("utf-8")
        except (RefusedRead, UnicodeDecodeError) as error:
            dependencies.append((path, 0, -1))
            reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
            raise ValueError(f"Placeholder {kind} could not read {target}: {reason}") from None
        dependencies.append((path, checked.st_mtime_ns, checked.st_size))
        texts[path] = text
        return text

    try:
        return Resolved(walk(data, ()), dependencies, errors, budget - remaining[0])
    except RecursionError:
        nested = [((), "Placeholders could not be resolved: the document is nested too deeply")]
        return Resolved(data, dependencies, nested, budget - remaining[0])


def _parse(kind: str, target: str, text: str) -> Any:
    """The data of a ``$json``/``$yaml`` file. Raises ValueError with the message to report."""
    if kind == "$json":
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"Placeholder $json failed to parse {target}: {error}") from None
        except RecursionError:
            raise ValueError(f"Placeholder $json failed to parse {target}: nested too deeply") from None
    from .yaml_docs import load_documents

    documents, yaml_errors = load_documents(text)
    if yaml_errors:
        first = yaml_errors[0]
        raise ValueError(f"Placeholder $yaml failed to parse {target}:{first.line}: {first.message}")
    return documents[0].data if documents else None
