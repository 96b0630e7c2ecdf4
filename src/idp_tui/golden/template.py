"""Scaffolder templates (``scaffolder.backstage.io/v1beta3``) read from catalog entities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.entity import Entity

TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"


@dataclass(frozen=True)
class Step:
    """One step of a template: an action with its (not yet rendered) input."""

    id: str
    name: str
    action: str
    input: dict[str, Any]
    # ``if`` and ``each`` as written: a bool, or a string with ${{ }} to render at run time.
    if_: Any = None
    each: Any = None

    @property
    def title(self) -> str:
        """What to call the step: its ``name``, else its ``id``."""
        return self.name or self.id


@dataclass(frozen=True)
class Template:
    """A golden path: its form pages, steps and output, plus where its files live."""

    key: str
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    owner: str
    type: str
    parameter_pages: tuple[dict[str, Any], ...]
    steps: tuple[Step, ...]
    output: dict[str, Any]
    raw: dict[str, Any]
    # The directory of the template's file: relative step URLs (./skeleton) resolve against it.
    base_dir: Path | None = None

    @classmethod
    def from_entity(cls, entity: Entity) -> Template:
        """Read a Template entity. Malformed parts are skipped here; ``idp-tui validate`` reports them."""
        spec = entity.spec
        base_dir = Path(entity.source.path).parent if entity.source else None
        return cls(
            key=entity.key,
            name=entity.name,
            title=entity.metadata.get("title") or entity.name,
            description=entity.metadata.get("description") or "",
            tags=tuple(tag for tag in entity.metadata.get("tags") or () if isinstance(tag, str)),
            owner=spec.get("owner") if isinstance(spec.get("owner"), str) else "",
            type=spec.get("type") if isinstance(spec.get("type"), str) else "",
            parameter_pages=parameter_pages(spec.get("parameters")),
            steps=tuple(_steps(spec.get("steps"))),
            output=spec.get("output") if isinstance(spec.get("output"), dict) else {},
            raw=entity.raw,
            base_dir=base_dir,
        )


def parameter_pages(parameters: Any) -> tuple[dict[str, Any], ...]:
    """``spec.parameters`` as a list of page schemas (one schema or a list of them are both allowed)."""
    if isinstance(parameters, dict):
        return (parameters,)
    if isinstance(parameters, list):
        return tuple(page for page in parameters if isinstance(page, dict))
    return ()


def _steps(raw_steps: Any) -> list[Step]:
    steps = []
    for index, raw in enumerate(raw_steps if isinstance(raw_steps, list) else []):
        if not isinstance(raw, dict):
            continue
        step_id = raw.get("id") if isinstance(raw.get("id"), str) else f"step-{index}"
        steps.append(
            Step(
                id=step_id,
                name=raw.get("name") if isinstance(raw.get("name"), str) else "",
                action=raw.get("action") if isinstance(raw.get("action"), str) else "",
                input=raw.get("input") if isinstance(raw.get("input"), dict) else {},
                if_=raw.get("if"),
                each=raw.get("each"),
            )
        )
    return steps


def templates_in(entities: list[Entity]) -> list[Template]:
    """Every v1beta3 Template among ``entities``, sorted by title."""
    found = [
        Template.from_entity(e) for e in entities if e.kind == "Template" and e.api_version == TEMPLATE_API_VERSION
    ]
    return sorted(found, key=lambda t: t.title.lower())
