"""The policy flags ``scaffold`` and ``validate`` share: ``--policy`` and conftest's choice of Rego packages."""

from __future__ import annotations

import argparse

ALL_PACKAGES = "*"


def add_policy_options(parser: argparse.ArgumentParser, policy_help: str, *, from_profile: bool) -> None:
    """The flags; ``from_profile``: the command reads the profile's packages when no flag chooses (``validate``
    reads only its command line, so that a CI step checks what it says)."""
    parser.add_argument("--policy", dest="policies", action="append", default=[], metavar="PATH", help=policy_help)
    _package_flag(parser, "--namespace", "policy_namespaces", "manifests", "main", from_profile)
    parser.add_argument(
        "--all-namespaces",
        action="store_true",
        help="the rules of every Rego package judge manifests (conftest's --all-namespaces)",
    )
    _package_flag(
        parser, "--catalog-namespace", "catalog_policy_namespaces", "catalog entities", "catalog", from_profile
    )


def _package_flag(
    parser: argparse.ArgumentParser, flag: str, key: str, judged: str, default: str, from_profile: bool
) -> None:
    """A repeatable flag choosing Rego packages; ``key`` is both its destination and the profile's key."""
    conftest = ", as conftest's --namespace" if flag == "--namespace" else ""
    or_profile = f", or the profile's {key}" if from_profile else ""
    parser.add_argument(
        flag,
        dest=key,
        action="append",
        metavar="PACKAGE",
        help=f"the Rego package whose rules judge {judged}{conftest} (repeatable; default: {default}{or_profile})",
    )


def chosen_packages(args: argparse.Namespace) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The Rego packages the flags choose for manifests and for catalog entities; None where no flag chose."""
    manifests = getattr(args, "policy_namespaces", None)
    if getattr(args, "all_namespaces", False):
        manifests = [ALL_PACKAGES]
    entities = getattr(args, "catalog_policy_namespaces", None)
    return (tuple(manifests) if manifests else None), (tuple(entities) if entities else None)
