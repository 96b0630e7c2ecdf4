"""The local catalog source: directories, Location targets (relative, globs, loops), placeholders, cache."""

import os
import time

from idp_tui.catalog.local_source import LocalCatalogSource

GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: {name}}}\nspec: {{type: team, children: []}}\n"
)


def _location(*targets, presence=None):
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Location", f"metadata: {{name: loc-{len(targets)}}}", "spec:"]
    lines.append("  targets:")
    lines += [f"    - {t}" for t in targets]
    if presence:
        lines.append(f"  presence: {presence}")
    return "\n".join(lines) + "\n"


def _names(catalog):
    return sorted(e.name for e in catalog.entities)


def test_location_targets_are_followed_relative_to_their_file_with_globs(write_catalog):
    root = write_catalog(
        {
            "root.yaml": _location("./teams/*.yaml", "../outside/extra.yaml"),
            "teams/a.yaml": GROUP.format(name="team-a"),
            "teams/b.yaml": GROUP.format(name="team-b"),
            "teams/notes.txt": "not yaml",
        }
    )
    (root.parent / "outside").mkdir(exist_ok=True)
    (root.parent / "outside" / "extra.yaml").write_text(GROUP.format(name="team-x"))
    catalog = LocalCatalogSource([root / "root.yaml"], use_cache=False).load()
    # The catalog root is the folder of the file given (issue 14): a target out of it is refused, not read.
    assert _names(catalog) == ["loc-2", "team-a", "team-b"]
    assert [(p.line, p.rule) for p in catalog.problems] == [(1, "location")]
    assert "../outside/extra.yaml is outside the catalog root" in catalog.problems[0].message


def test_location_loops_end_and_each_file_is_read_once(write_catalog):
    root = write_catalog(
        {
            "a.yaml": _location("./b.yaml") + "---\n" + GROUP.format(name="team-a"),
            "b.yaml": _location("./a.yaml", "./a.yaml").replace("loc-2", "loc-b"),
        }
    )
    source = LocalCatalogSource([root / "a.yaml"], use_cache=False)
    catalog = source.load()
    assert _names(catalog) == ["loc-1", "loc-b", "team-a"]
    assert source.stats.files == 2
    assert not catalog.problems  # no duplicates: a.yaml was not read twice


