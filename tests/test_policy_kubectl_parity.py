"""What a golden path renders is judged as kubectl reads it, checked by kubectl itself.

A template is written by other people: a file kubectl reads one way and the policies another way would let it ship
what no policy judged. Each file below hides a Deployment with a ``:latest`` image somewhere kubectl finds it (a
List, an object with ``items``, a ``---#`` separator, a merge key, text after a broken document...). The real
kubectl reads each one (``kubectl label --local``, which reads files with the same builder as ``apply``, and needs
no cluster); wherever it finds that image, the guardrails must block the run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap

import pytest
import yaml
from test_policy_validate import PINNED

from idp_tui.policy import PolicyGuardrails, load_policies
from idp_tui.resources import demo_catalog_path

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed (Debian: apt-get install kubernetes-client, as .ci/run does)"
)

DEPLOYMENT = yaml.safe_load(PINNED)  # a Deployment every demo policy accepts
LATEST = PINNED.replace("api:1.4.2", "api:latest")
LATEST_DATA = yaml.safe_load(LATEST)
KINDLESS = {key: value for key, value in LATEST_DATA.items() if key not in ("kind", "apiVersion")}
INDENTED = textwrap.indent(LATEST, "  ")
LATEST_IMAGE = "ghcr.io/myorg/api:latest"
IMAGE_LINE = next(line + "\n" for line in PINNED.splitlines() if "image:" in line)
IMAGE_INDENT = IMAGE_LINE[: IMAGE_LINE.index("image:")]

HIDING = {
    "list.yaml": yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [LATEST_DATA]}),
    "kindless-items.yaml": yaml.safe_dump({"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [KINDLESS]}),
    "configmap-items.yaml": yaml.safe_dump(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "items": [LATEST_DATA]}
    ),
    "items.json": json.dumps({**DEPLOYMENT, "items": [KINDLESS]}),
    "comment-separator.yaml": "# c\n---#:\n" + INDENTED,
    "separator-after.yaml": PINNED + "---#:\n" + INDENTED,
    # Go's TrimSpace takes U+00A0 and U+3000 for spaces before the comment, YAML does not: a key to it.
    "nbsp-separator.yaml": PINNED + "---\u00a0#:\n" + INDENTED,
    "ideographic-space-separator.yaml": "# c\n---\u3000#:\n" + INDENTED,
    "merge.yaml": PINNED.replace("image: ghcr.io/myorg/api:1.4.2", "<<: {image: 'ghcr.io/myorg/api:latest'}"),
    "later-merge.yaml": PINNED.replace(
        IMAGE_LINE, f"{IMAGE_LINE}{IMAGE_INDENT}!!merge <<: {{image: '{LATEST_IMAGE}'}}\n"
    ),
    "escaped-merge.yml": PINNED.replace(
        IMAGE_LINE, f'{IMAGE_LINE}{IMAGE_INDENT}! "\\x3c\\x3c": {{image: {LATEST_IMAGE}}}\n'
    ),
    "json-stream.json": json.dumps(LATEST_DATA) + "\n" + json.dumps(LATEST_DATA),
    "utf16.yaml": LATEST,  # written as UTF-16 below
    "binary-tag.yaml": LATEST.replace("  name: api\n", "  name: api\n  annotations: {a: !!binary aGk=}\n", 1),
}


def kubectl_images(path) -> list[str]:
    """The container images of the Deployments kubectl reads from ``path``.

    As JSON: ``label -o yaml`` prints several objects with no ``---`` between them, so a YAML reader sees one mapping
    whose repeated keys keep the last object's. What kubectl printed before it stopped at a broken document counts
    too: ``apply`` applies those objects.
    """
    read = subprocess.run(
        [KUBECTL, "label", "--local", "-f", str(path), "-o", "json", "checked=yes"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [
        container.get("image", "")
        for item in json_stream(read.stdout)
        if isinstance(item, dict) and item.get("kind") == "Deployment"
        for container in item.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    ]


def json_stream(text: str) -> list:
    """The JSON values written one after another in ``text`` (kubectl prints one per object, and no list)."""
    decoder, values = json.JSONDecoder(), []
    position = _SPACE.match(text).end()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
        position = _SPACE.match(text, position).end()
    return values


_SPACE = re.compile(r"\s*")


@pytest.fixture(scope="module")
def guardrails():
    policy_set = load_policies([demo_catalog_path() / "policies"])
    yield PolicyGuardrails(lambda: policy_set)
    policy_set.close()


@pytest.mark.parametrize("name", sorted(HIDING))
def test_whatever_kubectl_would_apply_from_a_file_is_judged_or_blocks_the_run(name, guardrails, tmp_path):
    content = HIDING[name].encode("utf-16" if name == "utf16.yaml" else "utf-8")
    path = tmp_path / name
    path.write_bytes(content)
    assert LATEST_IMAGE in kubectl_images(path), "kubectl does not read this case as meant"
    report = guardrails.check({f"k8s/{name}": content})
    assert report.blocked, report


def test_a_pinned_deployment_passes_both(guardrails, tmp_path):
    path = tmp_path / "pinned.yaml"
    path.write_text(PINNED)
    assert kubectl_images(path) == ["ghcr.io/myorg/api:1.4.2"]
    report = guardrails.check({"k8s/pinned.yaml": PINNED.encode()})
    assert not report.blocked and report.documents == 1


@pytest.mark.parametrize(("written", "kubectl_reads"), [("0_1", 1), ("010", 8), ("0b1", 1)])
def test_a_number_kubectl_reads_otherwise_blocks_the_run(written, kubectl_reads, guardrails, tmp_path):
    # YAML 1.1 (kubectl) reads these plain scalars as other numbers than YAML 1.2 does (text, or ten): a rule on
    # replicas would judge another value than the cluster gets.
    manifest = PINNED.replace("replicas: 2", f"replicas: {written}")
    path = tmp_path / "replicas.yaml"
    path.write_text(manifest)
    read = subprocess.run(
        [KUBECTL, "label", "--local", "-f", str(path), "-o", "json", "checked=yes"], capture_output=True, text=True
    )
    assert json.loads(read.stdout)["spec"]["replicas"] == kubectl_reads
    report = guardrails.check({"k8s/replicas.yaml": manifest.encode()})
    assert report.blocked and report.unjudged == (
        f"k8s/replicas.yaml:1: not judged: kubectl reads {written} as YAML 1.1 does (a boolean, or another number), "
        "idp-tui as YAML 1.2 does, like Backstage; quote it, or write true, false or a plain number",
    )
