"""What golden paths remember between sessions: the last answers per template (never secrets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..paths import state_home, write_atomically


def _answers_file(state_dir: Path | None) -> Path:
    return (state_dir or state_home()) / "golden" / "last-answers.json"


def load_answers(template_key: str, state_dir: Path | None = None) -> dict[str, Any]:
    """The values last used for ``template_key`` ({} when none or unreadable)."""
    try:
        stored = json.loads(_answers_file(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    answers = stored.get(template_key) if isinstance(stored, dict) else None
    return answers if isinstance(answers, dict) else {}


def save_answers(
    template_key: str, values: dict[str, Any], secret_paths: list[tuple[str, ...]], state_dir: Path | None = None
) -> None:
    """Remember ``values`` for ``template_key``, leaving out every field at ``secret_paths``."""
    kept = json.loads(json.dumps(values))
    for path in secret_paths:
        _drop(kept, path)
    target = _answers_file(state_dir)
    try:
        stored = json.loads(target.read_text(encoding="utf-8"))
        stored = stored if isinstance(stored, dict) else {}
    except (OSError, ValueError):
        stored = {}
    stored[template_key] = kept
    write_atomically(target, json.dumps(stored, indent=2, sort_keys=True).encode())


def _drop(values: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        values = values.get(key) if isinstance(values.get(key), dict) else {}
    values.pop(path[-1], None)


def remember_answers(template: Any, values: dict[str, Any], state_dir: Path | None = None) -> None:
    """Remember a successful run's answers for ``template``, leaving out its password and Secret fields."""
    from .values import secret_paths

    save_answers(template.key, values, secret_paths(template), state_dir)
