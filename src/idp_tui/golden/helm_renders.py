"""Which ways a chart is rendered to be judged: what a deployer may give ``helm template`` (or ``helm install``).

A chart cannot be judged as one render: its templates ask for values and for the cluster it is installed in. So it
is rendered with its defaults, with each file of its folder that can be a values file over them, and with all of
them together (a values file is chosen by the deployer: Argo CD's ``valueFiles``, ``helm install -f``, layered
``values-common.yaml`` and ``values-prod.yaml``); each of those for several clusters (:data:`CLUSTERS`): Helm's own
default, an old Kubernetes and a far newer one, a managed cluster's version string, and an upgrade on a cluster
serving every API the chart's files name (``.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"``,
``.Release.IsUpgrade``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Folders of a chart that hold no values file: Helm's own (templates, vendored charts, CRDs).
NOT_VALUES_FOLDERS = ("templates", "charts", "crds")
# Files of a chart's folder that are not values files a deployer gives: the chart's own (values.yaml is read
# anyway, as the defaults).
NOT_VALUES_FILES = ("Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json", "requirements.yaml")
VALUES_SUFFIXES = (".yaml", ".yml", ".json")
MAX_VALUES_FILES = 50
BUILT_PREFIX = "helm template "  # what a render's output is named by: the command that renders it
# An API as `--api-versions` takes one (`group/version`, or `group/version/Kind`), wherever a chart's files name
# it (a template, a values file a template reads it from through `tpl`).
_API = re.compile(rb"(?<![\w./-])([a-z0-9][-a-z0-9.]*/v[0-9]+(?:alpha[0-9]+|beta[0-9]+)?(?:/[A-Z][A-Za-z0-9]*)?)\b")
MAX_APIS = 200


@dataclass(frozen=True)
class Cluster:
    """What a render tells the templates about where the chart is installed (Helm's default where empty)."""

    kube_version: str = ""
    asked_apis: bool = False  # every API the chart's files name is served
    upgrade: bool = False


# One old Kubernetes and one far newer, so a template that switches on the version anywhere between shows both
# sides; a managed cluster's version (`v1.30.4-eks-…` is a pre-release to semver: `>=1.20.0` is false for it);
# an upgrade where every API asked for is served, on Helm's default and on the newer version. Each minor version
# of SWEPT_MINORS is tried too (see swept; those a chart's `kubeVersion` excludes fail at once, and are skipped).
CLUSTERS = (
    Cluster(),
    Cluster("1.24.0"),
    Cluster("1.99.0"),
    Cluster("1.30.4-eks-0a1b2c3"),
    Cluster(asked_apis=True, upgrade=True),
    Cluster("1.99.0", asked_apis=True, upgrade=True),
)
SWEPT_MINORS = range(16, 41)


@dataclass(frozen=True)
class Render:
    """One way a chart is rendered: with values files over its defaults (none: the defaults alone), for a
    cluster; and what it rendered."""

    values: tuple[str, ...] = ()
    cluster: Cluster = Cluster()
    apis: tuple[str, ...] = ()
    output: bytes = b""

    def arguments(self) -> list[str]:
        """``helm template``'s options for it."""
        arguments = [part for values in self.values for part in ("-f", values)]
        arguments += ["--kube-version", self.cluster.kube_version] if self.cluster.kube_version else []
        arguments += [part for api in self.apis for part in ("--api-versions", api)]
        return arguments + (["--is-upgrade"] if self.cluster.upgrade else [])

    def name(self, chart: str) -> str:
        """The command that renders it, as the name of what it rendered (``helm template k8s/chart -f
        values-prod.yaml --kube-version 1.24.0``); the APIs are counted, not listed."""
        words = [f"{BUILT_PREFIX}{chart}", *(f"-f {values}" for values in self.values)]
        words += [f"--kube-version {self.cluster.kube_version}"] if self.cluster.kube_version else []
        words += [f"--api-versions ({len(self.apis)} the chart names)"] if self.apis else []
        return " ".join(words + (["--is-upgrade"] if self.cluster.upgrade else []))


def source_of(name: str) -> str:
    """The chart of a render's name (``helm template k8s/chart -f x.yaml`` -> ``k8s/chart``)."""
    return re.split(r" (?:-f |--kube-version |--api-versions |--is-upgrade)", name.removeprefix(BUILT_PREFIX))[0]


def planned(files: Mapping[str, bytes], chart: str) -> tuple[list[Render], str]:
    """Every render of the chart in the folder ``chart`` (an archive's path for a packaged chart: its own files
    cannot be read here), or ``([], why)`` when it has too many values files or names too many APIs."""
    values = values_files(files, chart)
    if len(values) > MAX_VALUES_FILES:
        return [], f"it holds more than {MAX_VALUES_FILES} files that can be values files: it was not rendered"
    apis = _named_apis(files, chart)
    if len(apis) > MAX_APIS:
        return [], f"its files name more than {MAX_APIS} APIs: it was not rendered"
    # All the values files at once, in both orders: a later file's values win over an earlier one's.
    together = [tuple(values), tuple(reversed(values))] if len(values) > 1 else []
    choices = [(), *((one,) for one in values), *together]
    return [Render(chosen, one, apis if one.asked_apis else ()) for chosen in choices for one in CLUSTERS], ""


def swept(renders: list[Render], every_choice: bool) -> list[Render]:
    """The renders for every minor version of ``SWEPT_MINORS``: a template switching on a range of versions
    (``>=1.25.0-0 <1.30.0-0``) between ``CLUSTERS``, or a chart whose ``kubeVersion`` takes none of them that shows
    both sides of a switch. They are made with the defaults and with every values file at once (in both orders;
    what any values file turns on, they turn on but where the files undo each other's values); with each values
    choice of ``renders`` when ``every_choice`` (where the chart's ``kubeVersion`` excluded a cluster)."""
    choices = list(dict.fromkeys(render.values for render in renders))
    widest = max((len(chosen) for chosen in choices), default=0)
    if not every_choice:
        choices = [chosen for chosen in choices if len(chosen) in (0, widest)]
    return [Render(chosen, Cluster(f"1.{minor}.0")) for chosen in choices for minor in SWEPT_MINORS]


def values_files(files: Mapping[str, bytes], chart: str) -> list[str]:
    """The files of the chart's folder a deployer can give as values (relative to it, sorted): every YAML and JSON
    file (``values-prod.yaml``, ``prod-values.yaml``, ``env/prod.json``, ``values.yml``), but the chart's own and
    those in its templates, vendored charts and CRDs."""
    inside = f"{chart}/" if chart else ""
    found = []
    for name in files:
        if not name.startswith(inside):
            continue
        relative = name.removeprefix(inside)
        first = relative.split("/", 1)[0]
        if "/" in relative and first in NOT_VALUES_FOLDERS:
            continue
        if relative.lower().endswith(VALUES_SUFFIXES) and relative not in NOT_VALUES_FILES:
            found.append(relative)
    return sorted(found)


def _named_apis(files: Mapping[str, bytes], chart: str) -> tuple[str, ...]:
    """Every API the chart's files name, sorted."""
    inside = f"{chart}/" if chart else ""
    named = {
        match.decode() for name, content in files.items() if name.startswith(inside) for match in _API.findall(content)
    }
    return tuple(sorted(named))
