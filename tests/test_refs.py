"""Entity refs: Backstage's parsing rules, defaults and case-insensitive comparison."""

import pytest

from idp_tui.catalog.refs import EntityRef, EntityRefError, parse_ref, ref_key


@pytest.mark.parametrize(
    ("text", "default_kind", "default_namespace", "expected"),
    [
        ("component:default/foo", None, None, ("component", "default", "foo")),
        ("component:foo", None, None, ("component", "default", "foo")),
        ("foo", "Group", None, ("Group", "default", "foo")),
        ("other/foo", "Group", None, ("Group", "other", "foo")),
        ("foo", "Group", "payments", ("Group", "payments", "foo")),
        ("user:payments/jane", "Group", "default", ("user", "payments", "jane")),
        # A colon after the slash belongs to the name, as in Backstage.
        ("ns/a:b", "Component", None, ("Component", "ns", "a:b")),
        ("a:b:c", None, None, ("a", "default", "b:c")),
    ],
)
def test_parse_ref_fills_backstage_defaults(text, default_kind, default_namespace, expected):
    ref = parse_ref(text, default_kind, default_namespace)
    assert (ref.kind, ref.namespace, ref.name) == expected


@pytest.mark.parametrize("text", ["", "component:", ":foo", "component:/foo", "ns/", "a:ns/"])
def test_malformed_refs_are_rejected(text):
    with pytest.raises(EntityRefError):
        parse_ref(text, "Component")


def test_a_ref_without_kind_needs_a_default_kind():
    with pytest.raises(EntityRefError, match="missing or empty kind"):
        parse_ref("order-service")


def test_refs_compare_case_insensitively():
    assert ref_key("Component:Default/Payment-Processor") == "component:default/payment-processor"
    assert ref_key("PAYMENT-processor", "component") == ref_key("component:default/payment-processor")


def test_humanize_leaves_out_implied_parts():
    ref = EntityRef("Group", "default", "team-a")
    assert ref.humanize(default_kind="Group") == "team-a"
    assert ref.humanize() == "group:team-a"
    assert EntityRef("User", "ops", "jane").humanize(default_kind="Group") == "user:ops/jane"