def test_missing_targets_are_problems_unless_optional(write_catalog):
    root = write_catalog(
        {
            "required.yaml": _location("./nope.yaml"),
            "optional.yaml": _location("./nope/*.yaml", presence="optional").replace("loc-1", "loc-opt"),
            "remote.yaml": _location("https://github.com/org/repo/blob/main/catalog-info.yaml").replace(
                "loc-1", "loc-remote"
            ),
        }
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()
    messages = sorted((os.path.basename(p.path), p.line, p.message) for p in catalog.problems)
    assert messages[0][0] == "remote.yaml" and "is not read by a local catalog" in messages[0][2]
    assert messages[1] == ("required.yaml", 1, "Location target ./nope.yaml matched no files")
    assert len(messages) == 2
    assert len(catalog) == 3  # the Location entities themselves are valid


def test_directories_skip_hidden_and_skeleton_folders_and_files_that_are_not_descriptors(write_catalog):
    root = write_catalog(
        {
            "team.yml": GROUP.format(name="team-a"),
            "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "openapi.yaml": "openapi: 3.0.0\n",
            "broken-descriptor.yaml": "apiVersion: backstage.io/v1alpha1\nkind: [unclosed\n",
            "templates/t/skeleton/catalog-info.yaml": "metadata: {name: ${{ values.name }}}\n",
            ".git/config.yaml": "not: an entity\n",
            "node_modules/x/catalog-info.yaml": "also: not\n",
        }
    )
    source = LocalCatalogSource([root], use_cache=False)
    catalog = source.load()
    assert _names(catalog) == ["team-a"]
    # The broken descriptor is still reported: it mentions backstage.io but cannot be parsed.
    assert [(os.path.basename(p.path), p.rule) for p in catalog.problems] == [("broken-descriptor.yaml", "yaml")]
    assert source.stats.ignored == 2


def test_a_helm_charts_templates_are_skipped_like_a_skeleton(write_catalog):
    # `labels: {{- include "api.labels" . }}` holding backstage.io/kubernetes-id is not YAML until Helm renders it:
    # not a broken descriptor. A folder named templates outside a chart is read as any other.
    template = 'metadata:\n  labels:\n    backstage.io/kubernetes-id: api\n    {{- include "api.labels" . }}\n'
    root = write_catalog(
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: api\nversion: 1.0.0\n",
            "chart/templates/deployment.yaml": template,
            "chart/templates/nested/service.yaml": template,
            "other/templates/broken.yaml": template,
        }
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()
    assert [(os.path.relpath(p.path, root), p.rule) for p in catalog.problems] == [
        ("other/templates/broken.yaml", "yaml")
    ]


def test_text_placeholders_are_read_relative_to_the_file(write_catalog):
    root = write_catalog(
        {
            "apis/orders.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: API
            metadata: {name: orders-api}
            spec:
              type: openapi
              lifecycle: production
              owner: team-a
              definition:
                $text: ./specs/orders.yaml
            """,
            "apis/specs/orders.yaml": "openapi: 3.0.0\ninfo: {title: Orders}\n",
            "apis/broken.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: API
            metadata: {name: broken-api}
            spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./missing.yaml}}
            """,
        }
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()
    assert catalog.get("api:default/orders-api").spec["definition"].startswith("openapi: 3.0.0")
    rules = sorted(p.rule for p in catalog.problems)
    assert rules == ["kind", "placeholder"]  # unreadable file, then definition is not a string


def test_warm_load_reads_the_cache_and_a_changed_file_is_parsed_again(write_catalog, isolated_cache):
    root = write_catalog({"a.yaml": GROUP.format(name="team-a"), "b.yaml": GROUP.format(name="team-b")})
    cold = LocalCatalogSource([root])
    assert _names(cold.load()) == ["team-a", "team-b"]
    assert (cold.stats.parsed, cold.stats.cached) == (2, 0)
    assert list((isolated_cache / "idp-tui").glob("catalog-*.marshal"))

    warm = LocalCatalogSource([root])
    assert _names(warm.load()) == ["team-a", "team-b"]
    assert (warm.stats.parsed, warm.stats.cached) == (0, 2)

    path = root / "b.yaml"
    path.write_text(GROUP.format(name="team-renamed"))
    later = time.time() + 5
    os.utime(path, (later, later))
    changed = LocalCatalogSource([root])
    assert _names(changed.load()) == ["team-a", "team-renamed"]
    assert (changed.stats.parsed, changed.stats.cached) == (1, 1)


def test_a_corrupt_or_unwritable_cache_is_ignored(write_catalog, isolated_cache):
    root = write_catalog({"a.yaml": GROUP.format(name="team-a")})
    LocalCatalogSource([root]).load()
    (cache_file,) = (isolated_cache / "idp-tui").glob("catalog-*.marshal")
    cache_file.write_bytes(b"\x00garbage")
    assert _names(LocalCatalogSource([root]).load()) == ["team-a"]

    read_only = isolated_cache / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        source = LocalCatalogSource([root], cache_dir=read_only / "nested")
        assert _names(source.load()) == ["team-a"]
    finally:
        read_only.chmod(0o700)


def test_a_missing_path_is_a_problem_not_a_crash(tmp_path):
    catalog = LocalCatalogSource([tmp_path / "nowhere"], use_cache=False).load()
    assert len(catalog) == 0
    assert [p.message for p in catalog.problems] == ["no such file or directory"]


def test_globs_answered_from_the_scan_match_the_filesystem(tmp_path):
    import glob

    from idp_tui.catalog.discovery import ScannedTree

    for relative in [
        "repos/a/catalog-info.yaml",
        "repos/b/catalog-info.yaml",
        "repos/b/other.yaml",
        "repos/.hidden/catalog-info.yaml",
        "repos/.dot.yaml",
        "repos/skeleton/catalog-info.yaml",
        "templates/t/skeleton/catalog-info.yaml",
        "templates/t/template.yaml",
        "deep/x/y/catalog-info.yml",
    ]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kind: Group\n")
    tree = ScannedTree()
    tree.scan(str(tmp_path))
    for pattern in [
        "repos/*/catalog-info.yaml",  # could enter repos/skeleton: globbed on disk
        "templates/*/template.yaml",  # cannot reach into templates/t/skeleton: answered from the scan
        "repos/*.yaml",
        "repos/.*.yaml",
        "deep/*/*/catalog-info.yml",
        "deep/**/*.yml",
        "repos/[ab]/catalog-info.yaml",
        "nothing/*.yaml",
        "templates/?/template.yaml",  # answered from the scan, wildcards of every kind
        "deep/[!a]/*/catalog-info.yml",
        "deep/x/[xy]/catalog-info.y?l",
    ]:
        absolute = os.path.join(str(tmp_path), pattern)
        expected = sorted(p for p in glob.glob(absolute, recursive=True) if os.path.isfile(p))
        assert tree.glob(absolute) == expected, pattern


def test_a_scanned_file_set_aside_is_checked_when_a_location_names_it(write_catalog):
    root = write_catalog(
        {
            "catalog-info.yaml": _location("./broken.yaml"),
            "broken.yaml": "kind: Thing\nname: not an entity\n",
        }
    )
    catalog = LocalCatalogSource([root], use_cache=False).load()
    assert {(os.path.basename(p.path), p.rule) for p in catalog.problems} == {("broken.yaml", "envelope")}


def test_warm_load_sees_new_and_removed_files_and_parses_nothing_unchanged(write_catalog):
    root = write_catalog(
        {
            "teams/a.yaml": GROUP.format(name="team-a"),
            "apis/openapi.yaml": "openapi: 3.0.0\n",  # set aside (not a descriptor), cached all the same
        }
    )
    LocalCatalogSource([root]).load()
    unchanged = LocalCatalogSource([root])
    assert _names(unchanged.load()) == ["team-a"]
    assert unchanged.stats.parsed == 0

    (root / "teams" / "new").mkdir()
    (root / "teams" / "new" / "b.yaml").write_text(GROUP.format(name="team-b"))
    (root / "teams" / "a.yaml").unlink()
    changed = LocalCatalogSource([root])
    assert _names(changed.load()) == ["team-b"]
    assert changed.stats.parsed == 1
