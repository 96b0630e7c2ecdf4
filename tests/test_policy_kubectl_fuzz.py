"""Seeded differential fuzzing of the policy guardrails against the real kubectl.

``test_policy_kubectl_parity.py`` holds one file per known way to hide a ``:latest`` image from the policies while
kubectl still applies it. Each trick is simple alone; combined (a merge key inside a kindless List, after a ``---#``
line, in UTF-16...) they may slip past a reader that handles every one of them separately. The generator below
builds small manifests from 1-3 random mutations of a Deployment whose image is ``ghcr.io/myorg/api:latest`` (or
untagged); kubectl itself says what it would apply, and wherever that includes an unpinned image, the guardrails
must block the run (by a deny finding, or by refusing to judge the file). The seeds are fixed: a failure names the
seed, the case and its mutations, and comes back the same on every run.

The converse is checked too: a pinned Deployment written in harmless ways that kubectl reads as pinned passes.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_policy_kubectl_parity import KUBECTL, kubectl_images

from idp_tui.policy import PolicyGuardrails, load_policies
from idp_tui.resources import demo_catalog_path

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (Debian: kubernetes-client)")

SEEDS = (11, 23, 37, 41)
CASES_PER_SEED = 30
# Below this share of cases that kubectl reads as applying an unpinned image, the generator mostly makes files
# kubectl refuses or reads as pinned, and the property is checked on too little.
MIN_HIDING_SHARE = 0.6
MAX_FILE_BYTES = 8 * 1024
SHOWN_CHARACTERS = 1500  # of a failing file's content, in the failure message

PINNED_IMAGE = "ghcr.io/myorg/api:1.4.2"
LATEST_IMAGE = "ghcr.io/myorg/api:latest"
UNTAGGED_IMAGE = "ghcr.io/myorg/api"


def is_unpinned(image: str) -> bool:
    """What ``deny_latest_image`` (demo_catalog/policies/kubernetes.rego) denies: a ``:latest`` image, or one with
    neither a tag nor a digest."""
    return image.endswith(":latest") or ("@" not in image and re.search(r":[^/]+$", image) is None)


# --- A small YAML tree: what the mutations edit, then written out in block, flow or JSON style ---------------------


class Raw(str):
    """YAML text written as is (a tagged key, an anchor, an alias, a YAML 1.1 scalar): never valid JSON."""


class Map(list):
    """A mapping as ``(key, value)`` pairs: keys may repeat (a merge key twice, a duplicate key)."""

    def get(self, key: str) -> Any:
        return next(value for name, value in self if name == key)

    def replace(self, key: str, *pairs: tuple[str, Any]) -> None:
        """Put ``pairs`` where ``key`` is, instead of it."""
        index = next(i for i, (name, _) in enumerate(self) if name == key)
        self[index : index + 1] = pairs

    def without(self, *keys: str) -> Map:
        return Map((name, value) for name, value in self if name not in keys)


def container(image: str) -> Map:
    """PINNED's container (tests/test_policy_validate.py): it passes every demo policy but the image's."""
    return Map(
        [
            ("name", "api"),
            ("image", image),
            ("readinessProbe", Map([("httpGet", Map([("path", "/readyz"), ("port", 8080)]))])),
            ("resources", Map([("limits", Map([("cpu", "500m"), ("memory", "256Mi")]))])),
            ("securityContext", Map([("runAsNonRoot", True)])),
        ]
    )


def deployment(image: str, name: str = "api") -> Map:
    labels = Map([("app.kubernetes.io/name", "api"), ("backstage.io/kubernetes-id", "api")])
    pod_spec = Map([("containers", [container(image)])])
    return Map(
        [
            ("apiVersion", "apps/v1"),
            ("kind", "Deployment"),
            ("metadata", Map([("name", name), ("labels", labels)])),
            (
                "spec",
                Map(
                    [
                        ("replicas", 2),
                        ("selector", Map([("matchLabels", Map([("app.kubernetes.io/name", "api")]))])),
                        ("template", Map([("metadata", Map([("labels", labels)])), ("spec", pod_spec)])),
                    ]
                ),
            ),
        ]
    )


def a_list(*items: Map, kind: str = "List", api_version: str = "v1") -> Map:
    return Map([("apiVersion", api_version), ("kind", kind), ("items", list(items))])


def config_map() -> Map:
    return Map(
        [
            ("apiVersion", "v1"),
            ("kind", "ConfigMap"),
            ("metadata", Map([("name", "settings")])),
            ("data", Map([("LOG_LEVEL", "info")])),
        ]
    )


@dataclass(frozen=True)
class Style:
    """How a tree is written: collections nested ``flow_depth`` levels deep or more in flow style (0: all of it),
    strings double-quoted or plain. Flow style with quoted strings and no Raw text is JSON."""

    flow_depth: int = 99
    quoted: bool = False

    def scalar(self, value: Any) -> str:
        if isinstance(value, Raw):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and (self.quoted or value[:1] in "&*!%@`'\"{[" or ": " in value):
            return json.dumps(value)
        return str(value)

    def flow(self, value: Any) -> str:
        if isinstance(value, Map):
            return "{" + ", ".join(f"{self.scalar(key)}: {self.flow(item)}" for key, item in value) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(item) for item in value) + "]"
        return self.scalar(value)

    def block(self, value: Any, depth: int = 0) -> list[str]:
        """The lines of a collection, unindented (the caller indents them)."""
        if depth >= self.flow_depth or not value:
            return [self.flow(value)]
        lines = []
        if isinstance(value, Map):
            for key, item in value:
                if isinstance(item, list) and item and depth + 1 < self.flow_depth:
                    lines += [f"{self.scalar(key)}:", *("  " + line for line in self.block(item, depth + 1))]
                else:
                    lines.append(f"{self.scalar(key)}: {self.flow(item)}")
            return lines
        for item in value:
            first, *rest = self.block(item, depth + 1) if isinstance(item, list) else [self.flow(item)]
            lines += [f"- {first}", *("  " + line for line in rest)]
        return lines

    def document(self, tree: Map) -> str:
        return "\n".join(self.block(tree)) + "\n"


JSON_STYLE = Style(flow_depth=0, quoted=True)  # unlike json.dumps, it keeps a repeated key


# --- A case: what the mutations set, and the file it writes ------------------------------------------------------


@dataclass
class Case:
    """A file being built: its documents (trees), how they are joined and written, and the mutations applied."""

    image: str = LATEST_IMAGE
    documents: list[Map] = field(default_factory=list)
    main: int = 0  # the index of the document holding the unpinned image
    separators: list[str] = field(default_factory=list)  # one before each document after the first
    main_under: str = ""  # a line the main document is written under, indented (see under_a_kubectl_only_separator)
    head: str = ""
    tail: str = ""
    style: Style = Style()
    as_json: bool = False
    line_end: str = "\n"
    encoding: str = "utf-8"
    bom: str = ""  # "start": before the text, "every document": before each one
    suffix: str = ".yaml"
    applied: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Map:
        return self.documents[self.main]

    def pod_container(self) -> Map:
        """The Deployment's container (before in_a_list wraps the Deployment)."""
        return self.manifest.get("spec").get("template").get("spec").get("containers")[0]

    def written(self, index: int) -> str:
        text = (JSON_STYLE if self.as_json else self.style).document(self.documents[index])
        if index == self.main and self.main_under:
            text = self.main_under + "".join("  " + line for line in text.splitlines(keepends=True))
        return ("\ufeff" if self.bom == "every document" else "") + text

    def text(self) -> str:
        documents = [self.written(index) for index in range(len(self.documents))]
        body = documents[0] + "".join(sep + doc for sep, doc in zip(self.separators, documents[1:], strict=True))
        return (self.head + body + self.tail).replace("\n", self.line_end)

    def content(self) -> bytes:
        text = self.text()
        if self.bom == "start" and not text.startswith("\ufeff"):
            text = "\ufeff" + text
        return text.encode(self.encoding)


