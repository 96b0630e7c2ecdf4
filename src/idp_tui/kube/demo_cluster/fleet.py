"""A generated fleet for the demo cluster's scale mode: K clusters, N pods, the same on every run for one seed.

Shaped like a large organisation's clusters: teams' services with 1 to 500 replicas per cluster (most small, a few
in the hundreds), spread over one to K clusters, a few huge services (the largest, ``edge-gateway``, holds a tenth
of all pods over three clusters: 2,000 of the default 20,000), each a Deployment with its ReplicaSets (the current
revision and the one before), pods spread over nodes of at most ~110 pods, HorizontalPodAutoscalers (autoscaling/v2)
on about a third, a few crash-looping, OOMKilled or unready pods with their Events. Every workload and pod carries
the ``backstage.io/kubernetes-id`` label, and :func:`fleet_catalog` writes the matching catalog (one Component per
service, annotated as idp-tui's catalog finds workloads), so ``d`` works on every service.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from idp_tui.kube.demo_cluster import objects as o
from idp_tui.kube.demo_cluster.seed import DAY, HOUR, _hpa, _pod_problem, _previous_tag, _template, _workload

if TYPE_CHECKING:
    from idp_tui.kube.demo_cluster.controllers import Controllers

HUGE_SERVICE = "edge-gateway"
HUGE_NAMESPACE = "edge"
REGIONS = (("fleet-eu", "eu-west-1"), ("fleet-us", "us-east-1"), ("fleet-ap", "ap-southeast-2"))
TEAMS = (
    "payments", "checkout", "identity", "search", "media", "growth", "risk", "logistics", "catalog", "messaging",
    "data", "platform", "mobile", "ads", "support", "billing",
)  # fmt: skip
NOUNS = (
    "api", "worker", "gateway", "indexer", "scheduler", "consumer", "projector", "resolver", "cache", "bff", "sync",
    "notifier", "ledger", "router", "scorer", "exporter", "ingest", "renderer", "auditor", "planner",
)  # fmt: skip
PODS_PER_NODE = 100


@dataclass(frozen=True)
class FleetSpec:
    """What to generate: ``pods`` in all over ``clusters`` contexts, from ``seed``.

    ``huge`` is the pod count of the largest service (``edge-gateway``); by default a tenth of ``pods``.
    """

    pods: int = 20_000
    clusters: int = 3
    seed: int = 1
    huge: int | None = None

    def __post_init__(self) -> None:
        if self.pods < 1 or self.clusters < 1:
            raise ValueError("a fleet needs at least one pod and one cluster")

    @property
    def contexts(self) -> list[str]:
        """The context names: fleet-eu, fleet-us, fleet-ap, then fleet-4, fleet-5…"""
        return [REGIONS[i][0] if i < len(REGIONS) else f"fleet-{i + 1}" for i in range(self.clusters)]


@dataclass
class Service:
    """One generated service: its id (kubernetes-id and Deployment name), team, namespace and replicas by context."""

    id: str
    team: str
    namespace: str
    image: str
    replicas: dict[str, int] = field(default_factory=dict)
    sidecar: bool = False
    hpa: dict[str, int] | None = None
    problems: dict[str, str] = field(default_factory=dict)  # context -> problem (one pod there)
    tier: str | None = None  # the ``tier`` label of its workloads and pods (some services have none)

    @property
    def pods(self) -> int:
        """Pods over every cluster."""
        return sum(self.replicas.values())


def plan_fleet(spec: FleetSpec) -> list[Service]:
    """The fleet's services, deterministic for ``spec`` (same seed, same fleet), with exactly ``spec.pods`` pods."""
    rng = random.Random(spec.seed)
    contexts = spec.contexts
    remaining = spec.pods
    services: list[Service] = []
    huge = spec.huge if spec.huge is not None else max(1, spec.pods // 10)
    big = [(HUGE_SERVICE, "platform", HUGE_NAMESPACE, huge, 3), ("search-indexer", "search", "search", huge // 2, 2)]
    big.append(("media-transcoder", "media", "media", huge * 2 // 5, 1))
    for name, team, namespace, pods, spread in big:
        pods = min(pods, remaining)
        if pods <= 0:
            continue
        chosen = contexts[: min(spread, len(contexts), pods)]
        service = Service(name, team, namespace, _image(rng, name), _split(pods, chosen), sidecar=True, tier="edge")
        service.hpa = {"min": max(1, pods // len(chosen) // 2), "max": pods, "cpu": 55}
        services.append(service)
        remaining -= pods
    if services and services[0].id == HUGE_SERVICE and len(services[0].replicas) > 1:
        services[0].problems[contexts[0]] = "crashloop"  # the huge service has a problem pod to show first
    names = {service.id for service in services}
    while remaining > 0:
        team = rng.choice(TEAMS)
        name = f"{team}-{rng.choice(NOUNS)}"
        if name in names:
            name = f"{name}-{sum(1 for known in names if known.startswith(name)) + 1}"
        names.add(name)
        per_cluster = _replicas(rng)
        spread = min(len(contexts), rng.choices((1, 2, 3), weights=(50, 30, 20))[0])
        if per_cluster * spread > remaining:
            per_cluster, spread = (remaining, 1) if remaining < spread else (remaining // spread, spread)
        chosen = rng.sample(contexts, spread)
        replicas = {context: per_cluster for context in chosen}
        replicas[chosen[0]] += min(remaining, per_cluster * spread) - per_cluster * spread
        service = Service(name, team, f"team-{team}", _image(rng, name), replicas, sidecar=rng.random() < 0.25)
        service.tier = rng.choices((None, "frontend", "backend", "worker"), weights=(20, 25, 35, 20))[0]
        if per_cluster >= 2 and rng.random() < 0.3:
            at_max = rng.random() < 0.2
            service.hpa = {"min": max(1, per_cluster // 2), "max": per_cluster if at_max else per_cluster * 2}
            service.hpa["cpu"] = rng.randint(20, 95)
        for context in chosen:
            roll = rng.random()
            if roll < 0.02:
                service.problems[context] = "crashloop"
            elif roll < 0.03:
                service.problems[context] = "oomkilled"
            elif roll < 0.045:
                service.problems[context] = "unready"
        services.append(service)
        remaining -= service.pods
    return services


def _replicas(rng: random.Random) -> int:
    """Replicas per cluster: mostly a handful, some tens, a few hundreds (1 to 500)."""
    roll = rng.random()
    if roll < 0.55:
        return rng.randint(1, 6)
    if roll < 0.85:
        return rng.randint(7, 40)
    if roll < 0.97:
        return rng.randint(41, 200)
    return rng.randint(201, 500)


def _split(pods: int, contexts: list[str]) -> dict[str, int]:
    share, extra = divmod(pods, len(contexts))
    return {context: share + (1 if index < extra else 0) for index, context in enumerate(contexts)}


def _image(rng: random.Random, name: str) -> str:
    return f"{name}:{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 12)}"


def fleet_description(spec: FleetSpec) -> dict[str, Any]:
    """The cluster description (the shape of ``clusters.yaml``) of the fleet: one entry per context, each with its
    nodes and its part of every service under ``fleet``."""
    services = plan_fleet(spec)
    clusters: dict[str, Any] = {}
    for index, context in enumerate(spec.contexts):
        region = REGIONS[index][1] if index < len(REGIONS) else f"region-{index + 1}"
        pods = sum(service.replicas.get(context, 0) for service in services)
        nodes = [
            f"ip-10-{index}-{n // 250}-{n % 250 + 1}.{region}.compute.internal"
            for n in range(max(3, math.ceil(pods / PODS_PER_NODE)))
        ]
        placements = [
            {
                "id": service.id,
                "namespace": service.namespace,
                "replicas": service.replicas[context],
                "image": service.image,
                "sidecar": "envoy" if service.sidecar else None,
                "hpa": service.hpa,
                "problem": service.problems.get(context),
                "labels": {"tier": service.tier} if service.tier else None,
            }
            for service in services
            if context in service.replicas
        ]
        clusters[context] = {"server": "v1.31.4", "nodes": nodes, "fleet": placements}
    return {"seed": spec.seed, "registry": "ghcr.io/acme", "clusters": clusters}


def build_fleet(controllers: Controllers, placements: list[dict[str, Any]], now: float) -> None:
    """Create one cluster's part of the fleet: namespaces, Deployments, ReplicaSets, pods, HPAs and Events.

    Straight to the objects a settled cluster holds (no controller loop per pod), so 20,000 pods take seconds.
    """
    state = controllers.state
    for namespace in sorted({placement["namespace"] for placement in placements}):
        state.put(o.namespace(namespace, now - 400 * DAY))
    for index, placement in enumerate(placements):
        spec = {key: value for key, value in placement.items() if value is not None}
        _deployment(controllers, spec, index, now)
    controllers.live = True


def _deployment(controllers: Controllers, spec: dict[str, Any], index: int, now: float) -> None:
    state = controllers.state
    revision = 2 + int(o.digest(state.name, spec["id"])[:2], 16) % 6
    created = now - (30 + int(o.digest(spec["id"], "created")[:4], 16) % 270) * DAY
    deployed = now - (2 * HOUR + int(o.digest(state.name, spec["id"], "deployed")[:6], 16) % int(9 * DAY))
    template = _template(controllers, spec, spec["image"])
    deployment = state.put(_workload("Deployment", spec, template, created, revision + 2))
    previous = _template(controllers, spec, _previous_tag(spec["image"]))
    old = o.replicaset(deployment, previous, o.template_hash(previous), revision - 1, deployed - 7 * DAY)
    old["status"] = {"replicas": 0, "observedGeneration": 3}
    state.put(old)
    replicas = spec["replicas"]
    current = o.replicaset(deployment, template, o.template_hash(template), revision, deployed)
    current["spec"]["replicas"] = replicas
    current = state.put(current)
    nodes = state.nodes
    pods = [
        controllers.create_pod(
            current, controllers.new_pod_name(current), nodes[(index + n) % len(nodes)], deployed + n, None
        )
        for n in range(replicas)
    ]
    message = f"Scaled up replica set {current['metadata']['name']} from 0 to {replicas}"
    state.put(o.event(deployment, "Normal", "ScalingReplicaSet", message, deployed, component="deployment-controller"))
    _pod_problem(controllers, spec.get("problem"), pods, now)
    controllers.refresh_status(current)
    controllers.refresh_status(old)
    controllers.refresh_status(deployment)
    if spec.get("hpa"):
        _hpa(controllers, state.get("deployments", spec["namespace"], spec["id"]) or deployment, spec["hpa"], now)


def fleet_catalog(spec: FleetSpec) -> list[dict[str, Any]]:
    """The catalog of the fleet: a Group per team, one System, and a Component per service wired to its workloads
    (``backstage.io/kubernetes-id`` and ``backstage.io/kubernetes-namespace``)."""
    services = plan_fleet(spec)
    teams = sorted({service.team for service in services})
    entities: list[dict[str, Any]] = [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": f"team-{team}", "title": f"Team {team.title()}"},
            "spec": {"type": "team", "children": []},
        }
        for team in teams
    ]
    entities.append(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {"name": "fleet", "description": "Every service of the generated fleet."},
            "spec": {"owner": "team-platform" if "platform" in teams else f"team-{teams[0]}"},
        }
    )
    for service in services:
        where = ", ".join(f"{context} ×{count}" for context, count in service.replicas.items())
        entities.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {
                    "name": service.id,
                    "description": f"{service.pods:,} pods ({where}).",
                    "annotations": {
                        o.ID_LABEL: service.id,
                        "backstage.io/kubernetes-namespace": service.namespace,
                    },
                },
                "spec": {
                    "type": "service",
                    "lifecycle": "production",
                    "owner": f"team-{service.team}",
                    "system": "fleet",
                },
            }
        )
    return entities


__all__ = [
    "HUGE_NAMESPACE",
    "HUGE_SERVICE",
    "FleetSpec",
    "Service",
    "build_fleet",
    "fleet_catalog",
    "fleet_description",
    "plan_fleet",
]
