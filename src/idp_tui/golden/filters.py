"""Template filters: Backstage's own four plus nunjucks' built-ins where they differ from Jinja2's."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from jinja2 import Undefined
from jinja2 import filters as jinja_filters

from ..catalog.refs import EntityRefError, parse_ref
from . import budget
from .js_values import bounded_join, js_json_dumps, js_string, js_truthy
from .sandbox import JsUndefined

# What a JavaScript filter returns for "nothing": prints empty, and drops the key of a typed value.
undefined = JsUndefined()


class FilterError(ValueError):
    """A filter given input it cannot handle (shown as the expression's error)."""


def parse_repo_url(value: Any) -> dict[str, str]:
    """``parseRepoUrl``: ``github.com?owner=o&repo=r`` -> ``{host, owner, repo}``."""
    from .repo_url import parse_repo_url as parse

    return parse(js_string(value))


def project_slug(value: Any) -> str:
    """``projectSlug``: ``owner/repo`` of a repository picker value."""
    spec = parse_repo_url(value)
    return f"{spec.get('owner', 'undefined')}/{spec.get('repo', 'undefined')}"


def parse_entity_ref(value: Any, defaults: Any = None) -> dict[str, str]:
    """``parseEntityRef``: the kind, namespace and name of a ref (spelling kept), with optional defaults."""
    options = defaults if isinstance(defaults, dict) else {}
    if isinstance(value, dict):
        value = f"{value.get('kind', '')}:{value.get('namespace', 'default')}/{value.get('name', '')}"
    try:
        ref = parse_ref(js_string(value), options.get("defaultKind"), options.get("defaultNamespace"))
    except EntityRefError as error:
        raise FilterError(str(error)) from None
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


_PATH_PART = re.compile(r"[^.\[\]]+|\[(?:(\d+)|[\"'](.*?)[\"'])\]")
# Longer paths are no real lookup, and ``[\"...`` repeated makes the path regex quadratic.
_MAX_PICK_PATH = 10_000


def pick(value: Any, path: Any) -> Any:
    """``pick`` (lodash ``get``): the value at a dotted path such as ``metadata.name`` or ``items[0]``."""
    current = value
    path = js_string(path)
    if len(path) > _MAX_PICK_PATH:
        raise FilterError(f"pick: a path of {len(path)} characters is longer than {_MAX_PICK_PATH}")
    for match in _PATH_PART.finditer(path):
        key: Any = match.group(1) or match.group(2) or match.group(0)
        if isinstance(current, list | tuple) and str(key).isdigit():
            index = int(key)
            current = current[index] if index < len(current) else undefined
        elif isinstance(current, dict):
            current = current.get(key)
        else:
            return undefined
        if current is None:
            return undefined
    return current


def dump(value: Any, indent: Any = None) -> str:
    """``dump``: ``JSON.stringify``; undefined prints nothing."""
    return js_json_dumps(value, indent if isinstance(indent, int | str) else None) or ""


def js_join(value: Any, separator: Any = "", attribute: Any = None) -> str:
    """``join`` with JavaScript's rules for printing each item."""
    items = [value] if isinstance(value, str | dict) or not hasattr(value, "__iter__") else list(value)
    if attribute is not None:
        items = [item.get(attribute) if isinstance(item, dict) else None for item in items]
    return bounded_join(js_string(separator), (js_string([item]) for item in items))


def js_int(value: Any, default: Any = undefined, base: int = 10) -> Any:
    """``int`` as ``parseInt``: leading digits count, anything else gives the default."""
    match = re.match(r"\s*[-+]?\d+", js_string(value))
    return int(match.group(0), base) if match else default


def js_float(value: Any, default: Any = undefined) -> Any:
    """``float`` as ``parseFloat``."""
    match = re.match(r"\s*[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?|Infinity)", js_string(value), re.I)
    return float(match.group(0)) if match else default


def js_length(value: Any) -> int:
    """``length``: characters, items or object keys; 0 for undefined."""
    if isinstance(value, Undefined) or value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return 0


def js_list(value: Any) -> list:
    """``list``: characters of a string, ``{key, value}`` pairs of an object, items of a list."""
    if isinstance(value, str):
        budget.check_items(len(value))
        return list(value)
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    if isinstance(value, list | tuple):
        return list(value)
    raise FilterError("list filter: type not iterable")


def js_reverse(value: Any) -> Any:
    """``reverse``: a reversed string or a reversed copy of a list."""
    if isinstance(value, str):
        return value[::-1]
    return list(reversed(list(value)))


def js_title(value: Any) -> str:
    """``title``: each space-separated word capitalised."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in js_string(value).split(" "))


def js_indent(value: Any, width: Any = 4, first: Any = False) -> str:
    """``indent``: every line but the first (unless ``first``), blank lines included, as nunjucks does."""
    text = js_string(value)
    if text == "":
        return ""
    pad = " " * min(int(width), 1000)
    budget.check_length(len(text) + len(pad) * (text.count("\n") + 1))
    lines = text.split("\n")
    return "\n".join(line if index == 0 and not first else pad + line for index, line in enumerate(lines))


def js_truncate(value: Any, length: Any = 255, killwords: Any = False, end: Any = "...") -> str:
    """``truncate`` with nunjucks' rule: cut at the last space before ``length`` unless ``killwords``."""
    text = js_string(value)
    length = int(length)
    if len(text) <= length:
        return text
    if killwords:
        return text[:length] + js_string(end)
    cut = text.rfind(" ", 0, length + 1)  # lastIndexOf(" ", length) includes that position
    return (text[:length] if cut == -1 else text[:cut]) + js_string(end)


def js_urlencode(value: Any) -> str:
    """``urlencode``: ``encodeURIComponent`` of a string, or ``k=v&...`` of an object or pairs."""
    if isinstance(value, str):
        return quote(value, safe="-_.!~*'()")
    pairs = value.items() if isinstance(value, dict) else value
    return "&".join(f"{quote(js_string(k), safe='')}={quote(js_string(v), safe='')}" for k, v in pairs)


def js_groupby(value: Any, attribute: Any) -> dict[str, list]:
    """``groupby``: an object mapping each attribute value to the items that have it."""
    groups: dict[str, list] = {}
    for item in value or []:
        key = pick(item, attribute)
        groups.setdefault(js_string(key) if key is not None else "undefined", []).append(item)
    return groups


def js_round(value: Any, precision: Any = 0, method: Any = "common") -> float:
    """``round`` (common rounds half away from zero, like nunjucks, not to even like Python)."""
    precision = int(precision)
    # Math.pow(10, precision) is Infinity past 308 and 0 below -323: the result is then NaN in JavaScript.
    factor = 10**precision if precision <= 308 else math.inf
    if factor == 0 or math.isinf(factor):
        return math.nan
    scaled = float(value) * factor
    if method == "ceil":
        return math.ceil(scaled) / factor
    if method == "floor":
        return math.floor(scaled) / factor
    return math.copysign(math.floor(abs(scaled) + 0.5), scaled) / factor


def js_batch(value: Any, size: Any, fill: Any = None) -> list[list]:
    """``batch``: lists of ``size`` items; the last is padded only when ``fill`` is truthy."""
    items, size = list(value or []), int(size)
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    if js_truthy(fill) and batches and len(batches[-1]) < size:
        budget.check_items(size)
        batches[-1] += [fill] * (size - len(batches[-1]))
    return batches


def js_slice(value: Any, slices: Any, fill: Any = None) -> list[list]:
    """``slice``: ``slices`` columns, the first ones one longer when the items do not divide evenly."""
    items, slices = list(value or []), int(slices)
    budget.check_items(slices)
    per, extra = divmod(len(items), slices)
    columns, offset = [], 0
    for index in range(slices):
        size = per + (1 if index < extra else 0)
        column = items[offset : offset + size]
        offset += size
        if fill is not None and index >= extra and extra:
            column.append(fill)
        columns.append(column)
    return columns


def js_selectattr(value: Any, attribute: Any, *_: Any) -> list:
    """``selectattr``: items whose attribute is truthy (nunjucks ignores any test given after it)."""
    return [item for item in value or [] if isinstance(item, dict) and js_truthy(item.get(attribute))]


def js_rejectattr(value: Any, attribute: Any, *_: Any) -> list:
    """``rejectattr``: items whose attribute is falsy (nunjucks ignores any test given after it)."""
    return [item for item in value or [] if not (isinstance(item, dict) and js_truthy(item.get(attribute)))]


def _bounded_width(width: Any) -> int:
    if int(width) > budget.MAX_STRING_LENGTH:
        raise FilterError(f"width {width} is over the template output limit")
    return int(width)


def _string_filter(function: Callable[[str], str]) -> Callable[[Any], str]:
    return lambda value: function(js_string(value))


def js_replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    """``replace`` of every occurrence (or the first ``count``), sized before the new string is built."""
    text, old, new = js_string(value), js_string(old), js_string(new)
    limit = -1 if count is None else int(count)
    occurrences = text.count(old) if limit < 0 else min(limit, text.count(old))
    budget.check_length(len(text) + occurrences * (len(new) - len(old)))
    return text.replace(old, new, limit)


def template_filters() -> dict[str, Callable[..., Any]]:
    """Every filter a template can use, by name."""
    return {
        # Backstage's own filters.
        "parseRepoUrl": parse_repo_url,
        "parseEntityRef": parse_entity_ref,
        "pick": pick,
        "projectSlug": project_slug,
        # nunjucks built-ins.
        "abs": abs,
        "batch": js_batch,
        "capitalize": _string_filter(lambda s: s[:1].upper() + s[1:].lower()),
        "center": lambda value, width=80: js_string(value).center(_bounded_width(width)),
        "default": jinja_filters.do_default,
        "d": jinja_filters.do_default,
        "dictsort": lambda value, case_sensitive=False, by="key": [
            list(pair) for pair in jinja_filters.do_dictsort(value, case_sensitive, by)
        ],
        "dump": dump,
        "escape": jinja_filters.escape,
        "e": jinja_filters.escape,
        "forceescape": jinja_filters.do_forceescape,
        "first": lambda value: value[0] if len(value) else None,
        "last": lambda value: value[-1] if len(value) else None,
        "float": js_float,
        "groupby": js_groupby,
        "indent": js_indent,
        "int": js_int,
        "join": js_join,
        "length": js_length,
        "count": js_length,
        "list": js_list,
        "lower": _string_filter(str.lower),
        "nl2br": _string_filter(lambda s: s.replace("\r\n", "<br />\n").replace("\n", "<br />\n")),
        "replace": js_replace,
        "reverse": js_reverse,
        "round": js_round,
        "safe": jinja_filters.do_mark_safe,
        "slice": js_slice,
        "selectattr": js_selectattr,
        "rejectattr": js_rejectattr,
        "string": js_string,
        "striptags": _string_filter(lambda s: jinja_filters.do_striptags(s)),
        "title": js_title,
        "trim": _string_filter(str.strip),
        "truncate": js_truncate,
        "upper": _string_filter(str.upper),
        "urlencode": js_urlencode,
        "wordcount": _string_filter(lambda s: len(re.findall(r"\w+", s))),
    }
