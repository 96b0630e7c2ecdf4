"""Policy evaluation benchmarks, as ratios against a baseline measured in the same run.

    .venv/bin/python tests/benchmarks/policies.py [--documents 5000] [--repeats 3] [--no-split] [--json FILE]

- Evaluating 5,000 generated manifests (1,000 files of five documents: Deployments, StatefulSets, Services,
  ConfigMaps, Pods, half of them breaking some guardrail) with the demo bundle (eight Rego rules and six
  ValidatingAdmissionPolicies), as documents per second, against libyaml's CSafeLoader parsing the same files
  (``yaml.load_all``): the floor for anything that reads them. Also Rego alone and the admission policies alone,
  and loading the bundle (starting the worker and compiling).
- ``idp-tui validate --policy <demo bundle> DIR --json`` over the same 5,000 manifests, the whole command in this
  process (loading the policies, the catalog's own scan of the folder, evaluating, printing the JSON), as
  documents per second against the same CSafeLoader baseline.
- A golden path's output: the microservice template rendered (a dry run of the local runner, nothing written) against
  the demo policies checking what it rendered (the guardrails a run applies before publishing), as a ratio
  (target: under 0.5x). The policies' workers (two where there are two cores: the Rego rules and the admission
  policies of a small check run side by side) are started once per session; their start is reported on its own.

Evaluation is the public API (``idp_tui.policy``) directly; ``idp-tui validate --policy`` wraps the same calls.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

DOCUMENTS_PER_FILE = 5
GOLDEN_RUNS = 40


def _workload(kind: str, index: int, rng: random.Random) -> dict:
    name = f"svc-{index}"
    labels = {"app.kubernetes.io/name": name, "backstage.io/kubernetes-id": name}
    if rng.random() < 0.5:
        labels["environment"] = "production"
    container = {
        "name": "app",
        "image": f"ghcr.io/myorg/{name}:{rng.randint(1, 9)}.{rng.randint(0, 20)}.0",
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
        "env": [{"name": f"VAR_{n}", "value": str(n)} for n in range(5)],
    }
    breakage = rng.random()
    if breakage < 0.1:
        container["image"] = "nginx:latest"
    elif breakage < 0.2:
        del container["resources"]["limits"]["cpu"]
    elif breakage < 0.3:
        del container["readinessProbe"]
    elif breakage < 0.4:
        container["securityContext"]["runAsNonRoot"] = False
    elif breakage < 0.5:
        del labels["backstage.io/kubernetes-id"]
    pod_spec = {"containers": [container, dict(container, name="sidecar", image="envoyproxy/envoy:v1.31.0")]}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": pod_spec}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "labels": labels},
        "spec": {
            "replicas": rng.choice([1, 2, 3]),
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def generate(directory: Path, documents: int, seed: int = 7) -> int:
    """Write ``documents`` manifests, five per file; returns how many files."""
    rng = random.Random(seed)
    files = 0
    for start in range(0, documents, DOCUMENTS_PER_FILE):
        batch = []
        for index in range(start, min(start + DOCUMENTS_PER_FILE, documents)):
            kind = ("Deployment", "Service", "StatefulSet", "ConfigMap", "Pod")[index % DOCUMENTS_PER_FILE]
            if kind == "Service":
                batch.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": f"svc-{index}"},
                        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
                    }
                )
            elif kind == "ConfigMap":
                batch.append(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": f"cm-{index}"},
                        "data": {f"key{n}": f"value {n}" for n in range(10)},
                    }
                )
            else:
                batch.append(_workload(kind, index, rng))
        (directory / f"app-{start // DOCUMENTS_PER_FILE:05d}.yaml").write_text(
            yaml.safe_dump_all(batch, sort_keys=False)
        )
        files += 1
    return files


def parse_with_csafeloader(directory: Path) -> int:
    documents = 0
    for path in sorted(directory.glob("*.yaml")):
        documents += sum(1 for data in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if data is not None)
    return documents


def validate_command_seconds(bundle: Path, directory: Path) -> float:
    """Seconds ``idp-tui validate --policy BUNDLE DIRECTORY --json`` takes in this process (its output discarded)."""
    import contextlib
    import io

    from idp_tui.cli import main

    sink = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
        status = main(["validate", "--policy", str(bundle), str(directory), "--json"])
    seconds = time.perf_counter() - started
    assert status == 1 and sink.getvalue().startswith("["), status  # half the manifests break a guardrail
    return seconds


def bench_golden_path(bundle: Path, repeats: int) -> dict:
    """The microservice template rendered (dry run) against the demo policies judging what it rendered."""
    from idp_tui.golden.guardrails import guardrail_inputs
    from idp_tui.golden.template import templates_in
    from idp_tui.policy import PolicyGuardrails, load_policies
    from idp_tui.policy.parallel import wait_for_spare
    from idp_tui.session import Session

    values = {
        "name": "invoice-svc",
        "owner": "group:default/team-payments",
        "system": "system:default/checkout-platform",
        "language": "python",
        "tier": "tier-2",
        "needsDatabase": False,
        "imageTag": "1.0.0",
        "repoUrl": "github.com?owner=myorg&repo=invoice-svc",
    }
    with Session.for_catalog(use_cache=False) as session:  # no policies: rendering alone
        catalog = session.catalog_source.load()
        template = next(t for t in templates_in(catalog.entities) if t.key.endswith("/microservice-golden-path"))
        runner = session.template_runner(catalog)
        rendered = runner.run(template, values, dry_run=True)  # warm-up: templates compiled, modules imported
        assert rendered.status == "completed", rendered.error
        started = time.perf_counter()
        policy_set = load_policies([bundle])
        guardrails = PolicyGuardrails(lambda: policy_set)
        inputs = guardrail_inputs(rendered.files)
        guardrails.check(inputs)  # the session's first check: it starts the second worker
        wait_for_spare(policy_set, 60)
        start_s = time.perf_counter() - started
        render_times, check_times = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            rendered = runner.run(template, values, dry_run=True)
            render_times.append(time.perf_counter() - started)
            inputs = guardrail_inputs(rendered.files)
            started = time.perf_counter()
            report = guardrails.check(inputs)
            check_times.append(time.perf_counter() - started)
        assert not report.findings, report
        policy_set.close()
    render_s, check_s = statistics.median(render_times), statistics.median(check_times)
    return {
        "golden_render_s": render_s,
        "golden_check_s": check_s,
        "golden_ratio": check_s / render_s,
        "golden_documents": report.documents,
        "golden_files": len(inputs),
        "golden_policy_start_s": start_s,
    }


def _median_rate(function, documents: int, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return seconds, documents / seconds


def run(documents: int, repeats: int, *, split: bool = True) -> dict:
    from idp_tui.policy import evaluate_files, load_policies
    from idp_tui.resources import demo_catalog_path

    work = Path(tempfile.mkdtemp(prefix="idp-tui-bench-policies-"))
    try:
        manifests = work / "manifests"
        manifests.mkdir()
        generate(manifests, documents)
        bundle = demo_catalog_path() / "policies"
        started = time.perf_counter()
        demo = load_policies([bundle])
        load_s = time.perf_counter() - started
        assert not demo.problems, demo.problems

        # Rego only and admission policies only: the same bundle loaded with the other half left out.
        engines = [("both", demo)]
        if split:
            engines.append(("rego", load_policies([bundle / "kubernetes.rego", bundle / "data.json"])))
            engines.append(("vap", load_policies([bundle / "admission.yaml", bundle / "params.yaml"])))
        parsed = parse_with_csafeloader(manifests)
        assert parsed == documents, parsed
        figures = {"documents": documents, "load_bundle_s": load_s}
        _, baseline_rate = _median_rate(lambda: parse_with_csafeloader(manifests), documents, repeats)
        figures["csafeloader_docs_per_s"] = baseline_rate
        for label, policy_set in engines:
            times = []
            for attempt in range(repeats):  # the worker is already running: load_policies started it
                started = time.perf_counter()
                evaluation = evaluate_files(policy_set, [manifests])
                times.append(time.perf_counter() - started)
                if attempt == 0:
                    assert evaluation.documents == documents and not evaluation.problems, evaluation.problems[:3]
            rate = documents / statistics.median(times)
            figures[f"{label}_docs_per_s"] = rate
            figures[f"{label}_ratio_to_csafeloader"] = rate / baseline_rate
            figures[f"{label}_results"] = len(evaluation.results)
        for _, policy_set in engines:
            policy_set.close()
        # The command as a person runs it: a new worker each time, as each `idp-tui validate` starts one.
        command_s = statistics.median(validate_command_seconds(bundle, manifests) for _ in range(repeats))
        figures["validate_command_docs_per_s"] = documents / command_s
        figures["validate_command_ratio_to_csafeloader"] = documents / command_s / baseline_rate
        # Each run takes milliseconds: many alternating runs, so one busy moment of the machine cannot decide it.
        figures.update(bench_golden_path(bundle, max(repeats, GOLDEN_RUNS)))
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement (the median counts)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--no-split", action="store_true", help="skip the Rego-only and admission-only runs (a shorter run)"
    )
    options = parser.parse_args()
    figures = run(options.documents, options.repeats, split=not options.no_split)
    print(f"{figures['documents']:,} manifests; CSafeLoader parses {figures['csafeloader_docs_per_s']:,.0f} docs/s")
    for label, words in (
        ("both", "Rego + admission policies"),
        ("rego", "Rego only"),
        ("vap", "admission policies only"),
    ):
        if f"{label}_docs_per_s" not in figures:
            continue
        print(
            f"  {words:28s} {figures[f'{label}_docs_per_s']:8,.0f} docs/s  "
            f"{figures[f'{label}_ratio_to_csafeloader']:.2f}x CSafeLoader's rate  ({figures[f'{label}_results']:,} results)"
        )
    print(
        f"  {'idp-tui validate --policy':28s} {figures['validate_command_docs_per_s']:8,.0f} docs/s  "
        f"{figures['validate_command_ratio_to_csafeloader']:.2f}x CSafeLoader's rate  (the whole command)"
    )
    print(f"  loading the demo bundle (worker start + compile): {figures['load_bundle_s'] * 1000:.0f} ms")
    print(
        f"microservice golden path: rendering {figures['golden_render_s'] * 1000:.1f} ms, the demo policies on its "
        f"{figures['golden_files']} files ({figures['golden_documents']} documents) {figures['golden_check_s'] * 1000:.1f} ms"
    )
    verdict = "under" if figures["golden_ratio"] < 0.5 else "OVER"
    print(
        f"  policies / rendering: {figures['golden_ratio']:.2f}x ({verdict} the 0.5x target); starting the policy "
        f"workers and the first check, once per session: {figures['golden_policy_start_s'] * 1000:.0f} ms"
    )
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
