"""A hostile local catalog: host files, endless inputs, bombs and broken values (issue 14, the catalog part).

Each test runs the real ``idp-tui`` in a child with memory, CPU and wall-clock limits (``tests/hostile.py``), so an
endless read, a hang or an explosion fails the test instead of the suite. Every bad input must end as a problem
with its ``file:line`` while the good entities beside it are still listed, nothing outside the catalog root may
reach the output or the parse cache, and ``--json`` must always be valid JSON.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from hostile import Canary, Outcome, make_canary, run_idp_tui

from idp_tui.catalog import limits
from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.catalog.techdocs import find_techdocs, read_page

GOOD = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def _catalog(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """A catalog folder holding ``files`` and a good entity; host files go beside it, outside the root."""
    return _write(tmp_path / "catalog", {"good.yaml": GOOD.format(name="good"), **files})


def _no_json_constants(constant: str):
    raise AssertionError(f"{constant} is not JSON")


def _listed(root: Path, **kwargs) -> tuple[Outcome, list[str]]:
    """``catalog list --json``: the outcome and the names listed (the JSON must be strict JSON)."""
    outcome = run_idp_tui("--catalog", str(root), "catalog", "list", "--json", **kwargs)
    outcome.assert_no_traceback()
    assert outcome.returncode == 0, outcome.output[-2000:]
    entities = json.loads(outcome.stdout, parse_constant=_no_json_constants)
    return outcome, sorted(entity["metadata"]["name"] for entity in entities)


def _validated(root: Path, *paths: str, **kwargs) -> Outcome:
    """``validate`` run in the catalog folder (problems print as ``file:line: ...`` relative to it)."""
    outcome = run_idp_tui("validate", *(paths or (".",)), cwd=root, **kwargs)
    outcome.assert_no_traceback()
    return outcome


def _problem_lines(outcome: Outcome, prefix: str) -> list[str]:
    return [line for line in outcome.stdout.splitlines() if line.startswith(prefix)]


def _assert_problem(outcome: Outcome, where: str, *words: str) -> None:
    """``validate`` failed with a problem at ``where`` (``file:line:``) whose text holds every word."""
    assert outcome.returncode == 1, outcome.output[-2000:]
    lines = _problem_lines(outcome, where)
    assert any(all(word in line for word in words) for line in lines), f"no {where} {words} in:\n{outcome.stdout}"


def _assert_nothing_leaked(canary: Canary, cache: Path, *outcomes: Outcome) -> None:
    for outcome in outcomes:
        canary.assert_absent(outcome.stdout, outcome.stderr)
    canary.assert_absent_under(cache)


# ---- host files: placeholders ------------------------------------------------------------------------------

API_WITH_PLACEHOLDER = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: hostile-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    {kind}: {target}
"""


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("$text", "{canary}"),
        ("$text", "../host/host-secret.txt"),
        ("$text", "./specs/link-to-host.txt"),
        ("$json", "../host/host-secret.txt"),
        ("$yaml", "{canary}"),
        ("$text", "/proc/self/environ"),
        ("$text", "/etc/shadow"),
    ],
    ids=["absolute", "dot-dot", "symlink", "json", "yaml", "proc-environ", "etc-shadow"],
)
def test_placeholders_never_read_outside_the_catalog_root(tmp_path, isolated_cache, kind, target):
    canary = make_canary(tmp_path / "host")
    root = _catalog(
        tmp_path, {"api.yaml": API_WITH_PLACEHOLDER.format(kind=kind, target=target.format(canary=canary.path))}
    )
    (root / "specs").mkdir()
    (root / "specs" / "link-to-host.txt").symlink_to(canary.path)
    env = {"IDP_TUI_TEST_SECRET": canary.value}  # what /proc/self/environ would hand over

    outcome, names = _listed(root, env=env)
    assert names == ["good"]
    checked = _validated(root, env=env)
    _assert_problem(checked, "api.yaml:10:", kind, "outside the catalog root")
    _assert_nothing_leaked(canary, isolated_cache, outcome, checked)
    shadow = Path("/etc/shadow")
    if os.access(shadow, os.R_OK):
        first_line = shadow.read_text(errors="replace").splitlines()[0]
        assert first_line not in outcome.stdout + checked.stdout
        assert not any(first_line.encode() in p.read_bytes() for p in isolated_cache.rglob("*") if p.is_file())


