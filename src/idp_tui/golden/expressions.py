"""``${{ }}`` templates rendered the way Backstage's scaffolder renders them.

Two entry points mirror Backstage's two uses of its engine:

- :meth:`TemplateEngine.render_text` for skeleton files and file names: plain text out.
- :meth:`TemplateEngine.render_input` for step inputs, ``if``, ``each`` and the template output: each string is
  rendered with JSON coercion, so a string that is exactly one expression keeps its type (``${{ parameters.port }}``
  stays the number 8080), a whole-value ``{% if %}`` that prints ``false`` becomes a boolean, and a value that
  renders to nothing is dropped. A string whose rendering fails is kept as written, as Backstage does.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError as JinjaTemplateError
from jinja2 import TemplateSyntaxError, nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import SecurityError
from jinja2.visitor import NodeTransformer

from ..strict_json import loads_strict
from . import budget
from .budget import BudgetExceeded
from .compile_cache import CompiledCache
from .filters import FilterError, template_filters
from .js_values import js_string, js_truthy
from .sandbox import (
    RESERVED_NAMES,
    JsUndefined,
    ScaffolderSandbox,
    budgeted_filter,
    budgeted_loop,
    template_global,
    tilde_join,
)

# Sentinel for "renders to undefined": the key is dropped from the surrounding object.
UNDEFINED: Any = type("Unset", (), {"__repr__": lambda self: "UNDEFINED", "__bool__": lambda self: False})()

# Jinja2 filters whose behaviour already matches nunjucks' (they need Jinja's evaluation context).
_JINJA_COMPATIBLE_FILTERS = ("sort", "sum", "random")


class TemplateRenderError(ValueError):
    """A template that cannot be rendered: a syntax error, an unsafe operation or a failing filter."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line
        self.reason = message


def _safe_range(*args: int) -> list[int]:
    if len(args) > 3 or any(not isinstance(a, int) for a in args):
        raise FilterError("range() takes up to three integers")
    result = range(*args)
    if len(result) > 100_000:
        raise SecurityError("range() is limited to 100000 items in templates")
    return list(result)


_TRUTHY = "js_truthy__"
_LOOP = "budgeted_loop__"
_TILDE = "tilde_join__"


def _finalize(value: Any) -> str:
    budget.tick()
    return js_string(value)


def _tested(env: ScaffolderSandbox, *, keep: bool):
    """``select``/``reject``: items passing a named test (truthiness when none is named)."""

    def apply(value: Any, test: str | None = None, *args: Any) -> list:
        check = js_truthy if test is None else (lambda item: env.call_test(test, item, args))
        return [item for item in value or [] if bool(check(item)) == keep]

    return apply


class Cycler:
    """nunjucks' ``cycler(a, b, ...)``: ``next()`` returns the items in turn."""

    def __init__(self, *items: Any) -> None:
        self.items, self.position = list(items), -1

    def template_attribute(self, name: str) -> Any:
        """What ``cycler.<name>`` is in a template: ``next``, ``reset`` or ``current``; ``None`` else."""
        if name == "next":
            return self._next
        if name == "reset":
            return self._reset
        if name == "current":
            return self.items[self.position] if self.position >= 0 else None
        return None

    def _next(self) -> Any:
        self.position = (self.position + 1) % len(self.items) if self.items else -1
        return self.items[self.position] if self.items else None

    def _reset(self) -> None:
        self.position = -1


class Joiner:
    """nunjucks' ``joiner(sep)``: calling it returns "" the first time and ``sep`` afterwards."""

    __idp_template_global__ = True

    def __init__(self, separator: str = ",") -> None:
        self.separator, self.used = separator, False

    def __call__(self) -> str:
        if not self.used:
            self.used = True
            return ""
        return self.separator


def _new_environment(*, cookiecutter: bool, trim_blocks: bool, lstrip_blocks: bool, newline: str) -> ScaffolderSandbox:
    env = ScaffolderSandbox(
        newline_sequence=newline,
        trim_blocks=trim_blocks,
        lstrip_blocks=lstrip_blocks,
        variable_start_string="{{" if cookiecutter else "${{",
        variable_end_string="}}",
        keep_trailing_newline=True,
        autoescape=False,
        undefined=JsUndefined,
        finalize=_finalize,
    )
    # Only data and the allow-listed helpers: Jinja's own globals (lipsum, cycler, joiner, namespace, dict)
    # are removed so templates cannot reach Python objects through them.
    env.globals.clear()
    env.globals["range"] = template_global(_safe_range)
    env.filters.clear()
    env.filters.update({name: JINJA_FILTERS[name] for name in _JINJA_COMPATIBLE_FILTERS})
    env.filters.update(template_filters())
    env.filters["select"] = _tested(env, keep=True)
    env.filters["reject"] = _tested(env, keep=False)
    env.filters[_TRUTHY] = js_truthy
    env.filters[_TILDE] = tilde_join
    env.globals["cycler"] = template_global(Cycler)
    env.globals["joiner"] = template_global(Joiner)
    if cookiecutter:
        env.filters["jsonify"] = env.filters["dump"]
    # Every filter checks the clock and the size of what it built; loops count their turns.
    env.filters = {name: budgeted_filter(function) for name, function in env.filters.items()}
    env.filters[_LOOP] = budgeted_loop
    return env


