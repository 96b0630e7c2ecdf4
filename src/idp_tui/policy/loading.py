"""Loading policies from the paths a profile or ``--policy`` names: directories, files and OPA bundles.

- A directory is read recursively (hidden folders skipped, symlinked folders not followed, every file resolving
  inside it): ``*.rego`` modules (``*_test.rego`` are OPA tests, not policies), ``data.json``/``data.yaml``
  (mounted at their folder's path under ``data``, as OPA loads a bundle), and ``*.yaml``/``*.yml``/``*.json``
  holding ValidatingAdmissionPolicies, their bindings and the objects bindings take params from.
- A file is one of those; ``*.tar.gz``/``*.tgz`` is an OPA bundle (``.manifest`` with its ``roots``, ``data.json``
  files, modules), read in memory within budgets (``bundle.py``).

Every problem is a :class:`PolicyProblem` at its file and line, said once: a file that cannot be read, YAML that
does not parse, a policy with an unknown field, invalid CEL or Rego, a function the engine lacks. The broken policy
is left out; every other one still applies. Compiling needs the engines, so it happens in the evaluation worker,
which is kept for the evaluations that follow (``PolicySet.close()`` stops it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..bounded_read import MIB, RefusedRead, read_regular_file, resolves_within
from .bundle import BundleError, read_bundle
from .models import K8sObject, PolicyProblem, PolicySet, RegoModule, RegoRule
from .rego_scan import lacking_regex_syntax, outline, package_path
from .vap_schema import API_GROUP, BINDING_KIND, POLICY_KIND, check_binding, check_policy, field_name
from .yaml_lines import documents_with_lines

MAX_POLICY_FILE_BYTES = 8 * MIB
MAX_POLICY_FILES = 10_000
DATA_FILES = ("data.json", "data.yaml", "data.yml")
BUNDLE_SUFFIXES = (".tar.gz", ".tgz")
YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class _Collected:
    modules: list[RegoModule] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    objects: list[K8sObject] = field(default_factory=list)
    problems: list[PolicyProblem] = field(default_factory=list)
    files: int = 0

    def problem(self, file: str, line: int, message: str, policy: str = "") -> None:
        self.problems.append(PolicyProblem(file, line, policy, message))


def _namespaces(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def load_policies(
    paths: Iterable[str | os.PathLike],
    *,
    rego_namespace: str | Sequence[str] = "main",
    catalog_namespace: str | Sequence[str] = "catalog",
    timeout: float = 2.0,
    check: bool = True,
) -> PolicySet:
    """Load every policy under ``paths`` and compile it.

    Args:
        paths: directories, policy files and ``.tar.gz`` OPA bundles.
        rego_namespace: the Rego package(s) whose rules apply to manifests (conftest's ``--namespace``;
            ``"*"`` for every package).
        catalog_namespace: the Rego package(s) whose rules apply to catalog entities.
        timeout: seconds one document's evaluation may take.
        check: compile in the worker now (and keep it); False leaves compiling to the first evaluation (tests of
            the loader alone).

    Returns:
        The policy set: what compiles, and a problem for each thing that does not.
    """
    collected = _Collected()
    sources, missing = [], []
    for path in paths:
        path = os.fspath(path)
        sources.append(path)
        if not os.path.exists(path) and not os.path.islink(path):
            missing.append(path)
            collected.problem(path, 1, "no such file or directory")
        elif os.path.isdir(path):
            _load_directory(path, collected)
        elif path.endswith(BUNDLE_SUFFIXES):
            _load_bundle(path, collected)
        else:
            _load_file(path, os.path.basename(path), [], collected, named=True)
    policies, bindings, params = _sort_objects(collected)
    rego_namespaces = _namespaces(rego_namespace)
    catalog_namespaces = _namespaces(catalog_namespace)
    policy_set = PolicySet(
        sources=tuple(sources),
        missing_sources=tuple(missing),
        rego_modules=tuple(collected.modules),
        rego_data=collected.data,
        policies=tuple(policies),
        bindings=tuple(bindings),
        params=tuple(params),
        problems=tuple(collected.problems),
        rego_namespaces=rego_namespaces,
        catalog_namespaces=catalog_namespaces,
        timeout=timeout,
    )
    if check and (policy_set.rego_modules or policy_set.policies):
        from .checking import compile_policy_set

        policy_set = compile_policy_set(policy_set)
    return policy_set


def _walk(root: str, collected: _Collected) -> Iterable[tuple[str, str]]:
    """``(path, path relative to root)`` of the files under ``root``, sorted, within the file budget."""
    real_root = os.path.realpath(root)
    stack = [""]
    while stack:
        relative = stack.pop()
        folder = os.path.join(root, relative) if relative else root
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name, reverse=True)
        except OSError as error:
            collected.problem(folder, 1, f"cannot list the folder: {error.strerror or error}")
            continue
        for entry in entries:
            name = entry.name
            child = os.path.join(relative, name) if relative else name
            if entry.is_dir(follow_symlinks=False):
                if not name.startswith(".") and name != "node_modules":
                    stack.append(child)
                continue
            if collected.files >= MAX_POLICY_FILES:
                collected.problem(root, 1, f"more than {MAX_POLICY_FILES:,} files: the rest are not read")
                return
            collected.files += 1
            if not resolves_within(entry.path, real_root):
                if name.endswith((".rego", *YAML_SUFFIXES)):
                    collected.problem(entry.path, 1, "a symlink that leads outside the policy folder: not read")
                continue
            yield entry.path, child


def _load_directory(root: str, collected: _Collected) -> None:
    # Each folder's files in name order, and folders depth first in name order: the order policies are reported in.
    for path, relative in sorted(_walk(root, collected), key=lambda item: item[1].split(os.sep)):
        name = os.path.basename(path)
        if name.endswith(BUNDLE_SUFFIXES):
            continue  # a bundle inside a policy folder is an artifact, not a source; name it to load it
        folder = os.path.dirname(relative)
        mount = [part for part in folder.split(os.sep) if part] if folder else []
        _load_file(path, name, mount, collected, named=False)


def _read_text(path: str, display: str, collected: _Collected, *, follow_symlinks: bool = True) -> str | None:
    try:
        content, _ = read_regular_file(path, MAX_POLICY_FILE_BYTES, follow_symlinks=follow_symlinks)
    except RefusedRead as error:
        collected.problem(display, 1, f"not read: {error}")
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        collected.problem(display, 1, f"not UTF-8 text (byte {error.start})")
        return None


def _load_file(path: str, name: str, mount: list[str], collected: _Collected, *, named: bool) -> None:
    if name.endswith("_test.rego"):
        return
    # A file found in a folder was checked to resolve inside it: what it resolved to is opened, and a symlink
    # swapped in since is refused. A file named on the command line is read wherever it leads.
    source = path if named else os.path.realpath(path)
    if name.endswith(".rego"):
        text = _read_text(source, path, collected, follow_symlinks=named)
        if text is not None:
            _add_module(path, text, collected)
    elif name in DATA_FILES:
        text = _read_text(source, path, collected, follow_symlinks=named)
        if text is not None:
            _add_data(path, text, mount, collected)
    elif name.endswith(YAML_SUFFIXES):
        text = _read_text(source, path, collected, follow_symlinks=named)
        if text is not None:
            _add_objects(path, text, collected)
    elif named:
        collected.problem(path, 1, "not a policy: expected a .rego, .yaml, .json or .tar.gz file, or a folder")


def _add_module(display: str, text: str, collected: _Collected, roots: list[list[str]] | None = None) -> None:
    found = outline(text)
    if not found.package:
        collected.problem(display, 1, "Rego: the module has no package declaration")
        return
    segments = package_path(found.package)
    if roots is not None and not _within_roots(segments, roots):
        collected.problem(display, found.package_line, f"package {found.package} is outside the bundle's roots")
        return
    for pattern, line in found.patterns:
        lacking = lacking_regex_syntax(pattern)
        if lacking:
            why = (
                f"Rego: the regular expression {pattern!r} uses {lacking}, which regopy's regex engine lacks (it "
                "would answer undefined, or match otherwise than OPA, so the rule would not judge as written)"
            )
            collected.problem(display, line, why, found.package)
            return
    rules = tuple(RegoRule(found.package, name, display, line) for name, line in found.rules)
    collected.modules.append(
        RegoModule(display, text, found.package, rules, tuple(found.calls), tuple(sorted(found.imports.items())))
    )


def _parse_data(display: str, text: str, collected: _Collected) -> Any:
    if display.endswith(".json"):
        from ..catalog.json_data import JSONDataError, load_json_data

        try:
            return load_json_data(text)
        except JSONDataError as error:
            collected.problem(display, error.line, f"invalid JSON: {error}")
            return None
    from ..catalog.yaml_docs import load_documents

    documents, errors = load_documents(text)
    for error in errors:
        collected.problem(display, error.line, f"invalid YAML: {error.message}")
    if errors:
        return None
    return documents[0].data if documents else {}


def _add_data(
    display: str, text: str, mount: list[str], collected: _Collected, roots: list[list[str]] | None = None
) -> None:
    value = _parse_data(display, text, collected)
    if value is None:
        return
    if not isinstance(value, dict) and not mount:
        collected.problem(display, 1, "data at the root of data must be an object")
        return
    if roots is not None and not _within_roots(mount, roots, data=value):
        collected.problem(display, 1, f"data at {'.'.join(mount) or 'the root'} is outside the bundle's roots")
        return
    target = collected.data
    for segment in mount:
        existing = target.setdefault(segment, {})
        if not isinstance(existing, dict):
            collected.problem(display, 1, f"data.{'.'.join(mount)} conflicts with data loaded before it")
            return
        target = existing
    if not mount or isinstance(value, dict):
        conflict = _merge(target, value if isinstance(value, dict) else {}, mount)
        if conflict:
            collected.problem(display, 1, f"data.{conflict} is set by two data files")


def _merge(target: dict, value: dict, path: list[str]) -> str:
    for key, item in value.items():
        if key in target and isinstance(target[key], dict) and isinstance(item, dict):
            conflict = _merge(target[key], item, [*path, key])
            if conflict:
                return conflict
        elif key in target and target[key] != item:
            return ".".join([*path, key])
        else:
            target[key] = item
    return ""


def _within_roots(segments: list[str], roots: list[list[str]], data: Any = None) -> bool:
    """Whether a package or data path lies under one of a bundle manifest's roots (OPA's rule)."""
    if any(root == [] for root in roots):
        return True
    if any(segments[: len(root)] == root for root in roots):
        return True
    if isinstance(data, dict) and data:
        # Data at a parent of the roots is allowed when each of its keys leads into a root.
        return all(_within_roots([*segments, key], roots, data[key]) for key in data)
    return False


def _add_objects(display: str, text: str, collected: _Collected) -> None:
    documents, errors = documents_with_lines(text)
    for line, message in errors:
        collected.problem(display, line, f"invalid YAML: {message}")
    for line, data, lines in documents:
        if isinstance(data, dict) and isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str):
            collected.objects.append(K8sObject(display, line, data, lines))


def _sort_objects(collected: _Collected) -> tuple[list[K8sObject], list[K8sObject], list[K8sObject]]:
    """Valid policies, bindings whose policy is valid, and the other objects (params), with their problems."""
    policies: dict[str, K8sObject] = {}
    broken: set[str] = set()
    bindings: dict[str, K8sObject] = {}
    params: list[K8sObject] = []
    for obj in collected.objects:
        group = obj.api_version.rpartition("/")[0]
        if group != API_GROUP:
            params.append(obj)
            continue
        if obj.kind == POLICY_KIND:
            errors = check_policy(obj.data)
            if errors:
                broken.add(obj.name)
            elif obj.name in policies:
                errors = [((("metadata", "name")), f"a ValidatingAdmissionPolicy named {obj.name} is already loaded")]
            else:
                policies[obj.name] = obj
        elif obj.kind == BINDING_KIND:
            errors = check_binding(obj.data)
            if not errors and obj.name in bindings:
                errors = [
                    (("metadata", "name"), f"a ValidatingAdmissionPolicyBinding named {obj.name} is already loaded")
                ]
            if not errors:
                bindings[obj.name] = obj
        else:
            errors = [
                ((), f"{obj.kind} is not evaluated: idp-tui applies ValidatingAdmissionPolicies and their bindings")
            ]
        for path, message in errors:
            collected.problem(obj.file, obj.line_of(*path), message, obj.name)
    kept_bindings = []
    bound: set[str] = set()
    for binding in bindings.values():
        policy_name = binding.data["spec"]["policyName"]
        if policy_name in policies:
            kept_bindings.append(binding)
            bound.add(policy_name)
        elif policy_name not in broken:
            collected.problem(
                binding.file,
                binding.line_of("spec", "policyName"),
                f"binds ValidatingAdmissionPolicy {policy_name}, which is not loaded",
                binding.name,
            )
    for name, policy in policies.items():
        if name not in bound:
            collected.problem(
                policy.file,
                policy.line,
                "has no ValidatingAdmissionPolicyBinding, so it applies to nothing (as in Kubernetes)",
                name,
            )
    return list(policies.values()), kept_bindings, params


def _load_bundle(path: str, collected: _Collected) -> None:
    try:
        contents = read_bundle(path)
    except BundleError as error:
        collected.problem(path, 1, f"OPA bundle not loaded: {error}")
        return
    for name, why in contents.refused:
        collected.problem(f"{path}!/{name}", 1, f"not read: {why}")
    files = {item.path: item.content for item in contents.files}
    if not any(name.endswith(".rego") or name.rsplit("/", 1)[-1] in DATA_FILES for name in files):
        if not contents.refused:  # else each refused member was said
            collected.problem(path, 1, "OPA bundle with no policy or data file (.rego, data.json or data.yaml)")
        return
    roots: list[list[str]] | None = None
    manifest = files.get(".manifest")
    if manifest is not None:
        from ..catalog.json_data import JSONDataError, load_json_data

        try:
            parsed = load_json_data(manifest.decode("utf-8"))
        except (JSONDataError, UnicodeDecodeError) as error:
            line = error.line if isinstance(error, JSONDataError) else 1
            collected.problem(f"{path}!/.manifest", line, f"invalid JSON: {error}")
            return
        if not isinstance(parsed, dict):
            collected.problem(f"{path}!/.manifest", 1, "the manifest must be a JSON object")
            return
        if isinstance(parsed.get("roots"), list):
            roots = [[part for part in str(root).split("/") if part] for root in parsed["roots"]]
        if parsed.get("rego_version") == 0:
            collected.problem(
                f"{path}!/.manifest", 1, "rego_version 0 bundles are not supported: idp-tui reads rego.v1"
            )
    for member in sorted(files):
        display = f"{path}!/{member}"
        name = member.rsplit("/", 1)[-1]
        folder = member.rsplit("/", 1)[0] if "/" in member else ""
        content = files[member]
        if name in (".manifest", ".signatures.json") or name.endswith("_test.rego"):
            continue
        if name.endswith((".wasm", "plan.json", "patch.json")):
            collected.problem(
                display, 1, "not supported: idp-tui evaluates Rego source bundles (no Wasm, plan or delta bundles)"
            )
            continue
        if not (name.endswith(".rego") or name in DATA_FILES):
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            collected.problem(display, 1, f"not UTF-8 text (byte {error.start})")
            continue
        if name.endswith(".rego"):
            _add_module(display, text, collected, roots)
        else:
            _add_data(display, text, [part for part in folder.split("/") if part], collected, roots)


__all__ = ["load_policies", "field_name"]
