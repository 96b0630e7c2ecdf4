"""Generate a realistic Backstage catalog of N entities for benchmarks.

Shaped like a large organisation's catalog: a root Location with globs; org files (departments, teams,
users) exported in bulk; one repository folder per service holding its ``catalog-info.yaml`` with the
component and, often, the API it provides and the resource it owns (multi-document, as real repos do).
Relations are dense and valid: owners, systems, domains, dependsOn, providesApis/consumesApis, memberOf.

    python tests/benchmarks/generate_catalog.py 50000 /tmp/catalog-50k
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

WORDS = [
    "payment",
    "ledger",
    "order",
    "cart",
    "checkout",
    "invoice",
    "refund",
    "billing",
    "pricing",
    "promo",
    "catalog",
    "search",
    "inventory",
    "shipping",
    "delivery",
    "tracking",
    "identity",
    "auth",
    "session",
    "profile",
    "account",
    "consent",
    "notification",
    "email",
    "sms",
    "push",
    "fraud",
    "risk",
    "scoring",
    "compliance",
    "audit",
    "report",
    "analytics",
    "metrics",
    "event",
    "stream",
    "gateway",
    "edge",
    "router",
    "merchant",
    "partner",
    "loyalty",
    "reward",
    "subscription",
    "plan",
    "quote",
    "tax",
    "currency",
    "settlement",
    "payout",
    "dispute",
    "recommendation",
    "ranking",
    "media",
    "image",
    "asset",
    "content",
    "review",
    "rating",
    "support",
    "ticket",
    "chat",
    "booking",
]
SUFFIXES = [
    "service",
    "api",
    "worker",
    "processor",
    "exporter",
    "importer",
    "adapter",
    "bff",
    "sync",
    "job",
    "scheduler",
    "store",
    "cache",
]
TAGS = [
    "python",
    "java",
    "go",
    "nodejs",
    "kotlin",
    "typescript",
    "rust",
    "grpc",
    "rest",
    "graphql",
    "kafka",
    "postgres",
    "redis",
    "critical-path",
    "pci-dss",
    "gdpr",
    "tier-1",
    "tier-2",
    "tier-3",
    "batch",
    "streaming",
    "ml",
    "frontend",
    "backend",
    "internal",
    "external",
]
LIFECYCLES = ["production"] * 6 + ["experimental"] * 2 + ["deprecated"]
FIRST = [
    "ana",
    "ben",
    "chloe",
    "dev",
    "eli",
    "fatima",
    "george",
    "hana",
    "ivan",
    "jade",
    "kofi",
    "lena",
    "maria",
    "nico",
    "olga",
    "pedro",
    "quinn",
    "rosa",
    "sam",
    "tara",
]
LAST = [
    "silva",
    "tanaka",
    "okafor",
    "berg",
    "nguyen",
    "raman",
    "dubois",
    "mehta",
    "petrova",
    "kim",
    "ferreira",
    "campbell",
    "haddad",
    "schmidt",
]


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _entity(kind: str, name: str, spec: dict, **metadata) -> dict:
    api_version = "scaffolder.backstage.io/v1beta3" if kind == "Template" else "backstage.io/v1alpha1"
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


def generate(total: int, out: Path, seed: int = 42) -> dict[str, int]:
    """Write about ``total`` entities under ``out`` and return the count per kind."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "org").mkdir(parents=True)
    (out / "repos").mkdir()
    counts: dict[str, int] = {}

    def count(kind: str, n: int = 1) -> None:
        counts[kind] = counts.get(kind, 0) + n

    n_users = max(12, total * 15 // 100)
    n_teams = max(5, total * 25 // 1000)
    n_departments = max(2, n_teams // 12)
    n_domains = max(2, total // 2000)
    n_systems = max(4, total * 4 // 100)
    remaining = total - n_users - n_teams - n_departments - n_domains - n_systems - 2
    n_repos = max(20, remaining * 10 // 17)  # each repo: a component, often an API and a resource

    departments = [f"dept-{rng.choice(WORDS)}-{i}" for i in range(n_departments)]
    teams = [f"team-{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}" for i in range(n_teams)]
    users = [f"{rng.choice(FIRST)}.{rng.choice(LAST)}{i}" for i in range(n_users)]
    team_members: dict[str, list[str]] = {team: [] for team in teams}
    user_docs = []
    for user in users:
        team = rng.choice(teams)
        team_members[team].append(user)
        first, last = user.split(".")
        user_docs.append(
            _entity(
                "User",
                user,
                {
                    "profile": {"displayName": f"{first.title()} {last.title()}", "email": f"{user}@corp.example"},
                    "memberOf": [team],
                },
            )
        )
    group_docs = [
        _entity(
            "Group",
            dept,
            {
                "type": "department",
                "profile": {"displayName": dept.title()},
                "children": [t for i, t in enumerate(teams) if i % n_departments == d],
            },
        )
        for d, dept in enumerate(departments)
    ]
    for index, team in enumerate(teams):
        group_docs.append(
            _entity(
                "Group",
                team,
                {
                    "type": "team",
                    "profile": {"displayName": team.replace("-", " ").title(), "email": f"{team}@corp.example"},
                    "parent": departments[index % n_departments],
                    "children": [],
                    "members": team_members[team][:8],
                },
                links=[{"url": f"https://chat.corp.example/{team}", "title": f"#{team}"}],
            )
        )
    domains = [f"{rng.choice(WORDS)}-domain-{i}" for i in range(n_domains)]
    systems = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-platform-{i}" for i in range(n_systems)]
    system_docs = [
        _entity("Domain", d, {"owner": rng.choice(departments)}, description=_sentence(rng, 8)) for d in domains
    ]
    system_docs += [
        _entity(
            "System", s, {"owner": rng.choice(teams), "domain": rng.choice(domains)}, description=_sentence(rng, 10)
        )
        for s in systems
    ]
    _dump_all(out / "org" / "groups.yaml", group_docs)
    _dump_all(out / "org" / "users.yaml", user_docs)
    _dump_all(out / "org" / "systems.yaml", system_docs)
    count("User", len(user_docs))
    count("Group", len(group_docs))
    count("Domain", n_domains)
    count("System", n_systems)

    components = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.choice(SUFFIXES)}-{i}" for i in range(n_repos)]
    apis: list[str] = []
    resources: list[str] = []
    for index, name in enumerate(components):
        team = rng.choice(teams)
        system = rng.choice(systems)
        documents = []
        provides = []
        if rng.random() < 0.4:
            api = f"{name}-api"
            provides.append(api)
            apis.append(api)
            documents.append(
                _entity(
                    "API",
                    api,
                    {
                        "type": rng.choice(["openapi", "grpc", "asyncapi"]),
                        "lifecycle": rng.choice(LIFECYCLES),
                        "owner": team,
                        "system": system,
                        "definition": "openapi: 3.0.0\ninfo:\n  title: " + api + "\n  version: 1.0.0\npaths: {}\n",
                    },
                    description=_sentence(rng, 8),
                    tags=rng.sample(TAGS, 2),
                )
            )
        depends = []
        if rng.random() < 0.3:
            resource = f"{name}-db"
            resources.append(resource)
            depends.append(f"resource:{resource}")
            documents.append(
                _entity(
                    "Resource",
                    resource,
                    {"type": rng.choice(["database", "queue", "bucket", "cache"]), "owner": team, "system": system},
                    description=_sentence(rng, 6),
                    tags=rng.sample(TAGS, 1),
                )
            )
        depends += [f"component:{c}" for c in rng.sample(components[:index], min(index, rng.randint(0, 3)))]
        consumes = rng.sample(apis[:-1], min(len(apis) - 1, rng.randint(0, 3))) if len(apis) > 1 else []
        spec = {
            "type": rng.choice(["service"] * 5 + ["website", "library"]),
            "lifecycle": rng.choice(LIFECYCLES),
            "owner": team,
            "system": system,
        }
        if provides:
            spec["providesApis"] = provides
        if consumes:
            spec["consumesApis"] = consumes
        if depends:
            spec["dependsOn"] = depends
        documents.insert(
            0,
            _entity(
                "Component",
                name,
                spec,
                title=name.replace("-", " ").title(),
                description=_sentence(rng, rng.randint(8, 18)),
                tags=rng.sample(TAGS, rng.randint(2, 4)),
                annotations={
                    "github.com/project-slug": f"corp/{name}",
                    "backstage.io/techdocs-ref": "dir:.",
                    "backstage.io/kubernetes-id": name,
                    "backstage.io/kubernetes-namespace": system,
                    "pagerduty.com/service-id": f"P{rng.randrange(16**6):06X}",
                },
                links=[{"url": f"https://grafana.corp.example/d/{name}", "title": "Dashboard", "icon": "dashboard"}],
            ),
        )
        repo = out / "repos" / name
        repo.mkdir()
        _dump_all(repo / "catalog-info.yaml", documents)
        count("Component")
        count("API", len(provides))
        count("Resource", len(documents) - 1 - len(provides))

    root = [
        _entity(
            "Location",
            "root",
            {"targets": ["./org/*.yaml", "./repos/*/catalog-info.yaml"]},
            description="Everything in this catalog",
        ),
        _entity(
            "Template",
            "service-template",
            {
                "type": "service",
                "owner": teams[0],
                "steps": [{"id": "log", "action": "debug:log", "input": {"message": "hello"}}],
            },
        ),
    ]
    _dump_all(out / "catalog-info.yaml", root)
    count("Location")
    count("Template")
    return counts


def _dump_all(path: Path, documents: list[dict]) -> None:
    path.write_text(yaml.dump_all(documents, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("total", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    counts = generate(args.total, args.out)
    print(f"{sum(counts.values())} entities in {args.out}: {counts}")


if __name__ == "__main__":
    main()
