"""Reading YAML: document lines, YAML 1.2 scalars like Backstage's parser, broken documents isolated."""

from idp_tui.catalog import yaml_docs
from idp_tui.catalog.yaml_docs import field_line, load_documents

STREAM = """\
# a comment
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: a
---
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: b
  annotations:
    when: 2024-01-01
    enabled: yes
    octal: 017
    port: 8080
    ratio: 1.5
    flag: true
"""


def test_every_document_is_read_with_its_starting_line():
    documents, errors = load_documents(STREAM)
    assert errors == []
    assert [(d.line, d.data["metadata"]["name"]) for d in documents] == [(2, "a"), (8, "b")]


def test_scalars_follow_the_yaml_1_2_core_schema():
    annotations = load_documents(STREAM)[0][1].data["metadata"]["annotations"]
    # Dates and yes/no stay strings, 017 is seventeen: what Backstage's parser reads.
    assert annotations == {
        "when": "2024-01-01",
        "enabled": "yes",
        "octal": 17,
        "port": 8080,
        "ratio": 1.5,
        "flag": True,
    }


def test_a_syntax_error_costs_only_its_own_document():
    text = "kind: A\nmetadata: {name: a}\n---\nkind: B\nspec: [unclosed\n---\nkind: C\nmetadata: {name: c}\n"
    documents, errors = load_documents(text)
    assert [d.data["kind"] for d in documents] == ["A", "C"]
    assert len(errors) == 1
    assert errors[0].line in (5, 6)
    assert errors[0].message.startswith("YAML error:")


def test_field_line_points_at_the_field_or_its_nearest_parent():
    assert field_line(STREAM, 8, ("metadata", "annotations", "octal")) == 15
    assert field_line(STREAM, 8, ("metadata", "name")) == 11
    assert field_line(STREAM, 8, ("spec", "owner")) == 8  # no spec at all: the document
    assert field_line(STREAM, 2, ("metadata", "title")) == 4  # no title: its parent


def test_libyaml_is_used_when_available():
    import yaml

    assert hasattr(yaml, "CSafeLoader") == yaml_docs.HAVE_LIBYAML
    if yaml_docs.HAVE_LIBYAML:
        assert issubclass(yaml_docs.CatalogLoader, yaml.CSafeLoader)
