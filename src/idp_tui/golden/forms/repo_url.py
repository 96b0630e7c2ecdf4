"""RepoUrlPicker values (``github.com?owner=acme&repo=invoice-service``): composed, split and checked like Backstage."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..repo_url import host_type
from .model import Field

REPO_URL_PARTS = ("owner", "repo", "organization", "workspace", "project", "id")


def compose_repo_url(host: str, owner: str = "", repo: str = "", **extra: str) -> str:
    """RepoUrlPicker's value, ``github.com?owner=x&repo=y`` (``""`` without a host, which Backstage leaves unset).

    Args:
        host: the SCM host.
        owner: the organisation or user owning the repository.
        repo: the repository name.
        extra: ``organization``, ``workspace``, ``project`` or ``id`` for Azure, Bitbucket and GitLab.
    """
    if not host:
        return ""
    parts = {"owner": owner, "repo": repo, **extra}
    params = [(key, parts[key]) for key in REPO_URL_PARTS if parts.get(key)]
    return f"{host}?{urlencode(params)}"


def split_repo_url(value: str | None) -> dict[str, str]:
    """The parts of a RepoUrlPicker value: ``host`` plus every known query parameter (``""`` when missing)."""
    parts = {"host": "", **{key: "" for key in REPO_URL_PARTS}}
    if not value:
        return parts
    try:
        url = urlsplit(f"https://{value}")
        parts["host"] = url.netloc
    except ValueError:
        return parts
    query = parse_qs(url.query)
    for key in REPO_URL_PARTS:
        if query.get(key):
            parts[key] = query[key][0]
    return parts


def repo_url_problems(value: Any, field: Field) -> list[str]:
    """Backstage's ``repoPickerValidation`` messages, plus the ``allowed*`` lists its dropdowns enforce."""
    if not isinstance(value, str):
        return ["Unable to parse the Repository URL"]
    parts = split_repo_url(value)
    host = parts["host"]
    if not host:
        return ["Incomplete repository location provided, host not provided"]
    problems: list[str] = []
    if host_type(host) in ("bitbucketCloud", "bitbucketServer"):
        # Bitbucket repositories live in a project (and, on bitbucket.org, a workspace) instead of an owner.
        if host == "bitbucket.org" and not parts["workspace"]:
            problems.append("Incomplete repository location provided, workspace not provided")
        if not parts["project"]:
            problems.append("Incomplete repository location provided, project not provided")
    elif not parts["owner"]:
        problems.append("Incomplete repository location provided, owner not provided")
    if not parts["repo"]:
        problems.append("Incomplete repository location provided, repo not provided")
    for option, key, noun in (
        ("allowedHosts", "host", "Host"),
        ("allowedOwners", "owner", "Owner"),
        ("allowedRepos", "repo", "Repository"),
    ):
        allowed = field.options.get(option)
        allowed = allowed if isinstance(allowed, list) else []
        if allowed and parts[key] and parts[key] not in allowed:
            problems.append(f"{noun} {parts[key]} is not allowed; choose one of: {', '.join(map(str, allowed))}")
    return problems