# --- Mutations: each edits the case, with choices drawn from the Random, and says what it did --------------------

Mutation = Callable[[Case, random.Random], str]


def untagged(case: Case, rng: random.Random) -> str:
    case.image = UNTAGGED_IMAGE
    case.pod_container().replace("image", ("image", UNTAGGED_IMAGE))
    return "untagged image"


# The ways to write a YAML merge key that kubectl's reader (go-yaml, YAML 1.1) merges; a quoted "<<" without a
# tag is a plain key to it too.
MERGE_KEYS = {
    "plain <<": "<<",
    '! "<<"': '! "<<"',
    "!!merge <<": "!!merge <<",
    '!!merge "<<"': '!!merge "<<"',
    'escaped ! "\\x3c\\x3c"': '! "\\x3c\\x3c"',
}


def merged_image(case: Case, rng: random.Random) -> str:
    """The image given by a merge key: instead of the image, after a pinned one (the later merge wins in go-yaml),
    as one of a list of sources, or through an alias of an anchor in the annotations."""
    written, key = rng.choice(sorted(MERGE_KEYS.items()))
    source = Map([("image", case.image)])
    box = case.pod_container()
    how = rng.choice(["instead", "after pinned", "list of sources", "alias"])
    if how == "instead":
        box.replace("image", (Raw(key), source))
    elif how == "after pinned":
        box.replace("image", ("image", PINNED_IMAGE), (Raw(key), source))
    elif how == "list of sources":
        box.replace("image", (Raw(key), [Map([("terminationMessagePath", "/dev/log")]), source]))
    else:
        case.manifest.get("metadata").append(("annotations", Raw(f"&defaults {{image: {case.image}}}")))
        box.replace("image", (Raw(key), Raw("*defaults")))
    return f"merge key {written}, {how}"