def test_a_placeholder_path_with_a_null_byte_is_a_problem(tmp_path):
    root = _catalog(tmp_path, {"api.yaml": API_WITH_PLACEHOLDER.format(kind="$text", target='"./spec\\0.txt"')})
    _, names = _listed(root)
    assert names == ["good"]
    _assert_problem(_validated(root), "api.yaml:10:", "$text", "null byte")


def test_a_deeply_nested_json_placeholder_is_a_problem(tmp_path):
    depth = 200_000
    root = _catalog(tmp_path, {"api.yaml": API_WITH_PLACEHOLDER.format(kind="$json", target="./deep.json")})
    (root / "deep.json").write_text("[" * depth + "]" * depth)
    _, names = _listed(root)
    assert names == ["good"]
    _assert_problem(_validated(root), "api.yaml:10:", "$json", "nested too deeply")


@pytest.mark.parametrize("kind", ["$text", "$yaml"])
def test_placeholder_files_must_be_regular_files_within_the_size_cap(tmp_path, kind):
    root = _catalog(
        tmp_path,
        {
            "fifo.yaml": API_WITH_PLACEHOLDER.format(kind=kind, target="./specs/fifo").replace("hostile-api", "a"),
            "zero.yaml": API_WITH_PLACEHOLDER.format(kind=kind, target="./specs/zero").replace("hostile-api", "b"),
            "big.yaml": API_WITH_PLACEHOLDER.format(kind=kind, target="./specs/big.txt").replace("hostile-api", "c"),
        },
    )
    (root / "specs").mkdir()
    os.mkfifo(root / "specs" / "fifo")  # open() of a FIFO blocks until a writer comes: it must never be opened
    (root / "specs" / "zero").symlink_to("/dev/zero")
    with open(root / "specs" / "big.txt", "wb") as handle:  # sparse: costs no disk
        handle.truncate(limits.MAX_PLACEHOLDER_FILE_BYTES + 1)

    _, names = _listed(root)
    assert names == ["good"]
    checked = _validated(root)
    _assert_problem(checked, "fifo.yaml:10:", kind, "not a regular file")
    _assert_problem(checked, "zero.yaml:10:", kind, "outside the catalog root")
    _assert_problem(checked, "big.yaml:10:", kind, "larger than 8 MiB")


# ---- host files and endless walks: Location targets ---------------------------------------------------------

LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: hostile-location
spec:
  targets:
    - {target}
