"""Which Kubernetes objects belong to a catalog entity, by Backstage's rules, and label selector matching.

Backstage's rules, as read from its Kubernetes plugins:

- ``plugins/kubernetes-backend/src/service/KubernetesFanOutHandler.ts``: the entity's id is the
  ``backstage.io/kubernetes-id`` annotation ``||`` ``metadata.name``; the label selector is the
  ``backstage.io/kubernetes-label-selector`` annotation ``||`` ``backstage.io/kubernetes-id=<id>``; the namespace is
  the ``backstage.io/kubernetes-namespace`` annotation, else every namespace. ``||`` means an empty annotation counts
  as missing.
- ``plugins/kubernetes-backend/src/service-locator/SingleTenantServiceLocator.ts``: ``backstage.io/kubernetes-cluster``
  keeps only the configured cluster whose name equals it exactly (one name, no list).
- ``plugins/kubernetes/src/Router.tsx`` (``isKubernetesAvailable``): the Kubernetes tab, and so any query, exists only
  when the entity has a non-empty ``kubernetes-id`` or ``kubernetes-label-selector`` annotation. The ``metadata.name``
  fallback is therefore reached only by direct backend API calls; ``selector_for(..., require_annotation=False)``
  reproduces that path.

Label selectors follow ``k8s.io/apimachinery/pkg/labels/selector.go`` (the syntax ``kubectl -l`` accepts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ANNOTATION_KUBERNETES_ID = "backstage.io/kubernetes-id"
ANNOTATION_LABEL_SELECTOR = "backstage.io/kubernetes-label-selector"
ANNOTATION_NAMESPACE = "backstage.io/kubernetes-namespace"
ANNOTATION_CLUSTER = "backstage.io/kubernetes-cluster"


class SelectorError(ValueError):
    """A label selector that Kubernetes would reject."""


@dataclass(frozen=True, slots=True)
class WorkloadSelector:
    """How to find an entity's objects: a label selector, one namespace or all, and the clusters to ask.

    ``namespace`` None means every namespace; ``clusters`` None means every configured cluster.
    """

    label_selector: str
    namespace: str | None = None
    clusters: tuple[str, ...] | None = None

    def allows_cluster(self, name: str) -> bool:
        """Whether the cluster (kubeconfig context) ``name`` should be queried for this entity."""
        return self.clusters is None or name in self.clusters

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with ``labels`` is selected (the namespace is the caller's to check)."""
        return matches(labels or {}, self.label_selector)


def _annotations_and_name(entity: Any) -> tuple[Mapping[str, Any], str]:
    # Accept the catalog's Entity and the raw JSON from Backstage's API alike.
    if isinstance(entity, Mapping):
        metadata = entity.get("metadata") or {}
        return metadata.get("annotations") or {}, metadata.get("name") or ""
    return entity.annotations, entity.name


def selector_for(entity: Any, *, require_annotation: bool = True) -> WorkloadSelector | None:
    """The selector Backstage's Kubernetes plugin would use for ``entity``.

    Args:
        entity: A catalog ``Entity`` or an entity document (dict) in Backstage's shape.
        require_annotation: True (the default) behaves like Backstage's Kubernetes tab, which only queries when
            ``backstage.io/kubernetes-id`` or ``backstage.io/kubernetes-label-selector`` is set. False behaves like
            a direct call to the backend, which falls back to ``backstage.io/kubernetes-id=<metadata.name>``.

    Returns:
        The selector, or None when the entity is not wired to Kubernetes (and ``require_annotation`` is True).

    Raises:
        SelectorError: The label selector annotation is malformed (Backstage would pass it on and the API
            server would answer 400; failing early names the annotation instead).
    """
    annotations, name = _annotations_and_name(entity)
    custom = annotations.get(ANNOTATION_LABEL_SELECTOR) or ""
    kubernetes_id = annotations.get(ANNOTATION_KUBERNETES_ID) or ""
    if require_annotation and not custom and not kubernetes_id:
        return None
    if custom:
        try:
            parse_selector(custom)
        except SelectorError as error:
            raise SelectorError(f"annotation {ANNOTATION_LABEL_SELECTOR}: {error}") from None
        label_selector = custom
    else:
        label_selector = f"{ANNOTATION_KUBERNETES_ID}={kubernetes_id or name}"
    cluster = annotations.get(ANNOTATION_CLUSTER) or None
    return WorkloadSelector(
        label_selector=label_selector,
        namespace=annotations.get(ANNOTATION_NAMESPACE) or None,
        clusters=(cluster,) if cluster else None,
    )


