"""Field formats Backstage's ``FieldFormatEntityPolicy`` enforces (Kubernetes-style names and keys).

:func:`field_formats_ok` answers "all fine?" cheaply for the cold-load hot path; only when it says no does
:func:`field_format_problems` build the messages. Validity of label/annotation keys, tags and link URLs is
memoised: a catalog repeats the same few keys thousands of times.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

FieldPath = tuple[Any, ...]

_DNS_LABEL = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")
_OBJECT_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_KIND = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_API_VERSION_SUFFIX = re.compile(r"[a-z0-9A-Z]+")
_TAG = re.compile(r"[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*")

OBJECT_NAME_RULE = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
DNS_LABEL_RULE = "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
PREFIX_SUFFIX_RULE = "a valid prefix and/or suffix"
TAG_RULE = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
KIND_RULE = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"


def is_dns_label(value: Any) -> bool:
    """Whether ``value`` is a DNS label (a namespace): ``[a-z0-9]`` runs joined by dashes, 1 to 63 characters."""
    return isinstance(value, str) and 1 <= len(value) <= 63 and _DNS_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: Any) -> bool:
    """Whether ``value`` is dot-separated DNS labels, at most 253 characters (the prefix of a key)."""
    return isinstance(value, str) and 1 <= len(value) <= 253 and all(map(is_dns_label, value.split(".")))


def is_object_name(value: Any) -> bool:
    """Whether ``value`` is a valid name: :data:`OBJECT_NAME_RULE`."""
    return isinstance(value, str) and 1 <= len(value) <= 63 and _OBJECT_NAME.fullmatch(value) is not None


def _prefix_and_or_suffix(value: Any, prefix_ok, suffix_ok) -> bool:
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return suffix_ok(parts[0])
    return len(parts) == 2 and prefix_ok(parts[0]) and suffix_ok(parts[1])


def _api_version_suffix(value: str) -> bool:
    return 1 <= len(value) <= 63 and _API_VERSION_SUFFIX.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def is_api_version(value: str) -> bool:
    """Whether ``value`` is ``[dns-subdomain/]version``, as ``backstage.io/v1alpha1`` is."""
    return _prefix_and_or_suffix(value, is_dns_subdomain, _api_version_suffix)


@lru_cache(maxsize=1024)
def is_kind(value: str) -> bool:
    """Whether ``value`` is a kind: :data:`KIND_RULE`."""
    return isinstance(value, str) and 1 <= len(value) <= 63 and _KIND.fullmatch(value) is not None


@cache
def is_qualified_key(value: str) -> bool:
    """Label and annotation keys: ``[dns-subdomain/]object-name``."""
    return _prefix_and_or_suffix(value, is_dns_subdomain, is_object_name)


@lru_cache(maxsize=16384)
def is_label_value(value: Any) -> bool:
    """Whether ``value`` is a label value: empty, or a valid name."""
    return value == "" or is_object_name(value)


@cache
def is_tag(value: Any) -> bool:
    """Whether ``value`` is a tag: ``[a-z0-9:+#]`` runs joined by single dashes, 1 to 63 characters."""
    return isinstance(value, str) and 1 <= len(value) <= 63 and _TAG.fullmatch(value) is not None


@lru_cache(maxsize=16384)
def _parses_as_url(value: str) -> bool:
    import ada_url

    return ada_url.check_url(value)


def is_url(value: Any) -> bool:
    """Whether ``new URL(value)`` succeeds in Backstage's Node.js, whose URL parser is Ada (WHATWG URL)."""
    return isinstance(value, str) and _parses_as_url(value)


def is_non_empty_string(value: Any) -> bool:
    """Whether ``value`` is a string with something other than whitespace in it."""
    return isinstance(value, str) and len(value.strip()) >= 1


def _hashable(check):
    """Call a memoised check only with hashable values (a YAML list as a key would break the cache)."""

    def guarded(value: Any) -> bool:
        try:
            return check(value)
        except TypeError:
            return False

    return guarded


_api_version_ok = _hashable(is_api_version)
_kind_ok = _hashable(is_kind)
_qualified_key_ok = _hashable(is_qualified_key)
_label_value_ok = _hashable(is_label_value)
_tag_ok = _hashable(is_tag)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _invalid(field: str, value: Any, rule: str | None) -> str:
    expectation = f' expected {rule} but found "{value}".' if rule else ""
    return f'"{field}" is not valid;{expectation}'


def field_formats_ok(entity: dict[str, Any]) -> bool:
    """True when :func:`field_format_problems` would find nothing (for an entity that passed its schema)."""
    metadata = entity["metadata"]
    if not (_api_version_ok(entity["apiVersion"]) and _kind_ok(entity["kind"]) and is_object_name(metadata["name"])):
        return False
    namespace = metadata.get("namespace")
    if namespace is not None and not is_dns_label(namespace):
        return False
    for key, value in (metadata.get("labels") or {}).items():
        if not (_qualified_key_ok(key) and _label_value_ok(value)):
            return False
    for key in metadata.get("annotations") or ():
        if not _qualified_key_ok(key):
            return False  # values are strings: the schema checked them
    for tag in metadata.get("tags") or ():
        if not _tag_ok(tag):
            return False
    for link in metadata.get("links") or ():
        if not is_url(link.get("url")):
            return False
        for optional in ("title", "icon"):
            value = link.get(optional)
            if value is not None and not is_non_empty_string(value):
                return False
    return True


def field_format_problems(entity: dict[str, Any]) -> list[tuple[FieldPath, str]]:
    """Every field-format violation in an entity, each with the path of the offending field."""
    problems: list[tuple[FieldPath, str]] = []

    def require(field: str, path: FieldPath, value: Any, check, rule: str | None) -> None:
        if value is None:
            problems.append((path, f"{field} must have a value"))
        elif not check(value):
            problems.append((path, _invalid(field, value, rule)))

    metadata = entity.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    require("apiVersion", ("apiVersion",), entity.get("apiVersion"), _api_version_ok, PREFIX_SUFFIX_RULE)
    require("kind", ("kind",), entity.get("kind"), _kind_ok, KIND_RULE)
    require("metadata.name", ("metadata", "name"), metadata.get("name"), is_object_name, OBJECT_NAME_RULE)
    if metadata.get("namespace") is not None:
        require("metadata.namespace", ("metadata", "namespace"), metadata["namespace"], is_dns_label, DNS_LABEL_RULE)
    labels = metadata.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            path = ("metadata", "labels", key)
            require(f"labels.{key}", path, key, _qualified_key_ok, PREFIX_SUFFIX_RULE)
            require(f"labels.{key}", path, value, _label_value_ok, OBJECT_NAME_RULE)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            path = ("metadata", "annotations", key)
            require(f"annotations.{key}", path, key, _qualified_key_ok, PREFIX_SUFFIX_RULE)
            require(f"annotations.{key}", path, value, _is_string, "a string")
    tags = metadata.get("tags")
    if isinstance(tags, list):
        for index, tag in enumerate(tags):
            require(f"tags.{index}", ("metadata", "tags", index), tag, _tag_ok, TAG_RULE)
    links = metadata.get("links")
    if isinstance(links, list):
        for index, link in enumerate(links):
            link = link if isinstance(link, dict) else {}
            path = ("metadata", "links", index)
            require(f"links.{index}.url", path + ("url",), link.get("url"), is_url, "a string that is a valid url")
            for optional in ("title", "icon"):
                if optional in link and link[optional] is not None:
                    require(
                        f"links.{index}.{optional}",
                        path + (optional,),
                        link[optional],
                        is_non_empty_string,
                        "a non empty string",
                    )
    return problems