"""


@pytest.mark.parametrize(
    "target",
    [
        "../host/*.yaml",
        "../host/entity.yaml",
        "{host}/entity.yaml",
        "./linked/*.yaml",
        "./linked/entity.yaml",
        "/**/*.yaml",
    ],
    ids=["dot-dot-glob", "dot-dot", "absolute", "symlinked-folder-glob", "symlinked-folder", "whole-file-system"],
)
def test_location_targets_never_leave_the_catalog_root(tmp_path, isolated_cache, target):
    canary = make_canary(tmp_path / "host")
    (tmp_path / "host" / "entity.yaml").write_text(GOOD.format(name=canary.value))
    root = _catalog(tmp_path, {"location.yaml": LOCATION.format(target=target.format(host=tmp_path / "host"))})
    (root / "linked").symlink_to(tmp_path / "host")

    outcome, names = _listed(root, wall_s=30)
    assert names == ["good", "hostile-location"]
    checked = _validated(root, wall_s=30)
    _assert_problem(checked, "location.yaml:1:", "outside the catalog root")
    _assert_nothing_leaked(canary, isolated_cache, outcome, checked)


def test_a_file_named_on_the_command_line_is_confined_to_its_folder(tmp_path, isolated_cache):
    canary = make_canary(tmp_path / "host")
    (tmp_path / "host" / "entity.yaml").write_text(GOOD.format(name=canary.value))
    root = _catalog(tmp_path, {"catalog-info.yaml": LOCATION.format(target="../host/entity.yaml")})
    outcome, names = _listed(root / "catalog-info.yaml")
    assert names == ["hostile-location"]
    checked = _validated(root, "catalog-info.yaml")
    _assert_problem(checked, "catalog-info.yaml:1:", "outside the catalog root")
    _assert_nothing_leaked(canary, isolated_cache, outcome, checked)


def test_a_recursive_glob_through_symlink_loops_ends(tmp_path):
    root = _catalog(tmp_path, {"location.yaml": LOCATION.format(target="./**/*.yaml")})
    (root / "loop-a").symlink_to(".")  # two links back to the folder: 2^40 paths for a naive walk
    (root / "loop-b").symlink_to(".")
    _, names = _listed(root, wall_s=30)
    assert names == ["good", "hostile-location"]
    checked = _validated(root, wall_s=30)
    assert checked.returncode == 0, checked.output  # each file read once: no duplicate entity


def test_a_scanned_symlink_out_of_the_root_is_a_problem(tmp_path, isolated_cache):
    canary = make_canary(tmp_path / "host")
    (tmp_path / "host" / "entity.yaml").write_text(GOOD.format(name=canary.value))
    root = _catalog(tmp_path, {})
    (root / "stolen.yaml").symlink_to(tmp_path / "host" / "entity.yaml")
    outcome, names = _listed(root)
    assert names == ["good"]
    checked = _validated(root)
    _assert_problem(checked, "stolen.yaml:1:", "outside the catalog root")
    _assert_nothing_leaked(canary, isolated_cache, outcome, checked)


def test_fifos_devices_and_oversized_catalog_files_are_problems_not_hangs(tmp_path):
    root = _catalog(tmp_path, {})
    os.mkfifo(root / "fifo.yaml")
    (root / "zero.yaml").symlink_to("/dev/zero")
    with open(root / "huge.yaml", "wb") as handle:
        handle.truncate(limits.MAX_CATALOG_FILE_BYTES + 1)
    _, names = _listed(root, wall_s=30)
    assert names == ["good"]
    checked = _validated(root, wall_s=30)
    _assert_problem(checked, "fifo.yaml:1:", "not a regular file")
    _assert_problem(checked, "zero.yaml:1:", "outside the catalog root")
    _assert_problem(checked, "huge.yaml:1:", "larger than 8 MiB")


def test_a_catalog_path_that_is_a_device_is_a_problem(tmp_path):
    link = tmp_path / "catalog-info.yaml"
    link.symlink_to("/dev/zero")
    outcome = _validated(tmp_path, "catalog-info.yaml", wall_s=30)
    _assert_problem(outcome, "catalog-info.yaml:1:", "not a regular file")


def test_globs_and_catalogs_stop_at_their_file_caps(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GLOB_FILES", 3)
    monkeypatch.setattr(limits, "MAX_CATALOG_FILES", 5)
    files = {f"many/{n}.yaml": GOOD.format(name=f"many-{n}") for n in range(8)}
    root = _write(tmp_path / "catalog", {"catalog-info.yaml": LOCATION.format(target="./many/*.yaml"), **files})

    through_location = LocalCatalogSource([root / "catalog-info.yaml"], use_cache=False).load()
    assert len([e for e in through_location.entities if e.name.startswith("many-")]) == 3
    assert any("stopped after 3 files" in p.message for p in through_location.problems)

    scanned = LocalCatalogSource([root], use_cache=False).load()
    assert len(scanned) == 5
    assert any("stopped after 5 files" in p.message for p in scanned.problems)


def test_the_folders_globs_list_are_capped_for_the_whole_catalog(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GLOB_FOLDERS", 4)
    files = {"/".join(["deep"] * depth) + "/e.yaml": GOOD.format(name=f"deep-{depth}") for depth in range(1, 8)}
    root = _write(tmp_path / "catalog", {"catalog-info.yaml": LOCATION.format(target="./**/e.yaml"), **files})
    catalog = LocalCatalogSource([root / "catalog-info.yaml"], use_cache=False).load()
    assert len([e for e in catalog.entities if e.name.startswith("deep-")]) < 7
    assert any("cut short" in p.message and "4 folders" in p.message for p in catalog.problems)


def test_the_registry_of_registered_entities_is_a_root_of_its_own(tmp_path, isolated_cache):
    """Registered Locations (written by idp-tui) name published repositories anywhere; each repository is then
    the root of what it names, and a symlink dropped into the registry leads nowhere."""
    canary = make_canary(tmp_path / "host")
    (tmp_path / "host" / "entity.yaml").write_text(GOOD.format(name=canary.value))
    root = _catalog(tmp_path, {})
    repository = _write(
        tmp_path / "repositories" / "svc",
        {"catalog-info.yaml": GOOD.format(name="svc") + "---\n" + LOCATION.format(target="../../host/entity.yaml")},
    )
    registry = _write(
        tmp_path / "registry",
        {"location-1.yaml": LOCATION.format(target=repository / "catalog-info.yaml").replace("hostile", "registered")},
    )
    (registry / "stolen.yaml").symlink_to(tmp_path / "host" / "entity.yaml")

    catalog = LocalCatalogSource([root], optional_paths=[registry]).load()
    assert sorted(e.name for e in catalog.entities) == ["good", "hostile-location", "registered-location", "svc"]
    refused = sorted((Path(p.path).name, p.line, "outside the catalog root" in p.message) for p in catalog.problems)
    assert refused == [("catalog-info.yaml", 10, True), ("stolen.yaml", 1, True)]
    canary.assert_absent(*(p.message for p in catalog.problems))
    canary.assert_absent_under(isolated_cache)


def test_many_files_cannot_add_up_past_the_catalog_budgets(tmp_path, monkeypatch):
    """Each file within its own budget, together over the catalog's: the files past it are refused, and say so."""
    monkeypatch.setattr(limits, "MAX_ALIAS_NODES_PER_CATALOG", 100)
    monkeypatch.setattr(limits, "MAX_INCLUDED_BYTES_PER_CATALOG", 1000)
    aliased = "  x: &x [a, b, c, d, e, f, g, h, i, j]\n  y: [*x, *x, *x, *x, *x]\n"  # adds 55 nodes
    included = "  definition: {$text: ./spec.txt}\n"  # includes 600 bytes
    files = {f"aliases-{n}.yaml": GOOD.format(name=f"aliases-{n}") + aliased for n in range(3)}
    files |= {f"includes-{n}.yaml": GOOD.format(name=f"includes-{n}") + included for n in range(3)}
    root = _catalog(tmp_path, files)
    (root / "spec.txt").write_text("x" * 600)

    catalog = LocalCatalogSource([root], use_cache=False).load()
    assert sorted(e.name for e in catalog.entities) == ["aliases-0", "good", "includes-0"]
    refused = sorted((Path(p.path).name, p.line) for p in catalog.problems if "not read" in p.message)
    assert refused == [(f"{kind}-{n}.yaml", 1) for kind in ("aliases", "includes") for n in (1, 2)]


