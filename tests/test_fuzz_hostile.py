"""Property-based fuzzing of the two languages other people write for idp-tui: catalog YAML and ``${{ }}`` templates.

Whatever the document or expression, reading it never raises (a bad value is a problem with its file and line),
what is printed is valid JSON, and the output is bounded by the input (no expansion bombs). The number of
examples is fixed and the example database is off, so the suite is deterministic in length.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.golden.expressions import TemplateEngine, TemplateRenderError
from idp_tui.safe_text import clean

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Scalars and fragments an attacker reaches for: YAML tags, anchors and aliases, non-finite and huge numbers,
# placeholders pointing out of the catalog, escape sequences, null bytes, broken syntax.
HOSTILE_SCALARS = [
    ".nan",
    ".inf",
    "-.inf",
    "!!float abc",
    "!!int abc",
    "!!timestamp hello",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system ['touch /tmp/fuzz-pwned']",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "&self [*self]",
    "*nowhere",
    "9" * 5000,
    "0x" + "f" * 400,
    "1e999",
    '"\\e]52;c;SGVsbG8=\\a"',
    '"\\e[2J\\e]0;owned\\a"',
    '"\\x9b31m\\u202e"',
    '"\\0nul"',
    "{$text: /etc/passwd}",
    "{$text: /proc/self/environ}",
    "{$text: /dev/zero}",
    "{$json: ../../outside.json}",
    '{$yaml: "\\0"}',
    "{? [1, 2] : x}",
    "{? {a: 1} : x}",
    "{1.5: x, 2: y, null: z, true: w}",
    "[",
    "{a: 1, a: 2}",
    "'unterminated",
    "|\n  block",
    "~",
    "''",
]
IDENTIFIERS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
SCALAR = st.one_of(st.sampled_from(HOSTILE_SCALARS), IDENTIFIERS.map(json.dumps), st.integers().map(str))

ENTITY = textwrap.dedent(
    """\
    apiVersion: {api}
    kind: {kind}
    metadata:
      name: {name}
      title: {title}
      description: {description}
      annotations:
        {key}: {annotation}
      tags: [{tag}]
    spec:
      type: service
      lifecycle: {lifecycle}
      owner: {owner}
    """
)


@st.composite
def catalog_documents(draw) -> str:
    """A stream of one to three entity documents with hostile values in any field, sometimes mangled."""
    documents = []
    for _ in range(draw(st.integers(1, 3))):
        documents.append(
            ENTITY.format(
                api=draw(st.sampled_from(["backstage.io/v1alpha1", "backstage.io/v1beta1", "x", "{}", "[]", "1"])),
                kind=draw(st.sampled_from(["Component", "Group", "Location", "Template", "API", "1", "~"])),
                name=draw(st.one_of(st.just("svc"), SCALAR)),
                title=draw(SCALAR),
                description=draw(SCALAR),
                key=draw(st.one_of(st.just("backstage.io/techdocs-ref"), SCALAR)),
                annotation=draw(SCALAR),
                tag=draw(SCALAR),
                lifecycle=draw(SCALAR),
                owner=draw(st.one_of(st.just("team-a"), SCALAR)),
            )
        )
    text = "---\n".join(documents)
    # Now and then, bytes inserted anywhere: the parser must cope with whatever a broken editor leaves.
    for _ in range(draw(st.integers(0, 2))):
        position = draw(st.integers(0, len(text)))
        text = (
            text[:position]
            + draw(st.sampled_from(["\t", "\x00", "\ufeff", ": ", "- ", "&a ", "*a", "<<: "]))
            + text[position:]
        )
    return text


@FUZZ
@given(document=catalog_documents())
def test_any_catalog_document_loads_without_raising_and_prints_bounded_json(tmp_path_factory, document: str) -> None:
    root = tmp_path_factory.mktemp("fuzz-catalog")
    (root / "catalog-info.yaml").write_text(document, encoding="utf-8")
    (root / "good.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: fuzz-team}\nspec: {type: team, children: []}\n"
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()

    # The good file beside the bad one is always read.
    assert catalog.find("group:fuzz-team") is not None
    printed = json.dumps(
        [entity.to_json(catalog.relation_pairs(entity.key)) for entity in catalog.entities], allow_nan=False
    )
    assert len(printed) <= 20 * len(document) + 4000, "the printed catalog is out of proportion to its files"
    for problem in catalog.problems:
        assert Path(problem.path).name in {"catalog-info.yaml", "good.yaml"} or "outside" in problem.message
        assert problem.line >= 1
        assert clean(problem.message) == problem.message or "\x1b" not in clean(problem.message)


# ---- templates -------------------------------------------------------------------------------------------------

LITERALS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["1e308", "0.1", "'x'", "'-'", "''", "[1, 2, 3]", "{ a: 1 }", "null", "true", "'a' * 3"]),
    IDENTIFIERS.map(lambda s: json.dumps(s)),
)
NAMES = st.sampled_from(
    ["parameters.name", "parameters.items", "parameters.n", "values", "user.entity", "nothing.at.all", "loop"]
)
FILTERS = st.sampled_from(
    [
        "upper",
        "lower",
        "length",
        "join('-')",
        "join(parameters.name)",
        "replace('a', parameters.name)",
        "batch(3)",
        "round(2)",
        "round(1000000000)",
        "int",
        "float",
        "dump",
        "first",
        "reverse",
        "parseRepoUrl",
        "parseEntityRef",
        "projectSlug",
        "center(100000000)",
        "indent(100000000)",
        "truncate(3)",
        "default('d')",
        "list",
        "trim",
        "title",
    ]
)
METHODS = st.sampled_from(
    [".split('-')", ".toFixed(2)", ".toFixed(1000000000)", ".concat(parameters.name)", ".length", ".slice(1)"]
)


@st.composite
def expressions(draw, depth: int = 0) -> str:
    if depth > 3:
        return draw(st.one_of(LITERALS, NAMES))
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.one_of(LITERALS, NAMES))
    if kind == 1:
        return f"({draw(expressions(depth + 1))} | {draw(FILTERS)})"
    if kind == 2:
        operator = draw(st.sampled_from(["+", "-", "*", "/", "**", "~", "%", "//", "==", "and", "or"]))
        return f"({draw(expressions(depth + 1))} {operator} {draw(expressions(depth + 1))})"
    if kind == 3:
        return f"({draw(expressions(depth + 1))}){draw(METHODS)}"
    if kind == 4:
        return f"({draw(expressions(depth + 1))})[{draw(expressions(depth + 1))}]"
    return f"range({draw(st.integers(-5, 200_000))})"


@st.composite
def templates(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        expression = draw(expressions())
        shape = draw(st.integers(0, 4))
        if shape == 0:
            parts.append("${{ " + expression + " }}")
        elif shape == 1:
            parts.append(
                "{% for i in " + expression + " %}${{ i }}{% for j in range(100000) %}{% endfor %}{% endfor %}"
            )
        elif shape == 2:
            parts.append("{% if " + expression + " %}yes{% else %}no{% endif %}")
        elif shape == 3:
            parts.append(
                "{% set s = " + expression + " %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}${{ s }}"
            )
        else:
            parts.append(draw(IDENTIFIERS))
    return "".join(parts)


CONTEXT = {
    "parameters": {"name": "payment-processor", "items": ["a", "b", "c"], "n": 12},
    "values": {"name": "svc"},
    "user": {"entity": {"metadata": {"name": "jdoe"}}},
}
# What any render may produce at most: the engine's output budget (with room for JSON encoding of a value).
OUTPUT_LIMIT = 6_000_000


@FUZZ
@given(source=templates())
def test_any_template_renders_or_fails_cleanly_within_its_budget(source: str) -> None:
    engine = TemplateEngine()
    for render in (engine.render_text, engine.render_value):
        try:
            result = render(source, CONTEXT)
        except TemplateRenderError as error:
            assert str(error), "a render failure says why"
            continue
        assert len(json.dumps(result, default=str)) <= OUTPUT_LIMIT
    # Step inputs keep a failing string as written (Backstage's rule), still without raising.
    rendered = engine.render_input({"a": source, "b": [source]}, CONTEXT)
    assert len(json.dumps(rendered, default=str)) <= 3 * OUTPUT_LIMIT
