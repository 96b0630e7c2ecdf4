"""Where an entity's secrets are: the annotation, else the golden path's convention."""

from __future__ import annotations

import pytest

from idp_tui.catalog.entity import Entity
from idp_tui.secrets.entity_path import secrets_path


def component(annotations: dict[str, str], owner: str | None = "group:default/team-a") -> Entity:
    spec = {"type": "service", "lifecycle": "production", **({"owner": owner} if owner else {})}
    raw = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "billing", "annotations": annotations},
        "spec": spec,
    }
    return Entity(raw, "component:default/billing")


@pytest.mark.parametrize(
    ("annotation", "mount", "path"),
    [
        ("secret/team-a/billing", "secret", "team-a/billing"),
        ("kv/data/team-a/billing/", "kv", "team-a/billing"),
        ("/secret/team-a/billing", "secret", "team-a/billing"),
        ("team-a-billing", "secret", "team-a-billing"),
    ],
)
def test_the_annotation_names_mount_and_path(annotation, mount, path):
    where = secrets_path(component({"vault.io/secrets-path": annotation}))
    assert (where.mount, where.path, where.source) == (mount, path, "annotation")


def test_without_the_annotation_the_golden_path_convention_is_used():
    where = secrets_path(component({}))
    assert (str(where), where.source) == ("secret/team-a/billing", "convention")
    assert secrets_path(component({}, owner=None)) is None