WITH_DOCS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  annotations:
    backstage.io/techdocs-ref: {ref}
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


def test_techdocs_stay_beside_the_descriptor_and_never_block(tmp_path):
    canary = make_canary(tmp_path / "host", "secret.md")
    nav = f"nav:\n  - index.md\n  - {canary.path}\n  - ../../../host/secret.md\n  - Stolen: ../../../host/secret.md\n"
    root = _catalog(
        tmp_path,
        {
            "nav/catalog-info.yaml": WITH_DOCS.format(name="nav", ref="dir:."),
            "nav/mkdocs.yml": nav,
            "nav/docs/index.md": "# Nav\n",
            "folder/catalog-info.yaml": WITH_DOCS.format(name="folder", ref="dir:."),
            "folder/docs/index.md": "# Folder\n",
            "away/catalog-info.yaml": WITH_DOCS.format(name="away", ref="dir:../../host"),
            "moved/catalog-info.yaml": WITH_DOCS.format(name="moved", ref="dir:."),
            "moved/mkdocs.yml": "docs_dir: ../../host\n",
        },
    )
    os.mkfifo(root / "folder" / "docs" / "fifo.md")
    (root / "folder" / "docs" / "leak.md").symlink_to(canary.path)
    catalog = LocalCatalogSource([root], use_cache=False).load()

    def pages(name):
        return find_techdocs(catalog.get(f"component:default/{name}"))

    assert [Path(page.path).name for page in pages("nav").pages] == ["index.md"]
    folder = pages("folder").pages
    assert sorted(Path(page.path).name for page in folder) == ["fifo.md", "index.md"]
    with pytest.raises(OSError, match="not a regular file"):  # refused at once, never opened
        read_page(next(page for page in folder if page.path.endswith("fifo.md")))
    assert "outside" in pages("away").problem
    assert "outside" in pages("moved").problem


