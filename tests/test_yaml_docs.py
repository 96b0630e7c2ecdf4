"""Reading YAML: document lines, YAML 1.2 scalars like Backstage's parser, broken documents isolated."""

from idp_tui.catalog import limits, yaml_docs
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


def test_a_document_of_too_many_nodes_is_refused_while_it_is_composed_and_costs_only_itself(monkeypatch):
    """Composing holds a whole document's nodes at once: 8 MiB of ``{a,a,…}`` took 2.7 GB and two minutes
    before its duplicate key refused it. Here a document may hold 50 nodes."""
    monkeypatch.setattr(limits, "MAX_DOCUMENT_NODES", 50)
    composed = []
    resolve = yaml_docs.CatalogLoader.resolve

    def counted(self, *node):
        composed.append(node)
        return resolve(self, *node)

    monkeypatch.setattr(yaml_docs.CatalogLoader, "resolve", counted)
    at_the_cap = "[" + ",".join(["0"] * 49) + "]"  # the sequence and its 49 values
    past_it = "[" + ",".join(["0"] * 10_000) + "]"
    documents, errors = load_documents(f"kind: A\n---\n{at_the_cap}\n---\n{past_it}\n---\nkind: C\n")
    assert [d.data for d in documents] == [{"kind": "A"}, [0] * 49, {"kind": "C"}]
    assert [(e.line, e.message) for e in errors] == [
        (4, "YAML error: the document holds more than 50 values, lists and maps: idp-tui reads no larger document")
    ]
    # Refused at its 51st node, in the stream and again in its own chunk: not after its 10,001 nodes.
    assert len(composed) < 250
    composed.clear()
    assert load_documents(past_it) == ([], [yaml_docs.YamlError(1, errors[0].message)])
    assert len(composed) == 51  # a file of one document is not read a second time for the same error


def test_a_remembered_scalar_resolves_as_the_first_time_and_still_notes_what_yaml_1_1_reads_otherwise():
    text = "kind: ConfigMap\ndata:\n  debug: on\n  port: 8080\n  name: web\n"
    first = yaml_docs.load_stream(text, kubectl_view=True).documents[0]
    again = yaml_docs.load_stream(text, kubectl_view=True).documents[0]  # every scalar now remembered
    for document in (first, again):
        assert document.data == {"kind": "ConfigMap", "data": {"debug": "on", "port": 8080, "name": "web"}}
        assert document.yaml11_scalar == "on"
    # The catalog's own reading notes nothing, remembered or not.
    assert yaml_docs.load_stream(text).documents[0].yaml11_scalar is None


def test_scalars_remembered_are_short_and_bounded_in_number():
    many = "\n".join(f"k{index}: v{index}" for index in range(yaml_docs._PLAIN_SCALARS_KEPT + 10))
    long_value = "x" * (yaml_docs._PLAIN_SCALAR_KEPT_CHARS + 1)
    load_documents(f"{many}\nlong: {long_value}\n")
    assert len(yaml_docs._PLAIN_SCALARS) <= yaml_docs._PLAIN_SCALARS_KEPT
    assert long_value not in yaml_docs._PLAIN_SCALARS
