"""``${{ }}`` expressions: Backstage's typing rules, its filters (the documentation's examples) and the sandbox."""

from __future__ import annotations

import pytest

from idp_tui.golden.expressions import UNDEFINED, TemplateEngine, TemplateRenderError

ENGINE = TemplateEngine()
CONTEXT = {
    "parameters": {
        "name": "invoice-svc",
        "port": 8080,
        "enabled": True,
        "tags": ["a", "b"],
        "owner": "group:techdocs",
        "shortOwner": "techdocs",
        "repoUrl": "github.com?repo=backstage&owner=backstage",
        "nested": {"db": {"engine": "postgres"}},
        "zip": "0123",
    },
    "steps": {"publish": {"output": {"remoteUrl": "https://github.com/o/r", "count": 2}}},
    "user": {"ref": "user:default/jdoe", "entity": {"metadata": {"name": "jdoe"}}},
}


def render(value):
    return ENGINE.render_input(value, CONTEXT)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${{ parameters.port }}", 8080),
        ("${{ parameters.enabled }}", True),
        ("${{ parameters.tags }}", ["a", "b"]),
        ("${{ parameters.nested }}", {"db": {"engine": "postgres"}}),
        ("${{ parameters.zip }}", "0123"),  # a string parameter stays a string even when it looks like a number
        ("port ${{ parameters.port }}", "port 8080"),
        ("${{ parameters.port }}${{ parameters.port }}", "80808080"),
        ("{% if parameters.enabled %}false{% endif %}", False),
        ('${{ "" }}', ""),
        ("${{ steps['publish'].output.remoteUrl }}", "https://github.com/o/r"),
        ("${{ steps.publish.output.count + 1 }}", 3),
        ("${{ user.ref }}", "user:default/jdoe"),
        ("${{ user.entity.metadata.name }}", "jdoe"),
        ("tags: ${{ parameters.tags }}", "tags: a,b"),
        ("${{ parameters.nested }}!", "[object Object]!"),
        ("${{ parameters.enabled }}!", "true!"),
        ("${{ 4 / 2 }}", 2),
        ('${{ "a" + 1 }}', "a1"),
        ('${{ "3" * 2 }}', 6),
        ('${{ "yes" if parameters.tags else "no" }}', "yes"),
        ("{% for t in parameters.tags %}${{ loop.index }}${{ t }}{% endfor %}", "1a2b"),
        ("${{ parameters.name.toUpperCase() }}", "INVOICE-SVC"),
        ('${{ parameters.name.split("-") }}', ["invoice", "svc"]),
        ("${{ parameters.name.length }}", 11),
        # JSON.parse refuses NaN and Infinity, so Backstage keeps the text; 1e400 and nesting past what can be
        # read stay text here too (never inf, never a RecursionError).
        ("{% if parameters.enabled %}NaN{% endif %}", "NaN"),
        ("{% if parameters.enabled %}-Infinity{% endif %}", "-Infinity"),
        ("{% if parameters.enabled %}1e400{% endif %}", "1e400"),
        ("{% if parameters.enabled %}" + "[" * 5000 + "]" * 5000 + "{% endif %}", "[" * 5000 + "]" * 5000),
    ],
)
def test_values_keep_their_type_only_when_the_string_is_one_expression(source, expected):
    assert render(source) == expected


def test_a_value_rendering_to_nothing_is_dropped_from_objects_and_null_in_lists():
    rendered = render({"a": "${{ parameters.missing }}", "b": "${{ parameters.nope.deeper }}", "c": ["${{ x }}", 1]})
    assert rendered == {"c": [None, 1]}
    assert render("${{ parameters.missing }}") is UNDEFINED


def test_a_string_that_fails_to_render_is_kept_as_written():
    assert render("${{ parameters.name | noSuchFilter }}") == "${{ parameters.name | noSuchFilter }}"
    assert render("${{ unclosed") == "${{ unclosed"
    with pytest.raises(TemplateRenderError):
        ENGINE.render_text("${{ unclosed", CONTEXT)


def test_object_keys_are_not_rendered():
    assert render({"${{ parameters.name }}": "x"}) == {"${{ parameters.name }}": "x"}


