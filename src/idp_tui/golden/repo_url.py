"""Backstage's ``parseRepoUrl``: the ``repoUrl`` a ``RepoUrlPicker`` produces (``github.com?owner=o&repo=r``).

Backstage prefixes ``https://``, parses the result as a WHATWG URL, looks the host up in the configured SCM
integrations and checks the query parameters that host type needs. The local runner has no integrations config,
so :func:`host_type` stands in for the lookup:

1. an explicit ``integrations`` mapping (host -> type) passed by the caller, if any;
2. the hosts Backstage configures by default when ``integrations:`` is empty (``github.com``, ``gitlab.com``,
   ``bitbucket.org``, ``dev.azure.com`` and the storage hosts), exactly as Backstage would find them;
3. otherwise a guess from the host name, so self-hosted servers work without configuration: a host with a
   ``github`` label is GitHub Enterprise, ``gitlab`` is GitLab, ``bitbucket`` is Bitbucket Server, ``azure`` (or
   ``visualstudio.com``) is Azure DevOps, ``gitea`` / ``gerrit`` likewise. Backstage itself would refuse these
   hosts until an integration is configured; anything else is refused here with Backstage's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from .errors import ActionError

# What ScmIntegrations.fromConfig() registers when the config has no ``integrations`` section.
DEFAULT_HOST_TYPES: dict[str, str] = {
    "amazonaws.com": "awsS3",
    "console.aws.amazon.com": "awsCodeCommit",
    "blob.core.windows.net": "azureBlobStorage",
    "dev.azure.com": "azure",
    "bitbucket.org": "bitbucketCloud",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "storage.cloud.google.com": "googleGcs",
}

# Checked in order against the labels of a host that is not a default one.
_GUESSES: tuple[tuple[str, str], ...] = (
    ("github", "github"),
    ("gitlab", "gitlab"),
    ("bitbucket", "bitbucketServer"),
    ("azure", "azure"),
    ("visualstudio", "azure"),
    ("gitea", "gitea"),
    ("gerrit", "gerrit"),
)

_PARAMS = ("owner", "organization", "workspace", "project", "repo")
# Key order of the object Backstage returns (JSON drops the absent ones).
_RESULT_ORDER = ("host", "owner", "repo", "organization", "workspace", "project")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "bitbucketCloud": ("workspace", "project", "repo"),
    "bitbucketServer": ("project", "repo"),
    "azure": ("project", "repo"),
    "gitea": ("repo",),
    "gerrit": ("repo",),
}
_FORBIDDEN_HOST = set(" #%/:<>?@[\\]^|") | {chr(c) for c in range(0x20)} | {"\x7f"}


def host_type(host: str, integrations: Mapping[str, str] | None = None) -> str | None:
    """The SCM integration type for ``host`` (``github``, ``gitlab``, ``bitbucketCloud``, ...), or None."""
    if integrations and host in integrations:
        return integrations[host]
    if host in DEFAULT_HOST_TYPES:
        return DEFAULT_HOST_TYPES[host]
    labels = re.split(r"[.\-:]", host)
    for word, kind in _GUESSES:
        if any(word in label for label in labels):
            return kind
    return None


def parse_repo_url(repo_url: str, integrations: Mapping[str, str] | None = None) -> dict[str, str]:
    """Split a scaffolder ``repoUrl`` into ``host``, ``owner``, ``repo``, ``organization``, ``workspace``, ``project``.

    Keys whose query parameter is absent are left out, as in Backstage's JSON; values are trimmed of ``/``.

    Raises:
        ActionError: with Backstage's wording: ``Invalid repo URL passed to publisher, got ...`` for an
            unparsable URL, ``No matching integration configuration for host ...`` for an unknown host, and
            ``Invalid repo URL passed to publisher: https://.../?..., missing <param>`` for a missing parameter.
    """
    if not isinstance(repo_url, str):
        raise ActionError(f"Invalid repo URL passed to publisher, got {repo_url!r}, expected a string")
    url = _WhatwgUrl.parse(repo_url)
    kind = host_type(url.host, integrations)
    if kind is None:
        raise ActionError(
            f"No matching integration configuration for host {url.host}, please check your integrations config"
        )
    params: dict[str, str] = {}
    for key, value in parse_qsl(url.query or "", keep_blank_values=True):
        params.setdefault(key, value)
    required = _REQUIRED.get(kind, ("repo", "owner"))
    if kind == "gitlab":
        required = () if params.get("project") else ("owner", "repo")
    for name in required:
        if not params.get(name):
            raise ActionError(f"Invalid repo URL passed to publisher: {url.href}, missing {name}")
    values = {name: params[name].strip("/") for name in _PARAMS if name in params}
    values["host"] = url.host
    return {key: values[key] for key in _RESULT_ORDER if key in values}


class _WhatwgUrl:
    """Just enough of the WHATWG URL parser for ``https://<repoUrl>``: host, query and the serialised href."""

    def __init__(self, host: str, port: str, path: str, query: str | None, fragment: str | None) -> None:
        self.host = host + (f":{port}" if port else "")
        self.query = query
        self.href = f"https://{self.host}{path}"
        if query is not None:
            self.href += "?" + _encode(query, _QUERY_ESCAPES)
        if fragment is not None:
            self.href += "#" + _encode(fragment, _FRAGMENT_ESCAPES)

    @classmethod
    def parse(cls, repo_url: str) -> _WhatwgUrl:
        text = re.sub(r"[\t\n\r]", "", repo_url).rstrip(_C0_OR_SPACE)
        invalid = ActionError(f"Invalid repo URL passed to publisher, got {repo_url}, TypeError: Invalid URL")
        rest, _, fragment = text.partition("#")
        has_fragment = "#" in text
        rest, has_query, query = rest.partition("?")
        rest = rest.replace("\\", "/").lstrip("/")
        authority, slash, path = rest.partition("/")
        host_port = authority.rpartition("@")[2]
        host, port = host_port, ""
        if ":" in host_port and not host_port.startswith("["):
            host, _, port = host_port.rpartition(":")
            if port and (not port.isdigit() or int(port) > 65535):
                raise invalid
            port = "" if not port or int(port) == 443 else str(int(port))
        try:
            host = unquote(host, errors="strict")
        except UnicodeDecodeError:
            raise invalid from None
        if not host or any(ch in _FORBIDDEN_HOST for ch in host):
            raise invalid
        host = host.lower()
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise invalid from None
        return cls(
            host,
            port,
            _normalise_path("/" + path if slash else "/"),
            query if has_query else None,
            fragment if has_fragment else None,
        )


def _normalise_path(path: str) -> str:
    segments: list[str] = []
    parts = path.split("/")[1:]
    for index, segment in enumerate(parts):
        last = index == len(parts) - 1
        if segment.lower() in (".", "%2e"):
            if last:
                segments.append("")
            continue
        if segment.lower() in ("..", ".%2e", "%2e.", "%2e%2e"):
            if segments:
                segments.pop()
            if last:
                segments.append("")
            continue
        segments.append(_encode(segment, _PATH_ESCAPES))
    return "/" + "/".join(segments)


_C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
_QUERY_ESCAPES = frozenset(" \"#<>'")
_FRAGMENT_ESCAPES = frozenset(' "<>`')
_PATH_ESCAPES = frozenset(' "#<>?`{}')


def _encode(text: str, escapes: frozenset[str]) -> str:
    out = []
    for ch in text:
        if ch in escapes or ord(ch) < 0x20 or ord(ch) >= 0x7F:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", errors="replace"))
        else:
            out.append(ch)
    return "".join(out)