# ---- values that cannot be data: one problem each, with its line; the rest of the catalog loads -----------

BAD_VALUE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bad
  annotations:
{annotations}
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: also-good
spec:
  type: service
  lifecycle: production
  owner: team-a
"""


@pytest.mark.parametrize(
    ("annotations", "line", "words"),
    [
        ("    example.com/x: .nan", 6, ["not a finite number"]),
        ("    example.com/x: -.inf", 6, ["not a finite number"]),
        ("    example.com/x: 1e999", 6, ["not a finite number"]),
        ("    example.com/x: !!float abc", 6, ["!!float"]),
        ("    example.com/x: !!int abc", 6, ["!!int"]),
        ("    example.com/x: " + "9" * 5000, 6, ["integer"]),
        ("    example.com/x: 0x" + "f" * 5000, 6, ["integer"]),
        ("    example.com/x: !!timestamp hello", 6, ["!!timestamp"]),
        ("    example.com/x: !!timestamp 2024-01-01", 6, ["!!timestamp"]),
        ("    example.com/x: !!binary aGVsbG8=", 6, ["!!binary"]),
        ("    example.com/x: !!set {a, b}", 6, ["!!set"]),
        ("    1.5: x", 6, ["key", "string"]),
        ("    !!binary aGVsbG8=: x", 6, ["!!binary"]),
        ("    [a, b]: x", 6, ["key", "string"]),
        ("    example.com/x: &a [*a]", 6, ["recursive"]),
        ("    example.com/x: &a {k: *a}", 6, ["recursive"]),
        ("    example.com/x: a\n    example.com/x: b", 7, ["Map keys must be unique"]),
        ("    example.com/x: " + "[" * 150 + "]" * 150, 6, ["nested deeper than 100"]),
        (
            "    example.com/x: &a " + "[" * 60 + "]" * 60 + "\n    example.com/y: " + "[" * 60 + "*a" + "]" * 60,
            7,
            ["nested"],
        ),
    ],
    ids=[
        "nan",
        "inf",
        "float-overflow",
        "float-tag",
        "int-tag",
        "huge-int",
        "huge-hex",
        "timestamp-tag",
        "timestamp",
        "binary",
        "set",
        "float-key",
        "binary-key",
        "sequence-key",
        "self-alias-list",
        "self-alias-map",
        "duplicate-key",
        "deep",
        "deep-through-an-alias",
    ],
)
def test_a_value_that_is_not_json_data_is_a_problem_for_its_document_only(tmp_path, annotations, line, words):
    root = _catalog(tmp_path, {"bad.yaml": BAD_VALUE.format(annotations=annotations)})
    _, names = _listed(root)
    assert names == ["also-good", "good"]  # the bad file's other document and the file beside it
    _assert_problem(_validated(root), f"bad.yaml:{line}:", "YAML", *words)


def test_a_good_entity_beside_a_crashing_file_is_still_listed(tmp_path):
    root = _catalog(tmp_path, {"a-bad.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nx: !!float abc\n"})
    _, names = _listed(root)
    assert names == ["good"]
    _, named = _listed(root / "good.yaml")
    assert named == ["good"]


BOMB = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bomb
spec:
  type: service
  lifecycle: production
  owner: team-a
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_an_alias_bomb_is_refused_with_its_line_and_prints_nothing_big(tmp_path):
    root = _catalog(tmp_path, {"bomb.yaml": BOMB + "---\n" + GOOD.format(name="after-bomb")})
    outcome, names = _listed(root, wall_s=30)
    assert names == ["after-bomb", "good"]
    assert len(outcome.stdout) < 10_000
    _assert_problem(_validated(root, wall_s=30), "bomb.yaml:15:", "YAML", "aliases", "1,000,000")


def test_a_yaml_placeholder_of_an_alias_bomb_is_refused(tmp_path):
    root = _catalog(tmp_path, {"api.yaml": API_WITH_PLACEHOLDER.format(kind="$yaml", target="./bomb.yaml")})
    (root / "bomb.yaml").write_text(BOMB.replace("name: bomb", "name: inner"))
    outcome, names = _listed(root, wall_s=30)
    assert names == ["good"]
    assert len(outcome.stdout) < 10_000
    _assert_problem(_validated(root, wall_s=30), "api.yaml:10:", "$yaml", "aliases")


def test_repeated_placeholders_stop_at_the_file_budget(tmp_path):
    """One spec included over and over: what a file may pull in is bounded, not the product of the two."""
    references = "\n".join(f"    example.com/r{n}: {{$text: ./spec.txt}}" for n in range(40))
    root = _catalog(tmp_path, {"many.yaml": BAD_VALUE.format(annotations=references)})
    (root / "spec.txt").write_text("x" * (1024 * 1024))  # 40 x 1 MiB: over the 16 MiB a file may include
    outcome, names = _listed(root, wall_s=30)
    assert "bad" not in names and "also-good" in names
    assert len(outcome.stdout) < 20 * 1024 * 1024
    _assert_problem(_validated(root, wall_s=30), "many.yaml:", "$text", "MiB")


def test_anchors_and_merge_keys_within_the_budget_still_work(tmp_path):
    shared = """\
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: merged
      labels: &labels {tier: gold, team: a}
      annotations:
        !!merge <<: *labels  # a plain << is an ordinary key, as in Backstage: only the explicit tag merges
        example.com/extra: "yes"
    spec: &spec
      type: service
      lifecycle: production
      owner: team-a
      tags: [*labels, *labels]
    """
    root = _catalog(tmp_path, {"merged.yaml": shared})
    outcome, names = _listed(root)
    assert names == ["good", "merged"]
    merged = next(e for e in json.loads(outcome.stdout) if e["metadata"]["name"] == "merged")
    assert merged["metadata"]["annotations"]["tier"] == "gold"
    assert merged["spec"]["tags"] == [{"tier": "gold", "team": "a"}] * 2
    assert _validated(root).returncode == 0


def test_thousands_of_invalid_documents_are_placed_in_linear_time(tmp_path):
    """Each problem's line is looked up in its file: once per problem must not mean once over the whole file."""
    invalid = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n---\n"  # no spec
    root = _catalog(tmp_path, {"many.yaml": invalid * 5000})
    checked = _validated(root, wall_s=30)
    assert len(_problem_lines(checked, "many.yaml:")) == 5000
    _assert_problem(checked, "many.yaml:19997:", "spec")


