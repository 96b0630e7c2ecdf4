"""Field formats Backstage's ``FieldFormatEntityPolicy`` enforces (Kubernetes-style names and keys).

Each check returns a list of ``(field path, message)``; an empty list means the entity passes.
Validity of label/annotation keys and tags is memoised: a catalog repeats the same few keys
thousands of times, and this check runs on every entity of a cold load.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

FieldPath = tuple[Any, ...]

_DNS_LABEL = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*")
_OBJECT_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_KIND = re.compile(r"[a-zA-Z][a-z0-9A-Z]*")
_API_VERSION_SUFFIX = re.compile(r"[a-z0-9A-Z]+")
_TAG = re.compile(r"[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(?=:)")
# Schemes the WHATWG URL parser (``new URL`` in Backstage) treats as "special": they need a host.
_SPECIAL_SCHEMES = {"http", "https", "ws", "wss", "ftp"}
_FORBIDDEN_HOST = re.compile(r"[\x00\t\n\r #/:<>?@\[\\\]^|]")
_FORBIDDEN_DOMAIN = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")

OBJECT_NAME_RULE = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
DNS_LABEL_RULE = "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
PREFIX_SUFFIX_RULE = "a valid prefix and/or suffix"
TAG_RULE = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
KIND_RULE = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"


def is_dns_label(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and _DNS_LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 253 and all(map(is_dns_label, value.split(".")))


def is_object_name(value: Any) -> bool:
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
    return _prefix_and_or_suffix(value, is_dns_subdomain, _api_version_suffix)


@lru_cache(maxsize=1024)
def is_kind(value: str) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and _KIND.fullmatch(value) is not None


@lru_cache(maxsize=None)
def is_qualified_key(value: str) -> bool:
    """Label and annotation keys: ``[dns-subdomain/]object-name``."""
    return _prefix_and_or_suffix(value, is_dns_subdomain, is_object_name)


@lru_cache(maxsize=16384)
def is_label_value(value: Any) -> bool:
    return value == "" or is_object_name(value)


@lru_cache(maxsize=None)
def is_tag(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and _TAG.fullmatch(value) is not None


def is_url(value: Any) -> bool:
    """Whether ``new URL(value)`` succeeds: the WHATWG URL parser's failures, without its normalisation."""
    if not isinstance(value, str):
        return False
    # The parser trims C0 controls and spaces at both ends and drops tabs and newlines anywhere.
    value = re.sub(r"[\t\n\r]", "", value.strip("".join(map(chr, range(0x21)))))
    scheme = _URL_SCHEME.match(value)
    if scheme is None:
        return False
    rest = value[scheme.end() + 1 :]
    if scheme[0].lower() in _SPECIAL_SCHEMES:
        # Any run of slashes or backslashes (even none) may come before the host of a special URL.
        authority = re.split(r"[/\\?#]", rest.lstrip("/\\"), maxsplit=1)[0]
        return _is_authority(authority, special=True)
    if scheme[0].lower() != "file" and rest.startswith("//"):
        return _is_authority(re.split(r"[/?#]", rest[2:], maxsplit=1)[0], special=False)
    return True


def _is_authority(authority: str, special: bool) -> bool:
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):
        host, bracket, port = host_port[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return False
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return _is_port(port[1:])
    host, _, port = host_port.partition(":")
    if not _is_port(port):
        return False
    if not special:
        return _FORBIDDEN_HOST.search(host) is None
    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        return False
    if not host or _FORBIDDEN_DOMAIN.search(host):
        return False
    return _is_ipv4(host) if _ends_in_number(host) else True


def _is_port(port: str) -> bool:
    return port == "" or (port.isascii() and port.isdigit() and int(port) <= 65535)


def _ends_in_number(host: str) -> bool:
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    return _IPV4_PART.fullmatch(labels[-1]) is not None


def _is_ipv4(host: str) -> bool:
    """A host that ends in a number must be an IPv4 address (each part decimal, octal or hex)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return False
    try:
        numbers = [_ipv4_number(part) for part in parts]
    except ValueError:
        return False
    return all(number <= 255 for number in numbers[:-1]) and numbers[-1] < 256 ** (5 - len(numbers))


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


def is_non_empty_string(value: Any) -> bool:
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
        require(
            "metadata.namespace", ("metadata", "namespace"), metadata["namespace"], is_dns_label, DNS_LABEL_RULE
        )
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