class TemplateEngine:
    """Renders Backstage template strings in a sandbox; safe to share between threads."""

    def __init__(
        self, *, cookiecutter: bool = False, trim_blocks: bool = False, lstrip_blocks: bool = False, newline: str = "\n"
    ) -> None:
        self._options = {"cookiecutter": cookiecutter, "trim_blocks": trim_blocks, "lstrip_blocks": lstrip_blocks}
        self._newline = newline
        self._env = _new_environment(**self._options, newline=newline)
        self._windows: TemplateEngine | None = None
        self._compile = CompiledCache(self._compile_uncached)

    def has_expression(self, source: str) -> bool:
        """Whether ``source`` contains anything to render (cheap check to skip plain strings)."""
        return self._env.variable_start_string in source or "{%" in source or "{#" in source

    def render_text(self, source: str, context: dict[str, Any]) -> str:
        """Render ``source`` to text (skeleton contents and names).

        Raises:
            TemplateRenderError: syntax errors, unsafe operations, failing filters.
        """
        if not self.has_expression(source):
            return source
        if "\r\n" in source and self._newline == "\n":
            # Jinja2 rewrites every line ending to one sequence; a CRLF file keeps CRLF, as in Backstage.
            if self._windows is None:
                self._windows = TemplateEngine(**self._options, newline="\r\n")
            return self._windows.render_text(source, context)
        with budget.render_budget():
            template, _ = self._compile(source)
            return self._run(template, context)

    def render_value(self, source: str, context: dict[str, Any]) -> Any:
        """Render one string with Backstage's JSON coercion; :data:`UNDEFINED` when it renders to nothing.

        Raises:
            TemplateRenderError: as :meth:`render_text`.
        """
        with budget.render_budget():
            return self._render_value(source, context)

    def _render_value(self, source: str, context: dict[str, Any]) -> Any:
        template, typed = self._compile(source)
        if typed is None:
            text = self._run(template, context)
            return UNDEFINED if text == "" else text
        encoded = self._run(typed, context)
        if encoded == "":
            return UNDEFINED
        try:
            # As Backstage's JSON.parse: NaN and Infinity (and, here, 1e400 and nesting past the recursion limit)
            # are not values, so the rendered text is kept.
            return loads_strict(encoded)
        except ValueError:
            text = self._run(template, context)
            return UNDEFINED if text == "" else text

    def render_input(self, value: Any, context: dict[str, Any]) -> Any:
        """Render every string inside ``value`` (a step's input, ``if``, ``each``, the output).

        Object keys are not rendered. A string that fails to render is kept unchanged, as Backstage does.
        Strings rendering to nothing disappear from objects and become None in lists. All the strings share one
        render budget; one that goes over it is kept too, and the budget is recorded on the step (which fails).
        """
        with budget.render_budget():
            return self._render_input(value, context)

    def _render_input(self, value: Any, context: dict[str, Any]) -> Any:
        if isinstance(value, str):
            try:
                return self._render_value(value, context)
            except TemplateRenderError:
                return value
        if isinstance(value, dict):
            rendered = {key: self._render_input(item, context) for key, item in value.items()}
            return {key: item for key, item in rendered.items() if item is not UNDEFINED}
        if isinstance(value, list):
            return [None if item is UNDEFINED else item for item in (self._render_input(i, context) for i in value)]
        return value

    def check_syntax(self, source: str) -> None:
        """Raise TemplateRenderError if ``source`` does not parse (for template validation)."""
        if self.has_expression(source):
            self._compile(source)

    def _compile_uncached(self, source: str) -> tuple[Any, Any]:
        try:
            budget.check_tags(source, self._env.variable_start_string)
            tree = self._parse(source)
            template = self._env.from_string(tree)
            typed = self._typed_variant(source)
        except JinjaTemplateError as error:
            raise TemplateRenderError(_describe(error), getattr(error, "lineno", None)) from None
        except BudgetExceeded as error:
            raise TemplateRenderError(str(error)) from None
        except RecursionError:
            raise TemplateRenderError("the template is nested too deeply") from None
        except (ValueError, SyntaxError) as error:  # a source Python cannot compile
            raise TemplateRenderError(f"cannot compile the template: {type(error).__name__}") from None
        budget.tick()  # compiling a big template counts against the render's time
        return template, typed

    def _typed_variant(self, source: str) -> Any:
        """The template with every printed expression JSON-encoded, when ``source`` is one root node.

        Backstage coerces only templates whose root is a single expression or a single statement; text next to
        an expression makes the whole value a string.
        """
        tree = self._parse(source)
        root = [node for node in tree.body if not _is_empty_text(node)]
        if len(root) != 1 or _root_children(root[0]) != 1:
            return None
        if isinstance(root[0], nodes.Output) and isinstance(root[0].nodes[0], nodes.TemplateData):
            return None
        for output in tree.find_all(nodes.Output):
            output.nodes = [
                child if isinstance(child, nodes.TemplateData) else nodes.Filter(child, "dump", [], [], None, None)
                for child in output.nodes
            ]
        return self._env.from_string(tree)

    def _parse(self, source: str) -> nodes.Template:
        """Parse with nunjucks' literal rules: ``{ key: 1 }`` has a string key, ``null`` is None."""
        return _NunjucksLiterals().visit(self._env.parse(source))

    def _run(self, template: Any, context: dict[str, Any]) -> str:
        try:
            text = template.render(context)
            budget.charge_output(len(text))
            return text
        except BudgetExceeded as error:
            raise TemplateRenderError(str(error)) from None
        except RecursionError:
            raise TemplateRenderError("the template recursed too deeply") from None
        except (JinjaTemplateError, FilterError, SecurityError, TypeError, ValueError, ArithmeticError) as error:
            raise TemplateRenderError(_describe(error), getattr(error, "lineno", None)) from None
        except Exception as error:  # noqa: BLE001 - a filter's own error (parseRepoUrl on a bad URL) fails the render
            raise TemplateRenderError(str(error) or type(error).__name__) from None