# ---- text that is not UTF-8 ---------------------------------------------------------------------------------


def test_files_that_are_not_utf8_text_are_reported(tmp_path):
    root = _catalog(
        tmp_path,
        {
            "latin1.yaml": GOOD.format(name="caf\xe9").encode("latin-1"),
            "utf16.yaml": GOOD.format(name="wide").encode("utf-16"),
            "binary.yaml": bytes(range(256)) * 4,
        },
    )
    (root / "loc.yaml").write_text(LOCATION.format(target="./named.txt"))
    (root / "named.txt").write_bytes(b"\xff\xfe\x00garbage")
    _, names = _listed(root)
    assert names == ["good", "hostile-location"]
    checked = _validated(root)
    for name in ("latin1.yaml", "utf16.yaml", "binary.yaml", "named.txt"):
        _assert_problem(checked, f"{name}:1:", "not UTF-8 text")


# ---- the parse cache ----------------------------------------------------------------------------------------


def test_the_cache_never_holds_refused_content_and_a_swapped_in_symlink_is_refused(tmp_path, isolated_cache):
    canary = make_canary(tmp_path / "host")
    root = _catalog(tmp_path, {"api.yaml": API_WITH_PLACEHOLDER.format(kind="$text", target="./spec.txt")})
    spec = root / "spec.txt"
    spec.write_text("openapi: 3.0.0\n")
    first, names = _listed(root)
    assert names == ["good", "hostile-api"]
    assert list(isolated_cache.rglob("catalog-*.marshal"))

    spec.unlink()
    spec.symlink_to(canary.path)  # the same name, now pointing out of the root
    warm, names = _listed(root)
    assert names == ["good"]
    again, names = _listed(root)  # and again from the cache the second run wrote
    assert names == ["good"]
    _assert_nothing_leaked(canary, isolated_cache, first, warm, again)
