"""Well-known annotations, explained: what each one means and the link it implies, for people to read."""

from __future__ import annotations

from dataclasses import dataclass

from ..safe_text import clean
from .entity import ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION


@dataclass(frozen=True, slots=True)
class AnnotationInfo:
    """One annotation as shown to a person: a label, the value in words, and a URL when there is one."""

    key: str
    label: str
    text: str
    url: str | None = None


# key -> (label, how the value reads, the URL it implies); "{}" is the value.
# A URL template of "" means "the value itself, when it is a web address".
_KNOWN: dict[str, tuple[str, str, str | None]] = {
    "github.com/project-slug": ("GitHub repository", "{}", "https://github.com/{}"),
    "gitlab.com/project-slug": ("GitLab project", "{}", "https://gitlab.com/{}"),
    "backstage.io/source-location": ("Source", "{}", ""),
    "backstage.io/view-url": ("View source", "{}", ""),
    "backstage.io/edit-url": ("Edit descriptor", "{}", ""),
    "pagerduty.com/service-id": ("PagerDuty", "service {}", None),
    "opsgenie.com/team": ("Opsgenie", "team {}", None),
    "grafana/dashboard-selector": ("Grafana", "dashboards matching {}", None),
    "grafana/alert-label-selector": ("Grafana alerts", "alerts matching {}", None),
    "backstage.io/kubernetes-id": ("Kubernetes", "workloads labelled backstage.io/kubernetes-id={}", None),
    "backstage.io/kubernetes-label-selector": ("Kubernetes", "workloads matching {}", None),
    "backstage.io/kubernetes-namespace": ("Kubernetes", "namespace {}", None),
    "backstage.io/kubernetes-cluster": ("Kubernetes", "cluster {} only", None),
    "vault.io/secrets-path": ("Vault", "secrets under {}", None),
    "sonarqube.org/project-key": ("SonarQube", "project {}", None),
    "argocd/app-name": ("Argo CD", "application {}", None),
    "jenkins.io/job-full-name": ("Jenkins", "job {}", None),
    "slack.com/channel": ("Slack", "#{}", None),
    "lighthouse.com/website-url": ("Lighthouse", "{}", ""),
    ANNOTATION_LOCATION: ("Read from", "{}", None),
    ANNOTATION_ORIGIN_LOCATION: ("Registered by", "{}", None),
}


def _explain(key: str, value: str) -> AnnotationInfo:
    label, text, url = _KNOWN[key]
    if key in (ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, "backstage.io/source-location"):
        value = value.removeprefix("url:").removeprefix("file:")
    if key == "slack.com/channel":
        value = value.lstrip("#")
    if url == "":
        url = value if value.startswith(("http://", "https://")) else None
    elif url is not None:
        url = url.format(value)
    return AnnotationInfo(key, label, text.format(value), url)


def _techdocs(value: str) -> AnnotationInfo:
    if value.startswith("dir:"):
        return AnnotationInfo(
            "backstage.io/techdocs-ref", "TechDocs", f"docs next to the descriptor ({value[4:] or '.'}); press t"
        )
    return AnnotationInfo("backstage.io/techdocs-ref", "TechDocs", value)


def _integration_key(value: str) -> AnnotationInfo:
    # An integration key can open incidents: never print it whole.
    hidden = f"integration key …{value[-4:]}" if len(value) > 8 else "integration key (set)"
    return AnnotationInfo("pagerduty.com/integration-key", "PagerDuty", hidden)


def describe_annotations(annotations: dict[str, str]) -> tuple[list[AnnotationInfo], list[tuple[str, str]]]:
    """Split annotations into the well-known ones (explained) and the rest (shown as key/value).

    Keys and values come out as one line of printable text each (no escape sequences), ready to show or link.
    """
    known: list[AnnotationInfo] = []
    other: list[tuple[str, str]] = []
    for raw_key, raw_value in annotations.items():
        key = clean(str(raw_key), one_line=True)
        value = clean(raw_value, one_line=True) if isinstance(raw_value, str) else raw_value
        if not isinstance(value, str):
            other.append((key, clean(str(value), one_line=True)))
        elif key == "backstage.io/techdocs-ref":
            known.append(_techdocs(value))
        elif key == "pagerduty.com/integration-key":
            known.append(_integration_key(value))
        elif key in _KNOWN:
            known.append(_explain(key, value))
        else:
            other.append((key, value))
    return known, other
