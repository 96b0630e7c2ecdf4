"""Well-known annotations, explained: what each one means and the link it implies, for people to read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..catalog.entity import ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION


@dataclass(frozen=True, slots=True)
class AnnotationInfo:
    """One annotation as shown to a person: a label, the value in words, and a URL when there is one."""

    key: str
    label: str
    text: str
    url: str | None = None


def _strip_url_prefix(value: str) -> str:
    return value[4:] if value.startswith("url:") else value


def _github(value: str) -> tuple[str, str | None]:
    return value, f"https://github.com/{value}"


def _gitlab(value: str) -> tuple[str, str | None]:
    return value, f"https://gitlab.com/{value}"


def _techdocs(value: str) -> tuple[str, str | None]:
    if value.startswith("dir:"):
        return f"docs next to the descriptor ({value[4:] or '.'}); press d to read", None
    return value, None


def _pagerduty(value: str) -> tuple[str, str | None]:
    return f"service {value}", None


def _integration_key(value: str) -> tuple[str, str | None]:
    # An integration key can open incidents; never print it whole.
    return f"integration key …{value[-4:]}" if len(value) > 4 else "integration key (set)", None


def _grafana(value: str) -> tuple[str, str | None]:
    return f"dashboards matching {value}", None


def _source(value: str) -> tuple[str, str | None]:
    url = _strip_url_prefix(value)
    return url, url if url.startswith(("http://", "https://")) else None


def _plain_url(value: str) -> tuple[str, str | None]:
    return value, value if value.startswith(("http://", "https://")) else None


def _kubernetes_id(value: str) -> tuple[str, str | None]:
    return f"workloads labelled backstage.io/kubernetes-id={value}", None


def _label_selector(value: str) -> tuple[str, str | None]:
    return f"workloads matching {value}", None


def _namespace(value: str) -> tuple[str, str | None]:
    return f"namespace {value}", None


def _cluster(value: str) -> tuple[str, str | None]:
    return f"cluster {value} only", None


def _opsgenie(value: str) -> tuple[str, str | None]:
    return f"team {value}", None


def _vault(value: str) -> tuple[str, str | None]:
    return f"secrets under {value}", None


def _sonarqube(value: str) -> tuple[str, str | None]:
    return f"project {value}", None


def _argocd(value: str) -> tuple[str, str | None]:
    return f"application {value}", None


def _jenkins(value: str) -> tuple[str, str | None]:
    return f"job {value}", None


def _slack(value: str) -> tuple[str, str | None]:
    return f"#{value.lstrip('#')}", None


def _lighthouse(value: str) -> tuple[str, str | None]:
    return value, value if value.startswith("http") else None


def _location(value: str) -> tuple[str, str | None]:
    return _strip_url_prefix(value).removeprefix("file:"), None


_KNOWN: dict[str, tuple[str, Callable[[str], tuple[str, str | None]]]] = {
    "github.com/project-slug": ("GitHub repository", _github),
    "gitlab.com/project-slug": ("GitLab project", _gitlab),
    "backstage.io/techdocs-ref": ("TechDocs", _techdocs),
    "backstage.io/source-location": ("Source", _source),
    "backstage.io/view-url": ("View source", _plain_url),
    "backstage.io/edit-url": ("Edit descriptor", _plain_url),
    "pagerduty.com/service-id": ("PagerDuty", _pagerduty),
    "pagerduty.com/integration-key": ("PagerDuty", _integration_key),
    "opsgenie.com/team": ("Opsgenie", _opsgenie),
    "grafana/dashboard-selector": ("Grafana", _grafana),
    "grafana/alert-label-selector": ("Grafana alerts", _grafana),
    "backstage.io/kubernetes-id": ("Kubernetes", _kubernetes_id),
    "backstage.io/kubernetes-label-selector": ("Kubernetes", _label_selector),
    "backstage.io/kubernetes-namespace": ("Kubernetes", _namespace),
    "backstage.io/kubernetes-cluster": ("Kubernetes", _cluster),
    "vault.io/secrets-path": ("Vault", _vault),
    "sonarqube.org/project-key": ("SonarQube", _sonarqube),
    "argocd/app-name": ("Argo CD", _argocd),
    "jenkins.io/job-full-name": ("Jenkins", _jenkins),
    "slack.com/channel": ("Slack", _slack),
    "lighthouse.com/website-url": ("Lighthouse", _lighthouse),
    ANNOTATION_LOCATION: ("Read from", _location),
    ANNOTATION_ORIGIN_LOCATION: ("Registered by", _location),
}


def describe_annotations(annotations: dict[str, str]) -> tuple[list[AnnotationInfo], list[tuple[str, str]]]:
    """Split annotations into the well-known ones (explained) and the rest (shown as key/value)."""
    known: list[AnnotationInfo] = []
    other: list[tuple[str, str]] = []
    for key, value in annotations.items():
        entry = _KNOWN.get(key)
        if entry is None or not isinstance(value, str):
            other.append((key, str(value)))
            continue
        label, explain = entry
        text, url = explain(value)
        known.append(AnnotationInfo(key, label, text, url))
    return known, other