class _NunjucksLiterals(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.For:
        # Every loop counts its turns against the render's budget (nested range() loops run forever otherwise).
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        # ``a ~ b`` compiles to a join the sandbox never sees: make it a filter that checks the size first.
        self.generic_visit(node)
        return nodes.Filter(nodes.List(node.nodes, lineno=node.lineno), _TILDE, [], [], None, None, lineno=node.lineno)

    def visit_Pair(self, node: nodes.Pair) -> nodes.Pair:
        if isinstance(node.key, nodes.Name):
            node.key = nodes.Const(node.key.name, lineno=node.key.lineno)
        node.value = self.visit(node.value)
        return node

    def visit_CondExpr(self, node: nodes.CondExpr) -> nodes.CondExpr:
        # JavaScript truthiness ([] and {} are true) and an empty string when there is no else.
        self.generic_visit(node)
        node.test = nodes.Filter(node.test, _TRUTHY, [], [], None, None, lineno=node.lineno)
        if node.expr2 is None:
            node.expr2 = nodes.Const("", lineno=node.lineno)
        return node

    def visit_If(self, node: nodes.If) -> nodes.If:
        self.generic_visit(node)
        node.test = nodes.Filter(node.test, _TRUTHY, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Name(self, node: nodes.Name) -> nodes.Node:
        if node.name in RESERVED_NAMES:
            raise TemplateSyntaxError(f"{node.name} is a reserved name", node.lineno)
        if node.name == "self" and node.ctx == "load":
            # Jinja2's reference to the template itself; nunjucks has no such name (undefined).
            return nodes.Name("undefined__", "load", lineno=node.lineno)
        if node.name == "null" and node.ctx == "load":
            return nodes.Const(None, lineno=node.lineno)
        return node


def _root_children(node: nodes.Node) -> int:
    # nunjucks makes every text run and every ${{ }} its own root child; Jinja2 groups them in one Output.
    if isinstance(node, nodes.Output):
        return sum(1 for child in node.nodes if not _is_empty_text(child))
    return 1


def _is_empty_text(node: nodes.Node) -> bool:
    if isinstance(node, nodes.TemplateData):
        return node.data == ""
    return isinstance(node, nodes.Output) and all(_is_empty_text(child) for child in node.nodes)


def _describe(error: Exception) -> str:
    if isinstance(error, SecurityError):
        return f"not allowed in templates: {error}"
    if isinstance(error, JinjaTemplateError):
        return error.message or type(error).__name__
    return str(error) or type(error).__name__
