"""The deploy tools whose output the guardrails judge instead of their sources: kustomize and Jsonnet."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .build_sandbox import Builds
from .jsonnet import evaluate_jsonnet, is_jsonnet
from .kustomize import build_kustomizations, is_kustomization


def is_tool_source(name: str) -> bool:
    """Whether a deploy tool builds manifests from ``name`` (a kustomization, a Jsonnet file or library)."""
    return is_kustomization(name) or is_jsonnet(name)


def build_tool_sources(names: Iterable[str], trees: Callable[[], list[tuple[str, Mapping[str, bytes]]]]) -> Builds:
    """What kustomize and Jsonnet build from the trees (read only when ``names`` hold a source of theirs)."""
    names = list(names)
    builds = Builds()
    if not any(is_tool_source(name) for name in names):
        return builds
    read = trees()
    if any(is_kustomization(name) for name in names):
        build_kustomizations(read, builds)
    if any(is_jsonnet(name) for name in names):
        evaluate_jsonnet(read, builds)
    return builds