# The examples from Backstage's own filter documentation (plugin-scaffolder-backend's examples files).
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${{ parameters.repoUrl | parseRepoUrl }}", {"host": "github.com", "owner": "backstage", "repo": "backstage"}),
        ("${{ parameters.owner | parseEntityRef }}", {"kind": "group", "namespace": "default", "name": "techdocs"}),
        (
            '${{ parameters.shortOwner | parseEntityRef({ defaultKind:"group", defaultNamespace:"another-namespace" }) }}',
            {"kind": "group", "namespace": "another-namespace", "name": "techdocs"},
        ),
        ("${{ parameters.owner | parseEntityRef | pick('name') }}", "techdocs"),
        ("${{ parameters.repoUrl | projectSlug }}", "backstage/backstage"),
        ("${{ parameters.nested | pick('db.engine') }}", "postgres"),
    ],
)
def test_backstage_filters_match_their_documented_examples(source, expected):
    assert render(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${{ parameters.tags | join('-') }}", "a-b"),
        ("${{ parameters.tags | length }}", 2),
        ("${{ parameters.name | upper }}", "INVOICE-SVC"),
        ("${{ parameters.name | replace('-', '_') }}", "invoice_svc"),
        ("${{ parameters.missing | default('x') }}", "x"),
        ("${{ parameters.nested | dump }}", '{"db":{"engine":"postgres"}}'),
        ("${{ 'hello world' | title }}", "Hello World"),
        ("${{ 'The quick brown fox' | truncate(9) }}", "The quick..."),
        ("${{ 'a b' | urlencode }}", "a%20b"),
        ("${{ '12px' | int }}", 12),
        ("${{ [3, 1, 2] | sort }}", [1, 2, 3]),
        ("${{ [1, 2, 3, 4] | select('odd') }}", [1, 3]),
        ("${{ [1, 2, 3] | batch(2) }}", [[1, 2], [3]]),
        ("${{ 2.5 | round }}", 3),
    ],
)
def test_nunjucks_builtin_filters(source, expected):
    assert render(source) == expected


# Classic server-side template injection payloads. None may reach Python objects, the environment,
# the filesystem or unbounded memory: each renders to nothing, or fails and is kept as written.
PAYLOADS = [
    "${{ ''.__class__.__mro__[1].__subclasses__() }}",
    "${{ ''.__class__ }}",
    "${{ cycler.__init__.__globals__.os.environ }}",
    "${{ joiner.__init__.__globals__ }}",
    "${{ lipsum.__globals__['os'].popen('id').read() }}",
    "${{ namespace.__init__.__globals__ }}",
    "${{ self._TemplateReference__context }}",
    "${{ config.items() }}",
    "${{ request.application.__globals__ }}",
    "${{ parameters.__class__.__init__.__globals__ }}",
    "${{ parameters.name.__class__.__base__.__subclasses__() }}",
    "${{ ''.constructor.constructor('return process')() }}",
    "${{ range.constructor('return global.process.env')() }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends '/etc/passwd' %}",
    "${{ 'x' * 100000000 | length }}",
    "${{ range(100000000) | length }}",
    "${{ 9 ** 9 ** 9 }}",
    "${{ parameters.name.format.__globals__ }}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_template_injection_payloads_reach_nothing(payload, monkeypatch):
    monkeypatch.setenv("IDP_TUI_CANARY", "s3cret-canary")
    rendered = render({"value": payload})
    value = rendered.get("value")
    assert value in (None, payload) or value == "" or isinstance(value, int | float), value
    text = repr(rendered)
    for leak in ("s3cret-canary", "root:", "<class", "<module", "function", "built-in", "environ"):
        assert leak not in text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_skeleton_files_cannot_reach_python_either(payload):
    try:
        text = ENGINE.render_text(payload, CONTEXT)
    except TemplateRenderError:
        return
    assert "<class" not in text and "root:" not in text and "function" not in text


def test_typed_numbers_print_like_javascript():
    assert render("x${{ 10 ** 21 }}") == "x1e+21"
    assert render("x${{ 0.1 + 0.2 }}") == "x0.30000000000000004"
    assert render("x${{ 1.0 }}") == "x1"
    assert render("x${{ 0 / 0 }}") == "xNaN"