def merged_containers(case: Case, rng: random.Random) -> str:
    """The whole container list given by a merge key in the pod spec, after a pinned one or alone."""
    pod_spec = case.manifest.get("spec").get("template").get("spec")
    source = Map([("containers", pod_spec.get("containers"))])
    if rng.random() < 0.5:
        pod_spec.replace("containers", ("containers", [container(PINNED_IMAGE)]), (Raw("<<"), source))
        return "containers merged after pinned ones"
    pod_spec.replace("containers", (Raw("!!merge <<"), source))
    return "containers merged"


def duplicate_image(case: Case, rng: random.Random) -> str:
    """A pinned image, then the same key again: go-yaml and Go's JSON decoder keep the last one."""
    case.pod_container().replace("image", ("image", PINNED_IMAGE), ("image", case.image))
    return "duplicate image key"


# Plain scalars YAML 1.1 (kubectl) reads otherwise than YAML 1.2, on fields where any value passes `--local`.
YAML11_FIELDS = [
    ("spec", "paused", ["yes", "on", "off", "No", "y"]),
    ("spec", "minReadySeconds", ["010", "0b1", "1_000", "0_1"]),
    ("spec", "revisionHistoryLimit", ["012", "1_0"]),
    ("container", "tty", ["yes", "on", "Y"]),
    ("container", "stdin", ["off", "NO"]),
]


def yaml11_scalar(case: Case, rng: random.Random) -> str:
    where, key, values = rng.choice(YAML11_FIELDS)
    value = rng.choice(values)
    target = case.manifest.get("spec") if where == "spec" else case.pod_container()
    target.append((key, Raw(value)))
    return f"YAML 1.1 scalar {key}: {value}"


def in_a_list(case: Case, rng: random.Random) -> str:
    """The Deployment as an item of a List: kubectl applies the items of any object that has ``items``."""
    item = case.manifest
    how = rng.choice(["List", "List after a pinned item", "DeploymentList, kindless item", "ConfigMap with items"])
    if how == "List":
        wrapper = a_list(item)
    elif how == "List after a pinned item":
        wrapper = a_list(deployment(PINNED_IMAGE, name="api-pinned"), item)
    elif how == "DeploymentList, kindless item":  # kubectl gives the item the List's apiVersion and kind
        wrapper = a_list(item.without("kind", "apiVersion"), kind="DeploymentList", api_version="apps/v1")
    else:
        wrapper = config_map()
        wrapper.append(("items", [item]))
    case.documents[case.main] = wrapper
    return f"in a {how}"


def other_documents(case: Case, rng: random.Random) -> str:
    """Other documents before or after the Deployment, joined by separators kubectl splits at."""
    before = rng.randint(0, 2)
    after = rng.randint(0 if before else 1, 2)
    others = [config_map, lambda: deployment(PINNED_IMAGE, name="api-pinned")]
    case.documents[:0] = [rng.choice(others)() for _ in range(before)]
    case.documents += [rng.choice(others)() for _ in range(after)]
    case.main += before
    choices = ["---\n", "--- # next\n", "---#\n", "---\t\n", "...\n---\n", "# next one\n---\n"]
    if case.as_json:
        choices = ["", "\n", "---\n"]  # a JSON stream, or JSON documents in a YAML stream
    case.separators = [rng.choice(choices) for _ in case.documents[1:]]
    return f"{before} documents before, {after} after, separated by {case.separators!r}"


