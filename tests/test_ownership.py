"""Ownership from the catalog: owner cards, transitive ownership over sub-teams, and "mine"."""

from __future__ import annotations

import pytest

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.oncall.ownership import mine, owned_by, owner_card, resolve_user
from idp_tui.resources import demo_catalog_path

ORG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: dept, links: [{url: "https://chat.example/dept", title: "#dept on chat"}]}
spec: {type: department, children: [squad], profile: {displayName: Department, email: dept@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: squad, annotations: {slack.com/channel: squad-help}}
spec: {type: team, parent: dept, children: [pod-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: pod-a}
spec: {type: sub-team, parent: squad, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe}
spec: {profile: {displayName: Jane Doe, email: jane.doe@example.com}, memberOf: [pod-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: rsmith}
spec: {profile: {email: robert@example.com}, memberOf: [squad]}
"""


def component(name: str, owner: str) -> str:
    return (
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\n"
        f"metadata: {{name: {name}}}\nspec: {{type: service, lifecycle: production, owner: {owner}}}\n"
    )


@pytest.fixture
def catalog(write_catalog):
    text = ORG + component("dept-tool", "dept") + component("squad-api", "squad") + component("pod-svc", "pod-a")
    text += component("janes-script", "user:jdoe")
    return LocalCatalogSource([write_catalog({"org.yaml": text})], use_cache=False).load()


def test_owner_card_has_profile_contacts_members_and_parent_chain():
    demo = LocalCatalogSource([demo_catalog_path()], use_cache=False).load()
    card = owner_card(demo, demo.find("payment-processor"))
    assert card.owner.key == "group:default/team-payments"
    assert [parent.name for parent in card.parents] == ["engineering", "myorg"]
    assert [(m.name, m.email) for m in card.members][0] == ("alice.nguyen", "alice.nguyen@myorg.example")
    titles = [contact.title for contact in card.contacts]
    assert titles[0] == "Email" and "#payments-oncall on Slack" in titles


def test_annotation_contacts_and_a_missing_owner(catalog, write_catalog):
    card = owner_card(catalog, catalog.find("squad-api"))
    assert ("Slack", "squad-help") in [(c.title, c.value) for c in card.contacts]
    orphan = LocalCatalogSource([write_catalog({"o.yaml": component("orphan", "ghosts")})], use_cache=False).load()
    card = owner_card(orphan, orphan.find("orphan"))
    assert card.owner_key == "group:default/ghosts" and card.owner is None


def test_transitive_ownership_includes_sub_teams_and_says_which(catalog):
    owned = {entity.name: group for entity, group in owned_by(catalog, "group:default/dept")}
    assert owned == {
        "dept-tool": "group:default/dept",
        "squad-api": "group:default/squad",
        "pod-svc": "group:default/pod-a",
    }
    direct = [entity.name for entity, _ in owned_by(catalog, "group:default/squad", transitive=False)]
    assert direct == ["squad-api"]


def test_a_cyclic_org_chart_terminates(write_catalog):
    text = (
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: a}\nspec: {type: team, children: [b]}\n"
        "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: b}\nspec: {type: team, children: [a]}\n"
    )
    text += component("x", "b")
    catalog = LocalCatalogSource([write_catalog({"c.yaml": text})], use_cache=False).load()
    assert [entity.name for entity, _ in owned_by(catalog, "group:default/a")] == ["x"]
    assert len(owner_card(catalog, catalog.find("x")).parents) <= 1


def test_the_user_from_a_flag_from_the_login_name_or_from_the_email(catalog):
    assert resolve_user(catalog, "user:jdoe", None).name == "jdoe"
    assert resolve_user(catalog, "jdoe", "someone-else").name == "jdoe"
    assert resolve_user(catalog, None, "JDOE").name == "jdoe"
    assert resolve_user(catalog, None, "robert").name == "rsmith"  # local part of robert@example.com
    assert resolve_user(catalog, None, "nobody") is None
    assert resolve_user(catalog, "user:ghost", "jdoe") is None  # an explicit user is never second-guessed


def test_mine_is_my_groups_and_what_they_and_i_own(catalog):
    jane = mine(catalog, catalog.get("user:default/jdoe"))
    assert jane.groups == ("group:default/pod-a",)
    assert sorted(entity.name for entity in jane.entities()) == ["janes-script", "pod-svc"]
    robert = mine(catalog, catalog.get("user:default/rsmith"))
    # A member of the squad sees the squad's services and its sub-team's.
    assert sorted(entity.name for entity in robert.entities()) == ["pod-svc", "squad-api"]
