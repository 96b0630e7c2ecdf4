"""What a run ships besides its workspace, for the guardrails to judge as it leaves.

A publish step builds its repository when it runs (:class:`~idp_tui.golden.actions.base.ShipsFiles`), so a later
step may change or remove a workspace file the repository holds; and ``catalog:register`` reads a catalog file of
any name (:class:`~idp_tui.golden.actions.base.RegistersFile`). What the workspace holds as shipped is judged once,
under its workspace name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from .actions.base import Effect, RegistersFile, ShipsFiles
from .actions.publish import read_clone
from .guardrails import read_guardrail_inputs, read_tree, shipped_names


def _trees(effects: list[Effect]) -> Iterator[tuple[str, Path, str]]:
    """``(label, tree, source)`` of each tree the effects ship."""
    for effect in effects:
        if isinstance(effect, ShipsFiles):
            yield effect.shipped_files()


def _in_workspace(source: str, relative: str) -> str:
    """The workspace path of a tree's file, the tree being built from the workspace folder ``source``."""
    return posixpath.join(source, relative) if source else relative


def shipped_inputs(effects: list[Effect], judged: dict[str, bytes]) -> dict[str, bytes]:
    """The YAML and JSON files the trees ship that the workspace does not hold as they are (``judged``: its files),
    under where each tree will be (``/…/repositories/github.com/acme/inv/k8s/deployment.yaml``)."""
    shipped: dict[str, bytes] = {}
    for label, tree, source in _trees(effects):
        for relative, content in read_guardrail_inputs(tree).items():
            if judged.get(_in_workspace(source, relative)) != content:
                shipped[f"{label}/{relative}"] = content
    return shipped


def shipped_tree_names(effects: list[Effect], in_workspace: set[str]) -> list[str]:
    """Every file of the trees that the workspace no longer holds, under each tree's label."""
    return [
        f"{label}/{name}"
        for label, tree, source in _trees(effects)
        for name in shipped_names(tree)
        if _in_workspace(source, name) not in in_workspace
    ]


def registered_inputs(effects: list[Effect], judged: dict[str, bytes]) -> dict[str, bytes]:
    """The catalog files the effects register, and those their Location entities lead to, unless judged already
    under another name (as the repository's ``catalog-info.yaml`` is in the workspace): one named ``entities.txt``
    is read as YAML all the same."""
    seen = set(judged.values())
    registered = (file for effect in effects if isinstance(effect, RegistersFile) for file in effect.registered_files())
    return {name: content for name, content in registered if content not in seen}


def shipped_trees(effects: list[Effect]) -> list[tuple[str, dict[str, bytes]]]:
    """Every file of each tree the effects ship, under the tree's label, as a deploy tool reads it
    (:func:`~idp_tui.golden.guardrails.read_tree`) from a clone of the repository: what Argo CD builds from it (a
    ``.gitignore``'d file left out, line ends as ``.gitattributes`` make them in a checkout)."""
    trees = []
    for label, tree, _ in _trees(effects):
        cloned = read_clone(tree, read_tree)
        trees.append((label, read_tree(tree) if cloned is None else cloned))
    return trees
