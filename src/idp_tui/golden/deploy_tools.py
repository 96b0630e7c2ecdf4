"""The deploy tools whose output the guardrails judge instead of their sources: kustomize, Jsonnet and Helm."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .build_sandbox import Builds
from .helm import is_chart, render_charts
from .jsonnet import evaluate_jsonnet, is_jsonnet
from .kustomize import build_kustomizations, is_kustomization


def is_tool_source(name: str) -> bool:
    """Whether a deploy tool builds manifests from ``name`` (a kustomization, a Jsonnet file or library, a chart)."""
    return is_kustomization(name) or is_jsonnet(name) or is_chart(name)


def build_tool_sources(names: Iterable[str], trees: Callable[[], list[tuple[str, Mapping[str, bytes]]]]) -> Builds:
    """What kustomize, Jsonnet and Helm build from the trees (read only when ``names`` hold a source of theirs)."""
    names = list(names)
    builds = Builds()
    if not any(is_tool_source(name) for name in names):
        return builds
    read = trees()
    if any(is_kustomization(name) for name in names):
        build_kustomizations(read, builds)
    if any(is_jsonnet(name) for name in names):
        evaluate_jsonnet(read, builds)
    if any(is_chart(name) for name in names):
        render_charts(read, builds)
    return builds
