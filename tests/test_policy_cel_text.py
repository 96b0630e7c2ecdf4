"""CEL text rewrites (``idp_tui.policy.cel_text``): a field selected from a variable is read as an index, which the
engine does without copying the value, and the expression means exactly what it meant."""

from __future__ import annotations

import cel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp_tui.policy.cel_support import compile_expression
from idp_tui.policy.cel_text import fields_as_indexes


@pytest.mark.parametrize(
    ("source", "rewritten"),
    [
        ("object.spec.replicas > 1", 'object["spec"]["replicas"] > 1'),
        # A method or macro ends the chain; the element of a comprehension starts one.
        (
            "object.spec.containers.all(c, c.image.endsWith(':1'))",
            'object["spec"]["containers"].all(c, c["image"].endsWith(\':1\'))',
        ),
        # has() takes a selection: its last one stays.
        ("has(object.spec.replicas)", 'has(object["spec"].replicas)'),
        ("has(object.spec)", "has(object.spec)"),
        ("has((object.spec.replicas))", 'has((object["spec"].replicas))'),
        # A selection before `{` names a message type (a struct literal), not a field.
        ("object.Foo{x: 1}", "object.Foo{x: 1}"),
        # Only from a variable: a qualified function name, a string, an absolute name are left as written.
        ("strings.quote(params.data.x)", 'strings.quote(params["data"]["x"])'),
        ("'object.spec' + request.name", "'object.spec' + request[\"name\"]"),
        (".object.spec", ".object.spec"),
        ("foo.bar.baz", "foo.bar.baz"),
        # A field of the element after an index or a call is left as written (no copy of a map saved there).
        ("object.spec.containers[0].image", 'object["spec"]["containers"][0].image'),
        ("idp_tui_variable__podSpec.containers", 'idp_tui_variable__podSpec["containers"]'),
    ],
)
def test_fields_read_from_a_variable_become_indexes(source, rewritten):
    assert fields_as_indexes(source) == rewritten


def test_a_compiled_expression_runs_its_indexed_form_and_keeps_its_source():
    compiled = compile_expression("object.spec.template.spec.containers.all(c, has(c.readinessProbe))")
    assert compiled.hoisted == 'object["spec"]["template"]["spec"]["containers"].all(c, has(c.readinessProbe))'
    assert compiled.source == "object.spec.template.spec.containers.all(c, has(c.readinessProbe))"


def test_an_expression_whose_rewrite_would_not_compile_runs_as_written(monkeypatch):
    from idp_tui.policy import cel_support

    monkeypatch.setattr(cel_support, "fields_as_indexes", lambda text: text + " +")  # no longer CEL
    compiled = compile_expression("has(object.spec)")
    assert (compiled.error, compiled.hoisted) == ("", "has(object.spec)")
    assert compiled.program.execute(cel.Context(variables={"object": {"spec": {}}})) is True


# Documents of every JSON type, keys from a small set so that paths often exist and sometimes do not.
KEYS = ("a", "b", "spec", "name")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "x", "a"]))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)
chains = st.lists(st.sampled_from(KEYS), min_size=1, max_size=4).map(lambda keys: "." + ".".join(keys))


@st.composite
def expressions(draw):
    """An expression reading ``object`` and ``params`` through field chains, in the shapes policies use."""
    root = draw(st.sampled_from(["object", "params"]))
    chain = root + draw(chains)
    other = draw(st.sampled_from(["object", "params"])) + draw(chains)
    element = "x" + draw(chains)
    shapes = [
        chain,
        f"has({chain})",
        f"has(({chain}))",
        f"{chain} == {other}",
        f"{chain}.size()",
        f"{chain}.all(x, has({element}) || {element} == 1)",
        f"{chain}.exists(x, {element} == 'a')",
        f"{chain}.map(x, {element})",
        f"has({chain}) ? {chain} : {other}",
        f"'a' in {chain}",
        f"[{chain}].map(x, {element})[0]",
    ]
    return draw(st.sampled_from(shapes))


def _outcome(source: str, context) -> tuple:
    try:
        return ("value", cel.compile(source).execute(context))
    except Exception as error:  # noqa: BLE001 - the failure itself is compared
        return ("error", type(error).__name__, str(error))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, params=documents, expression=expressions())
def test_the_indexed_form_gives_the_same_value_or_the_same_error(document, params, expression):
    rewritten = fields_as_indexes(expression)
    context = cel.Context(variables={"object": document, "params": params})
    assert _outcome(rewritten, context) == _outcome(expression, context)
