"""Any field of an Application or a Rollout of an unexpected type (another Argo version's CRD, a CRD without a
schema, a hand-edited object) reads as absent: the views and actions never raise on what a cluster holds."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_gitops_fixtures import APPLICATIONS, ROLLOUTS, load_all

from idp_tui.commands.gitops_json import application_json, rollout_json
from idp_tui.kube.gitops.actions import PromoteRollout, SyncApplication
from idp_tui.kube.gitops.argocd import parse_application
from idp_tui.kube.gitops.rollouts import rollout_info

REPLACEMENTS = (None, "x", 5, True, [], {}, [None])


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


def replaced(value: dict, path: tuple, replacement: Any) -> dict:
    copied = copy.deepcopy(value)
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    return copied


@pytest.mark.parametrize("name", APPLICATIONS)
def test_every_application_field_replaced_by_any_type(name):
    original = load_all(name)[0]
    checked = 0
    for path in paths(original):
        for replacement in REPLACEMENTS:
            application = replaced(original, path, replacement)
            json.dumps(application_json(parse_application(application, "demo-eu")))
            SyncApplication("demo-eu", "argocd", "a", username="u").request(application)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize("name", ROLLOUTS)
def test_every_rollout_field_replaced_by_any_type(name):
    original, *others = load_all(name)
    for path in paths(original):
        for replacement in REPLACEMENTS:
            rollout = replaced(original, path, replacement)
            json.dumps(rollout_json(rollout_info(rollout, others, others), others))
            PromoteRollout("demo-eu", "n", "r").plan(rollout)
            PromoteRollout("demo-eu", "n", "r", full=True).plan(rollout)


def test_objects_that_are_not_objects():
    for value in (None, [], "x", 3):
        assert parse_application(value).name == ""  # type: ignore[arg-type]
        assert rollout_info(value).strategy == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("number", ["²", "٣", "1" * 5000, "+5", " 5", "", "5.0"])
def test_a_revision_or_observed_generation_that_is_not_ascii_digits_reads_as_absent(number):
    """``"²".isdigit()`` is true and ``int("²")`` raises; ``int`` refuses 5000 digits: neither may raise here."""
    rollout, *others = load_all("rollout-canary-paused.yaml")
    rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] = number
    rollout["metadata"]["generation"] = 10
    rollout["status"]["observedGeneration"] = number
    replicasets = copy.deepcopy(others)
    for replicaset in (obj for obj in replicasets if obj.get("kind") == "ReplicaSet"):
        replicaset["metadata"]["annotations"]["rollout.argoproj.io/revision"] = number
    info = rollout_info(rollout, replicasets, replicasets)
    assert info.revision is None and all(rs.revision is None for rs in info.replica_sets)
    assert len(info.replica_sets) == 3
    # Not a generation number: counted as observed (a pre-0.10 hash), so the controller's phase stands.
    assert info.phase == "Paused"
    json.dumps(rollout_json(info, replicasets))