# What may follow `---` on a line kubectl splits at: it trims what Go calls space (Unicode's, and \v, \f), then
# wants nothing or a comment. To YAML, `---` must be followed by a space, a tab or a line break to start a document.
KUBECTL_SEPARATOR_GAPS = ["", " ", "\t", "\u00a0", "\u2003", "\u3000", "\u202f"]


def under_a_kubectl_only_separator(case: Case, rng: random.Random) -> str:
    """The Deployment indented under a line ``---<gap>#:``: kubectl starts a document there and reads the indented
    one; to YAML, unless the gap is a space or a tab, the line is a key (``---#``) whose value is the Deployment."""
    gap = rng.choice(KUBECTL_SEPARATOR_GAPS)
    case.main_under = f"---{gap}#:\n"
    before = rng.choice(["comment", "pinned Deployment", "nothing"])
    if before == "comment":
        case.head = "# c\n"
    elif before == "pinned Deployment":
        case.documents.insert(0, deployment(PINNED_IMAGE, name="api-pinned"))
        case.separators = [""]  # the separator line is the main document's own
        case.main += 1
    return f"indented under ---{gap!r}#: after {before}"


def stream_markers(case: Case, rng: random.Random) -> str:
    """What may come before the first document and after the last one."""
    case.head = rng.choice(["---\n", "# a comment\n---\n", "--- # first\n", "---#\n", ""])
    case.tail = rng.choice(["...\n", "---\n", "# the end\n", "...\n# after the end\n", ""])
    return f"head {case.head!r}, tail {case.tail!r}"


def written_style(case: Case, rng: random.Random) -> str:
    # A file whose first character is `{` is JSON to kubectl: all-flow style is left to json_form.
    case.style = Style(flow_depth=rng.choice([1, 2, 3, 4, 6, 99]), quoted=rng.random() < 0.5)
    return f"style {case.style}"


def json_form(case: Case, rng: random.Random) -> str:
    case.as_json = True
    case.suffix = rng.choice([".json", ".yaml"])
    return f"JSON in a {case.suffix} file"


def line_ends(case: Case, rng: random.Random) -> str:
    case.line_end = rng.choice(["\r\n", "\r"])
    return f"line ends {case.line_end!r}"


def byte_order_marks(case: Case, rng: random.Random) -> str:
    case.encoding = rng.choice(["utf-8", "utf-16-le", "utf-16-be"])
    # kubectl needs the mark to read UTF-16; in UTF-8 it may stand before each document too.
    case.bom = rng.choice(["start", "every document"]) if case.encoding == "utf-8" else "start"
    return f"{case.encoding}, byte order mark at {case.bom}"


# The families, in the order they apply (the image before it is merged, the tree before it is wrapped or
# written). At most one mutation of each family per case.
FAMILIES: dict[str, list[Mutation]] = {
    "image": [untagged],
    "json": [json_form],
    "hiding": [merged_image, merged_image, merged_containers, duplicate_image],
    "yaml11": [yaml11_scalar],
    "list": [in_a_list],
    "layout": [other_documents, stream_markers, under_a_kubectl_only_separator],
    "style": [written_style],
    "bytes": [line_ends, byte_order_marks],
}
# JSON has no merge keys, YAML 1.1 scalars or YAML styles.
NOT_JSON = {merged_image, merged_containers, yaml11_scalar, written_style}


def generate(seed: int, index: int) -> tuple[Case, bytes]:
    """Case ``index`` of ``seed``: the same on every run, whatever the other cases are."""
    rng = random.Random(f"{seed}:{index}")
    families = rng.sample(sorted(FAMILIES), rng.randint(1, 3))
    case = Case(documents=[deployment(LATEST_IMAGE)])
    for family in FAMILIES:  # their order, not the order drawn
        mutations = [m for m in FAMILIES[family] if not (case.as_json and m in NOT_JSON)]
        if family in families and mutations:
            case.applied.append(rng.choice(mutations)(case, rng))
    content = case.content()
    assert len(content) < MAX_FILE_BYTES, case.applied
    return case, content


