"""The policy flags ``scaffold`` and ``validate`` share: ``--policy`` and conftest's choice of Rego packages."""

from __future__ import annotations

import argparse

ALL_PACKAGES = "*"


def add_policy_options(parser: argparse.ArgumentParser, policy_help: str, *, from_profile: bool) -> None:
    """The flags; ``from_profile``: the command reads the profile's packages when no flag chooses (``validate``
    reads only its command line, so that a CI step checks what it says)."""
    or_profile = ", or the profile's {}" if from_profile else ""
    parser.add_argument("--policy", dest="policies", action="append", default=[], metavar="PATH", help=policy_help)
    parser.add_argument(
        "--namespace",
        dest="policy_namespaces",
        action="append",
        metavar="PACKAGE",
        help="the Rego package whose rules judge manifests, as conftest's --namespace (repeatable; default: main"
        + or_profile.format("policy_namespaces")
        + ")",
    )
    parser.add_argument(
        "--all-namespaces",
        action="store_true",
        help="the rules of every Rego package judge manifests (conftest's --all-namespaces)",
    )
    parser.add_argument(
        "--catalog-namespace",
        dest="catalog_policy_namespaces",
        action="append",
        metavar="PACKAGE",
        help="the Rego package whose rules judge catalog entities (repeatable; default: catalog"
        + or_profile.format("catalog_policy_namespaces")
        + ")",
    )


def chosen_packages(args: argparse.Namespace) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The Rego packages the flags choose for manifests and for catalog entities; None where no flag chose."""
    manifests = getattr(args, "policy_namespaces", None)
    if getattr(args, "all_namespaces", False):
        manifests = [ALL_PACKAGES]
    entities = getattr(args, "catalog_policy_namespaces", None)
    return (tuple(manifests) if manifests else None), (tuple(entities) if entities else None)
