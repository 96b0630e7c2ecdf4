"""Validation reports every rule's problem at the right file and line (parity with Backstage's verdicts
is checked case by case in test_validation_parity.py)."""

import json

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.validation import validate_entity

VALID = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {"name": "svc"},
    "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
}


def _problems(write_catalog, text):
    root = write_catalog({"catalog-info.yaml": text})
    catalog = LocalCatalogSource([root / "catalog-info.yaml"], use_cache=False).load()
    return catalog, [(p.line, p.rule, p.message) for p in catalog.problems]


def test_a_valid_entity_passes_with_its_relations():
    verdict = validate_entity(VALID)
    assert verdict.ok
    assert verdict.key == "component:default/svc"
    assert verdict.relations == [("ownedBy", "group:default/team-a")]


def test_missing_required_spec_field_points_at_spec(write_catalog):
    catalog, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: svc
        spec:
          type: service
          owner: team-a
        """,
    )
    assert problems == [(5, "kind", "/spec must have required property 'lifecycle'")]
    assert len(catalog) == 0


def test_name_tag_label_annotation_and_link_formats(write_catalog):
    catalog, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: Bad Name!
          tags: [ok, Not-OK]
          labels:
            tier: "has space"
          annotations:
            "a/b/c": x
          links:
            - url: not-a-url
        spec: {type: service, lifecycle: production, owner: team-a}
        """,
    )
    by_line = {line: message for line, _, message in problems}
    assert '"metadata.name" is not valid' in by_line[4]
    assert '"tags.1" is not valid' in by_line[5] and "[a-z0-9+#]" in by_line[5]
    assert '"labels.tier" is not valid' in by_line[7]
    assert '"annotations.a/b/c" is not valid' in by_line[9]
    assert '"links.0.url" is not valid; expected a string that is a valid url' in by_line[11]
    assert all(rule == "policy" for _, rule, _ in problems)


def test_unknown_root_fields_are_rejected(write_catalog):
    _, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: svc}
        spec: {type: service, lifecycle: production, owner: team-a}
        status: {}
        extra: 1
        """,
    )
    assert (5, "policy", "Unknown field status") in problems
    assert (6, "policy", "Malformed envelope, <root> must NOT have additional properties (extra)") in problems


def test_unknown_kind_and_wrong_api_version(write_catalog):
    _, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Widget
        metadata: {name: w}
        ---
        apiVersion: backstage.io/v2
        kind: Component
        metadata: {name: c}
        spec: {type: service, lifecycle: production, owner: team-a}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: component
        metadata: {name: lower}
        spec: {type: service, lifecycle: production, owner: team-a}
        """,
    )
    messages = {line: message for line, _, message in problems}
    assert messages[1].startswith("No processor recognized the entity widget:default/w as valid")
    assert 'unknown kind "Widget"' in messages[1]
    assert 'apiVersion "backstage.io/v2" is not one of' in messages[5]
    assert 'should be spelled "Component"' in messages[10]


def test_missing_envelope_fields(write_catalog):
    _, problems = _problems(
        write_catalog,
        """
        kind: Component
        metadata:
          title: no name
        """,
    )
    assert (1, "envelope", "<root> must have required property 'apiVersion'") in problems
    assert (2, "envelope", "/metadata must have required property 'name'") in problems


def test_relation_without_kind_is_reported_on_its_line(write_catalog):
    _, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: svc}
        spec:
          type: service
          lifecycle: production
          owner: team-a
          dependsOn:
            - component:fine
            - order-service
        """,
    )
    assert problems == [
        (
            10,
            "relation",
            'Entity reference "order-service" had missing or empty kind (e.g. did not start with "component:" or similar)',
        )
    ]


def test_duplicate_refs_keep_the_first_and_report_the_second(write_catalog):
    root = write_catalog(
        {
            "a.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\nspec: {type: team, children: []}\n",
            "b.yaml": "apiVersion: backstage.io/v1beta1\nkind: Group\nmetadata: {name: TEAM-A, title: Second}\nspec: {type: team, children: []}\n",
        }
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()
    assert len(catalog) == 1 and catalog.get("group:default/team-a").title is None
    (problem,) = catalog.problems
    assert problem.rule == "duplicate" and problem.path.endswith("b.yaml") and problem.line == 1
    assert "already defined at" in problem.message and "a.yaml:1" in problem.message


def test_bad_yaml_and_non_object_documents(write_catalog):
    _, problems = _problems(write_catalog, "- just\n- a list\n---\nkey: [broken\n")
    rules = sorted(rule for _, rule, _ in problems)
    assert rules == ["envelope", "yaml"]
    assert any(message == "Expected object at root, got array" for _, _, message in problems)


def test_a_plain_merge_key_is_an_ordinary_key_and_problems_point_at_it(write_catalog):
    """As in Backstage (YAML 1.2): ``<<`` merges nothing, so what it was meant to bring in is missing."""
    catalog, problems = _problems(
        write_catalog,
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: svc
          labels: &shared {tier: gold}
          annotations:
            <<: *shared
        spec:
          <<: {type: service, lifecycle: production}
          owner: team-a
        """,
    )
    assert (7, "policy", "Malformed envelope, /metadata/annotations/<< must be string") in problems
    assert (8, "kind", "/spec must have required property 'type'") in problems
    assert len(catalog) == 0


def test_an_action_idp_tui_lacks_is_a_warning_that_keeps_the_template(write_catalog, monkeypatch, capsys):
    from idp_tui.cli import main

    root = write_catalog(
        {
            "template.yaml": """
            apiVersion: scaffolder.backstage.io/v1beta3
            kind: Template
            metadata: {name: deploy}
            spec:
              type: service
              steps:
                - id: deploy
                  action: acme:deploy
            """
        }
    )
    monkeypatch.chdir(root)
    assert [e.key for e in LocalCatalogSource([root], use_cache=False).load().entities] == ["template:default/deploy"]

    assert main(["validate", "template.yaml"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "template.yaml:8: template:default/deploy: warning: action 'acme:deploy' is not one of idp-tui's built-in "
        "actions, so this step can only run on a Backstage scaffolder that has it\n"
    )
    assert "0 problems, 1 warning; 1 valid entity in 1 file" in err

    assert main(["validate", "--json", "template.yaml"]) == 0
    (finding,) = json.loads(capsys.readouterr().out)
    assert (finding["line"], finding["rule"], finding["severity"]) == (8, "template", "warning")

    # A warning beside a real problem: the problem still fails the run, each marked with its severity.
    (root / "template.yaml").write_text(
        (root / "template.yaml").read_text() + "    - id: deploy\n      action: debug:log\n"
    )
    assert main(["validate", "--json", "template.yaml"]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["severity"]) for f in findings] == [(8, "warning"), (9, "error")]