# --- label selector syntax -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,|>|<)|([^\s!=(),<>]+))")
_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_KEY = re.compile(rf"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}$")
_VALUE = re.compile(rf"^(?:{_NAME})?$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One comma-separated term of a selector: ``key``, an operator and its values."""

    key: str
    operator: str  # exists, !exists, =, !=, in, notin, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this term, with Kubernetes' rules for absent keys."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            # An object without the key satisfies "!=" and "notin" (selector.go: Requirement.Matches).
            return not present or value not in self.values
        if not present:
            return False
        try:
            number = int(value)  # gt/lt compare integers; a non-integer label never matches
        except (TypeError, ValueError):
            return False
        limit = int(self.values[0])
        return number > limit if self.operator == "gt" else number < limit


def _tokens(selector: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(selector):
        if selector[pos:].strip() == "":
            break
        found = _TOKEN.match(selector, pos)
        if not found:  # pragma: no cover - the pattern accepts every non-space character
            raise SelectorError(f"unexpected character at {pos} in {selector!r}")
        symbol, word = found.group(1), found.group(2)
        start = found.start(1) if symbol else found.start(2)
        out.append(("op", symbol, start) if symbol else ("id", word, start))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, selector: str) -> None:
        self.selector = selector
        self.tokens = _tokens(selector)
        self.index = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next(self, expected: str) -> tuple[str, str, int]:
        token = self._peek()
        if token is None:
            raise SelectorError(f"{self.selector!r}: expected {expected}, found the end")
        self.index += 1
        return token

    def _fail(self, token: tuple[str, str, int], expected: str) -> SelectorError:
        return SelectorError(f"{self.selector!r}: found {token[1]!r} at {token[2]}, expected {expected}")

    def _key(self) -> str:
        token = self._next("a label key")
        if token[0] != "id":
            raise self._fail(token, "a label key")
        if not _KEY.match(token[1]) or len(token[1].rpartition("/")[2]) > 63:
            raise SelectorError(f"{self.selector!r}: invalid label key {token[1]!r}")
        return token[1]

    def _value(self, allow_empty: bool = True) -> str:
        token = self._peek()
        if token is None or token[1] in (",", ")"):
            if allow_empty:
                return ""
            raise SelectorError(f"{self.selector!r}: expected a value")
        self.index += 1
        if token[0] != "id":
            raise self._fail(token, "a label value")
        if len(token[1]) > 63 or not _VALUE.match(token[1]):
            raise SelectorError(f"{self.selector!r}: invalid label value {token[1]!r}")
        return token[1]

    def _set(self) -> tuple[str, ...]:
        token = self._next("'('")
        if token[1] != "(":
            raise self._fail(token, "'('")
        values = [self._value()]
        while True:
            token = self._next("',' or ')'")
            if token[1] == ")":
                break
            if token[1] != ",":
                raise self._fail(token, "',' or ')'")
            values.append(self._value())
        if values == [""]:
            raise SelectorError(f"{self.selector!r}: for 'in', 'notin' operators, values set can't be empty")
        return tuple(values)

    def requirement(self) -> Requirement:
        token = self._peek()
        if token is not None and token[1] == "!":
            self.index += 1
            return Requirement(self._key(), "!exists")
        key = self._key()
        token = self._peek()
        if token is None or token[1] == ",":
            return Requirement(key, "exists")
        self.index += 1
        word = token[1]
        if word in ("=", "=="):
            return Requirement(key, "=", (self._value(),))
        if word == "!=":
            return Requirement(key, "!=", (self._value(),))
        if token[0] == "id" and word in ("in", "notin"):
            return Requirement(key, word, self._set())
        if word in (">", "<"):
            number = self._value(allow_empty=False)
            if not re.fullmatch(r"-?[0-9]{1,18}", number):  # ASCII digits: str.isdigit() also takes "²"
                raise SelectorError(f"{self.selector!r}: for 'gt', 'lt' operators, the value must be an integer")
            return Requirement(key, "gt" if word == ">" else "lt", (number,))
        raise self._fail(token, "one of =, ==, !=, in, notin, <, >")

    def parse(self) -> tuple[Requirement, ...]:
        if not self.tokens:
            return ()
        requirements = [self.requirement()]
        while (token := self._peek()) is not None:
            if token[1] != ",":
                raise self._fail(token, "','")
            self.index += 1
            requirements.append(self.requirement())
        return tuple(requirements)


def parse_selector(label_selector: str) -> tuple[Requirement, ...]:
    """Parse a label selector string (``kubectl -l`` syntax) into its ANDed requirements.

    Args:
        label_selector: e.g. ``"app=web,tier in (front,edge),!canary"``; empty selects everything.

    Returns:
        The requirements, in order.

    Raises:
        SelectorError: The selector is malformed; the message names the offending token and its position.
    """
    return _Parser(label_selector).parse()


def matches(labels: Mapping[str, str], label_selector: str) -> bool:
    """Whether an object's ``labels`` satisfy ``label_selector`` (every comma-separated term must hold).

    Raises:
        SelectorError: The selector is malformed.
    """
    return all(requirement.matches(labels) for requirement in parse_selector(label_selector))


def selector_from_label_selector(selector: Mapping[str, Any] | None) -> str:
    """The string form of a workload's ``spec.selector`` (``matchLabels`` and ``matchExpressions``).

    An absent selector yields ``""`` (everything), as ``metav1.LabelSelectorAsSelector`` does for nil.
    """
    if not selector:
        return ""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    operators = {"In": "in", "NotIn": "notin"}
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        if operator in operators:
            terms.append(f"{key} {operators[operator]} ({','.join(expression.get('values') or [])})")
        else:
            terms.append(key if operator == "Exists" else f"!{key}")
    return ",".join(terms)