# --- The tests ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guardrails():
    policy_set = load_policies([demo_catalog_path() / "policies"])
    yield PolicyGuardrails(lambda: policy_set)
    policy_set.close()


def described(seed: int, index: int, case: Case, content: bytes, images: list[str], report: Any) -> str:
    text = content.decode(case.encoding, errors="replace")
    shown = text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"
    return (
        f"seed {seed}, case {index}: {'; '.join(case.applied)}\n"
        f"kubectl applies the images {images}, the guardrails did not block: {report}\n"
        f"content ({case.suffix}, {case.encoding}):\n{shown!r}"
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_no_combination_of_tricks_applies_an_unpinned_image_unblocked(seed, guardrails, tmp_path):
    hiding, missed = 0, []
    for index in range(CASES_PER_SEED):
        case, content = generate(seed, index)
        path = tmp_path / f"case-{index}{case.suffix}"
        path.write_bytes(content)
        images = kubectl_images(path)
        if not any(is_unpinned(image) for image in images):
            continue  # kubectl cannot read it, or applies no unpinned image: nothing to hold the guardrails to
        hiding += 1
        report = guardrails.check({f"k8s/{path.name}": content})
        if not report.blocked:
            missed.append(described(seed, index, case, content, images, report))
    if missed:
        pytest.fail("\n\n".join(missed), pytrace=False)
    assert hiding >= MIN_HIDING_SHARE * CASES_PER_SEED, f"only {hiding} of {CASES_PER_SEED} cases hide an image"


# A pinned Deployment written in ways that change nothing kubectl applies. Left out, as the guardrails block them
# though kubectl reads them as pinned (they refuse what they cannot read the way kubectl does): a JSON stream
# (`{...}{...}`), UTF-16, and a UTF-8 byte order mark before a document other than the first.
PINNED_TEXT = Style().document(deployment(PINNED_IMAGE))
PINNED_LIST = a_list(deployment(PINNED_IMAGE))
KINDLESS_LIST = a_list(
    deployment(PINNED_IMAGE).without("kind", "apiVersion"), kind="DeploymentList", api_version="apps/v1"
)
CONFIG_MAP_TEXT = Style().document(config_map())
BENIGN = {
    "comments.yaml": "# the api\n" + PINNED_TEXT.replace("spec:\n", "spec:  # what runs\n", 1) + "# end\n",
    "crlf.yaml": PINNED_TEXT.replace("\n", "\r\n"),
    "cr.yaml": PINNED_TEXT.replace("\n", "\r"),
    "separators.yaml": f"--- # first\n{CONFIG_MAP_TEXT}--- \t# second\n{PINNED_TEXT}...\n",
    "separators-crlf.yaml": f"--- # a\n{CONFIG_MAP_TEXT}...\n---\n{PINNED_TEXT}".replace("\n", "\r\n"),
    # Not first: a file that starts with `{` is JSON to kubectl.
    "flow.yaml": "# all in flow style\n" + Style(flow_depth=0).document(deployment(PINNED_IMAGE)),
    "half-flow.yaml": Style(flow_depth=3).document(deployment(PINNED_IMAGE)),
    "quoted.yaml": Style(quoted=True).document(deployment(PINNED_IMAGE)),
    "quoted-yes.yaml": PINNED_TEXT.replace("  name: api\n", "  name: api\n  annotations: {flag: 'yes'}\n", 1),
    "anchor.yaml": PINNED_TEXT.replace("  name: api\n", "  name: &api api\n", 1).replace("- name: api", "- name: *api"),
    "bom.yaml": "\ufeff" + PINNED_TEXT.replace("\n", "\r\n"),
    "list.yaml": Style().document(PINNED_LIST),
    "list-flow.yaml": "---\n" + Style(flow_depth=0, quoted=True).document(PINNED_LIST),
    "kindless-items.yaml": Style().document(KINDLESS_LIST),
    "json.yaml": JSON_STYLE.document(deployment(PINNED_IMAGE)),
    "list.json": JSON_STYLE.document(PINNED_LIST),
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_a_pinned_deployment_written_harmlessly_passes(name, guardrails, tmp_path):
    content = BENIGN[name].encode()
    path = tmp_path / name
    path.write_bytes(content)
    assert kubectl_images(path) == [PINNED_IMAGE], "kubectl does not read this case as meant"
    report = guardrails.check({f"k8s/{name}": content})
    assert not report.blocked, report
