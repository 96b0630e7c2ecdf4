"""What policy evaluation produces and what a loaded policy set holds: frozen values, no I/O."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

Engine = Literal["rego", "vap", "backstage"]  # backstage: the catalog's own validation, beside the policies
Action = Literal["deny", "warn", "audit", "exception"]

ENGINES: tuple[str, ...] = ("rego", "vap")
# "exception": what a deny or warn rule said about a document that a conftest exception rule excepts from it.
ACTIONS: tuple[str, ...] = ("deny", "warn", "audit", "exception")


# Seconds one whole evaluation may take, reading its files included: each document has its own deadline (the
# policy set's ``timeout``), but a million documents each just within theirs would take weeks.
DEFAULT_TIME_BUDGET = 300.0


@dataclass(frozen=True, slots=True)
class TimeBudget:
    """The end of one evaluation's time: what is not read or judged by then is said not judged."""

    seconds: float
    ends: float  # on time.monotonic()

    @classmethod
    def from_now(cls, seconds: float) -> TimeBudget:
        return cls(seconds, time.monotonic() + seconds)

    @property
    def spent(self) -> bool:
        return time.monotonic() >= self.ends

    def words(self) -> str:
        return f"the check ran past its time budget ({self.seconds:g} s)"


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """One verdict of one policy on one document.

    Attributes:
        file: the file the document was read from, as given (relative paths stay relative).
        line: 1-based line where the document starts.
        document_index: 0-based position of the document among the file's non-empty documents (-1 when not known:
            a finding of the catalog's own validation, which ``idp-tui validate`` reports beside the policies').
        kind: the document's ``kind`` ("" when it has none).
        name: the document's ``metadata.name`` ("" when it has none).
        policy: for Rego ``<package>.<rule>`` (``main.deny_latest_tag``); for a ValidatingAdmissionPolicy its
            name.
        engine: ``rego`` or ``vap`` (``backstage`` for the catalog's own validation).
        action: ``deny``, ``warn`` or ``audit`` (a binding's ``Audit`` only).
        message: the policy's message.
        reason: the ValidatingAdmissionPolicy validation's ``reason`` (``Invalid``, ``Forbidden``...), else None.
    """

    file: str
    line: int
    document_index: int
    kind: str
    name: str
    policy: str
    engine: Engine
    action: Action
    message: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """A policy that could not be applied (broken, unsupported, too slow), said once.

    Attributes:
        file: the policy file ("x.tar.gz!/path/in/bundle.rego" inside a bundle).
        line: 1-based line of the offending field or statement (1 when no line is known).
        policy: the policy's name when known (a VAP's name, a Rego rule or package), else "".
        message: what is wrong, in words.
    """

    file: str
    line: int
    policy: str
    message: str


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A file given for evaluation that could not be read or parsed (only that document or file is lost)."""

    file: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class RegoRule:
    """A conftest rule found in a Rego module: ``deny``, ``violation``, ``warn`` or one of their ``_*`` forms."""

    package: str
    name: str
    file: str
    line: int

    @property
    def policy(self) -> str:
        return f"{self.package}.{self.name}"

    @property
    def action(self) -> Action:
        if self.name == "exception":
            return "exception"  # it excepts other rules; it gives no verdict of its own
        return "warn" if self.name.startswith("warn") else "deny"


@dataclass(frozen=True, slots=True)
class RegoModule:
    """A Rego source file: its display path, text, package and conftest rules."""

    file: str
    text: str
    package: str
    rules: tuple[RegoRule, ...]
    calls: tuple[tuple[str, int], ...] = ()  # dotted calls (name, line): a built-in the engine lacks is a problem
    imports: tuple[tuple[str, str], ...] = ()  # (alias, imported path) of ``import data.…`` statements


@dataclass(frozen=True, slots=True)
class K8sObject:
    """A Kubernetes object read from a policy source (policy, binding or param) with the lines of its fields.

    ``lines`` maps a field path (``("spec", "validations", 0, "expression")``) to its 1-based line.
    """

    file: str
    line: int
    data: dict[str, Any]
    lines: dict[tuple, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def name(self) -> str:
        metadata = self.data.get("metadata")
        return str(metadata.get("name") or "") if isinstance(metadata, dict) else ""

    @property
    def namespace(self) -> str:
        metadata = self.data.get("metadata")
        return str(metadata.get("namespace") or "") if isinstance(metadata, dict) else ""

    @property
    def labels(self) -> dict[str, str]:
        metadata = self.data.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def line_of(self, *path) -> int:
        """The line of the deepest known field along ``path`` (the document's line when none is known)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line:
                return line
        return self.line


class PolicyRuntime:
    """The live evaluation worker of a policy set, started on first use and shared by later evaluations.

    Not part of a policy set's value: excluded from comparison and ``repr``. Closed with :meth:`close` (or when the
    policy set is garbage collected, or the program exits: the worker ends when its pipe closes).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.worker: Any = None
        self.extra_workers: list[Any] = []  # beside the first: large evaluations, and the engines side by side
        self.task_costs: dict[tuple[str, ...], float] = {}  # microseconds per kind of task (see parallel.py)
        self.task_queue: Any = None  # the tasks two workers share (see runtime.TaskQueue), made on first use

    def close(self) -> None:
        with self.lock:
            workers = [self.worker, *self.extra_workers]
            self.worker, self.extra_workers = None, []
            queue, self.task_queue = self.task_queue, None
        for worker in workers:
            if worker is not None:
                worker.close()
        if queue is not None:
            queue.close()


@dataclass(frozen=True)
class PolicySet:
    """Policies loaded from files, directories and bundles, and the problems met loading them.

    Attributes:
        sources: the paths given, in order.
        missing_sources: those of them that are not there (each is also a problem).
        rego_modules: Rego modules that compile together (a broken one is in ``problems`` instead).
        rego_data: the merged ``data`` document (``data.json``/``data.yaml`` files and bundle data).
        policies: valid ValidatingAdmissionPolicies.
        bindings: ValidatingAdmissionPolicyBindings whose policy is valid.
        params: other Kubernetes objects found beside them (what a binding's ``paramRef`` may select).
        problems: broken or unsupported policies, each said once.
        rego_namespaces: the Rego packages whose rules apply to manifests (conftest's ``--namespace``).
        catalog_namespaces: the Rego packages whose rules apply to catalog entities.
        timeout: seconds one document's evaluation may take (and one policy's, when a slow document is
            re-run policy by policy to find the slow one).
        time_budget: seconds one whole evaluation may take, reading its files included.
    """

    sources: tuple[str, ...] = ()
    missing_sources: tuple[str, ...] = ()
    rego_modules: tuple[RegoModule, ...] = ()
    rego_data: dict[str, Any] = field(default_factory=dict)
    policies: tuple[K8sObject, ...] = ()
    bindings: tuple[K8sObject, ...] = ()
    params: tuple[K8sObject, ...] = ()
    problems: tuple[PolicyProblem, ...] = ()
    rego_namespaces: tuple[str, ...] = ("main",)
    catalog_namespaces: tuple[str, ...] = ("catalog",)
    timeout: float = 2.0
    time_budget: float = DEFAULT_TIME_BUDGET
    runtime: PolicyRuntime = field(default_factory=PolicyRuntime, compare=False, repr=False)

    @property
    def rego_rules(self) -> tuple[RegoRule, ...]:
        return tuple(rule for module in self.rego_modules for rule in module.rules)

    def rules_for(self, document_class: str) -> tuple[RegoRule, ...]:
        """The Rego rules that judge a ``manifest`` (the manifest packages') or an ``entity`` (the catalog's)."""
        packages = self.rego_namespaces if document_class == "manifest" else self.catalog_namespaces
        return tuple(rule for rule in self.rego_rules if "*" in packages or rule.package in packages)

    def packages_not_found(self) -> list[str]:
        """The chosen Rego packages that no module that loads declares: the rules of a mistyped package would judge
        nothing, so whoever chose it must be told. The defaults count only when they are plainly a mistake:
        ``main`` when the manifest rules are all in other packages (``catalog`` is often absent on purpose)."""
        declared = {module.package for module in self.rego_modules}
        elsewhere = {rule.package for rule in self.rego_rules} - {"main", *self.catalog_namespaces}
        defaults = {"catalog"} | ({"main"} if not elsewhere else set())
        chosen = dict.fromkeys([*self.rego_namespaces, *self.catalog_namespaces])
        return [package for package in chosen if package not in ("*", *defaults, *declared)]

    @property
    def is_empty(self) -> bool:
        """Whether nothing can be evaluated (no Rego rule and no bound ValidatingAdmissionPolicy)."""
        return not self.rego_rules and not self.bindings

    def close(self) -> None:
        """Stop the evaluation worker, if one runs (a later evaluation starts a new one)."""
        self.runtime.close()

    def __enter__(self) -> PolicySet:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """What evaluating documents against a policy set found.

    Attributes:
        results: every verdict, in document order, then policy order.
        problems: the policy set's load problems, then those met while evaluating (a policy too slow, one that
            cannot be evaluated on some document), each said once.
        input_problems: files or documents that could not be read or parsed.
        documents: how many documents were evaluated.
    """

    results: tuple[PolicyResult, ...] = ()
    problems: tuple[PolicyProblem, ...] = ()
    input_problems: tuple[InputProblem, ...] = ()
    documents: int = 0

    @property
    def denied(self) -> bool:
        return any(result.action == "deny" for result in self.results)

    @property
    def warned(self) -> bool:
        return any(result.action == "warn" for result in self.results)

    def exit_status(self, *, fail_on_warn: bool = False) -> int:
        """``idp-tui validate``'s exit status: 1 when anything is denied (or warned, with ``fail_on_warn``)."""
        return 1 if self.denied or (fail_on_warn and self.warned) else 0
