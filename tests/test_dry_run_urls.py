"""A catalog template's fetch URLs, resolved for the scaffolder's dry run as its task would resolve them."""

from __future__ import annotations

import pytest

from idp_tui.backstage.dry_run_urls import with_fetch_urls_resolved


def template(location: dict[str, str], *steps: tuple[str, str]) -> dict:
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "t", "annotations": location},
        "spec": {"steps": [{"id": f"s{n}", "action": a, "input": {"url": u}} for n, (a, u) in enumerate(steps)]},
    }


GITHUB = {"backstage.io/managed-by-location": "url:https://github.com/acme/templates/blob/main/svc/template.yaml"}


@pytest.mark.parametrize(
    ("location", "url", "resolved"),
    [
        (GITHUB, "./skeleton", "https://github.com/acme/templates/blob/main/svc/skeleton"),
        (GITHUB, "../shared/skeleton", "https://github.com/acme/templates/blob/main/shared/skeleton"),
        (GITHUB, "./skeleton/${{ parameters.language }}",
         "https://github.com/acme/templates/blob/main/svc/skeleton/${{ parameters.language }}"),
        # The source location wins over the location that manages the entity, as in getEntityBaseUrl.
        ({**GITHUB, "backstage.io/source-location": "url:https://github.com/acme/src/tree/main/t/"}, "./skeleton",
         "https://github.com/acme/src/tree/main/t/skeleton"),
        # defaultScmResolveUrl keeps the base's query (Bitbucket Server's ?at= branch).
        ({"backstage.io/managed-by-location": "url:https://bb.example/projects/P/repos/r/browse/t/template.yaml?at=dev"},
         "./skeleton", "https://bb.example/projects/P/repos/r/browse/t/skeleton?at=dev"),
        (GITHUB, "https://github.com/acme/other/tree/main/x", "https://github.com/acme/other/tree/main/x"),
        (GITHUB, "${{ parameters.skeletonUrl }}", "${{ parameters.skeletonUrl }}"),  # known only once rendered
    ],
)  # fmt: skip
def test_a_relative_fetch_url_becomes_what_the_task_would_fetch(location, url, resolved):
    entity = template(location, ("fetch:template", url))
    sent, unreachable = with_fetch_urls_resolved(entity)
    assert sent["spec"]["steps"][0]["input"]["url"] == resolved and unreachable == []
    assert entity["spec"]["steps"][0]["input"]["url"] == url  # the catalog's entity is left as it was


@pytest.mark.parametrize(
    ("location", "url", "said"),
    [
        ({"backstage.io/managed-by-location": "file:/srv/t/template.yaml"}, "./skeleton",
         "step s0 fetches ./skeleton from the Backstage server's own files (file:///srv/t/template.yaml)"),
        (GITHUB, "/skeleton",  # from the repository root, which only the host's integration knows how to find
         "step s0 fetches /skeleton relative to https://github.com/acme/templates/blob/main/svc/template.yaml, "
         "which only the server's integration for that host resolves"),
        ({"backstage.io/managed-by-location": "url:https://dev.azure.com/o/p/_git/r?path=/t/template.yaml"},
         "./skeleton",
         "step s0 fetches ./skeleton relative to https://dev.azure.com/o/p/_git/r?path=/t/template.yaml, which only "
         "the server's integration for that host resolves"),
        ({}, "./skeleton", "step s0 fetches ./skeleton, and the template's location is not known"),
    ],
)  # fmt: skip
def test_a_fetch_only_the_server_could_resolve_is_named(location, url, said):
    _, unreachable = with_fetch_urls_resolved(template(location, ("fetch:plain", url)))
    assert unreachable == [said]


def test_only_fetch_steps_are_resolved():
    entity = template(GITHUB, ("publish:github", "./not-a-fetch"), ("fetch:plain:file", "./catalog-info.yaml"))
    sent, _ = with_fetch_urls_resolved(entity)
    assert [step["input"]["url"] for step in sent["spec"]["steps"]] == [
        "./not-a-fetch",
        "https://github.com/acme/templates/blob/main/svc/catalog-info.yaml",
    ]


def test_a_step_whose_action_is_not_a_name_is_left_as_it_is():
    entity = template(GITHUB, ("fetch:plain", "./a"))
    entity["spec"]["steps"][0]["action"] = ["fetch:template"]  # Backstage refuses it; the dry run says so
    sent, unreachable = with_fetch_urls_resolved(entity)
    assert sent == entity and unreachable == []
