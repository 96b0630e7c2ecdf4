"""The ``idp-tui`` command: the TUI with no subcommand, headless subcommands otherwise.

Only what a command needs is imported: the headless commands never load textual, kubernetes or hvac.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from . import __version__

if TYPE_CHECKING:
    from .session import Session


def _parser_with_global_options(
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """The ``idp-tui`` parser with the options that come before a command (those of the TUI)."""
    parser = parser_class(
        prog="idp-tui",
        description="Terminal console for your developer platform: catalog, golden paths, deployments, on-call.",
        epilog="With no command, opens the TUI (on the bundled demo unless --catalog is given).",
    )
    parser.add_argument("--version", action="version", version=f"idp-tui {__version__}")
    # Flags default to None ("not given"): the profile resolves defaults < config file < IDP_TUI_* env < flags.
    parser.add_argument("--profile", metavar="NAME", help="a profile of the config file (env IDP_TUI_PROFILE)")
    parser.add_argument(
        "--catalog",
        metavar="PATH_OR_URL",
        help="a catalog file or directory, or a Backstage URL (token from BACKSTAGE_TOKEN), instead of the "
        "profile's (env IDP_TUI_CATALOG)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="parse every file again instead of reading the parsed-catalog cache"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        default=None,
        help="use only the cached copy of a Backstage catalog; send nothing (env IDP_TUI_OFFLINE=1)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="change nothing: restart, scale, delete and golden-path runs are refused; previews (--dry-run) still "
        "work (env IDP_TUI_READ_ONLY=1)",
    )
    parser.add_argument(
        "--no-animations",
        action="store_true",
        help="draw without animations (always so over SSH, where every frame costs bytes)",
    )
    parser.add_argument(
        "--user",
        metavar="REF",
        help="who you are in the catalog, for 'mine' (user:jdoe; env IDP_TUI_USER; default: matched from $USER)",
    )
    parser.add_argument("--theme", metavar="NAME", help="the colour theme (env IDP_TUI_THEME)")
    return parser


class _NotTheTuiAlone(Exception):
    """The arguments are not the TUI's options alone (a command, --help, a mistake): the whole parser reads them."""


class _TuiOptionsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotTheTuiAlone(message)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The arguments, read without importing every command's module when they only open the TUI.

    The commands' modules take about a sixth of the time to the TUI's first frame; the parser of the options
    alone reads a plain ``idp-tui --catalog DIR`` and hands anything else (a command, ``--help``, an error, so its
    message names the commands) to the whole parser.
    """
    arguments = sys.argv[1:] if argv is None else argv
    if not any(argument in ("-h", "--help") for argument in arguments):
        try:
            args, rest = _parser_with_global_options(_TuiOptionsParser).parse_known_args(arguments)
        except _NotTheTuiAlone:
            pass
        else:
            if not rest:
                args.command = None
                return args
    return build_parser().parse_args(argv)


def build_parser() -> argparse.ArgumentParser:
    from .commands import catalog, config, demo, deployments, gitops, keys, logs, scaffold, secrets, validate, who

    parser = _parser_with_global_options()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    catalog.add_parsers(subparsers)
    validate.add_parser(subparsers)
    scaffold.add_parser(subparsers)
    deployments.add_parser(subparsers)
    gitops.add_parser(subparsers)
    logs.add_parser(subparsers)
    demo.add_parser(subparsers)
    who.add_parsers(subparsers)
    secrets.add_parser(subparsers)
    config.add_parser(subparsers)
    keys.add_parser(subparsers)
    return parser


HEADLESS_USAGE = """\
idp-tui: stdout is not a terminal, so the TUI is not drawn. The same answers as commands:
  idp-tui catalog list [--kind KIND] [--json]   the catalog's entities
  idp-tui who REF [--json]                      who owns REF and who is on call now
  idp-tui deployments REF [--json]              workloads, rollout status and pods on every cluster
  idp-tui gitops sync|refresh|promote|abort REF act on REF's Argo CD application or Argo Rollout
  idp-tui logs REF [--follow]                   the logs of REF's pods
  idp-tui scaffold TEMPLATE [--dry-run]         run (or preview) a golden path
  idp-tui secrets REF [--json]                  REF's secret keys in Vault (never values)
  idp-tui --help                                every command and option
"""


def _printable_anywhere() -> None:
    """Characters the output encoding lacks (PYTHONIOENCODING=ascii, a Latin-1 terminal) print as ``?``.

    Views use symbols such as ``·``, ``✓`` and ``▲``: without this, the first one would end the command with a
    UnicodeEncodeError traceback instead of an answer.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream (pytest's capture) may lack it
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            reconfigure(errors="replace")


def main(argv: list[str] | None = None) -> int:
    _printable_anywhere()
    args = _parse(argv)
    if args.command is None and not sys.stdout.isatty():
        # Piped or redirected: drawing a TUI into a file helps nobody; say what works without a terminal.
        sys.stdout.write(HEADLESS_USAGE)
        return 0
    from .catalog.errors import CatalogSourceError
    from .config import ConfigError
    from .golden.errors import TemplateRunError

    try:
        if args.command is not None and not getattr(args, "needs_session", True):
            _say_fallback_once()
            return args.handler(args, None)
        with _session(args) as session:  # what the session started (the demo cluster, the demo Vault) stops here
            if args.command is None:
                return _run_tui(session, no_animations=args.no_animations)
            _say_fallback_once()
            return args.handler(args, session)
    except (ConfigError, CatalogSourceError, TemplateRunError) as problem:
        from .commands.output import error

        for line in getattr(problem, "problems", None) or [str(problem)]:
            error(line)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _session(args: argparse.Namespace) -> Session:
    """The session of the active profile: the config file, then IDP_TUI_* variables, then these flags."""
    from .config import load_config, resolve_profile
    from .session import Session

    profile = resolve_profile(
        load_config(),
        profile=args.profile,
        catalog=args.catalog,
        user=args.user,
        read_only=args.read_only,
        offline=args.offline,
        theme=args.theme,
    )
    # --policy (scaffold's) adds to the profile's policies: a policy being written is tried with the others.
    # --namespace and --catalog-namespace choose the Rego packages instead of the profile's.
    from .commands.policy_options import chosen_packages

    session = Session.from_profile(profile, use_cache=not args.no_cache)
    return session.with_policies(getattr(args, "policies", None), *chosen_packages(args))


def _say_fallback_once() -> None:
    """A locked-down home: one stderr line that state and cache went to a temporary folder (the TUI notifies)."""
    from .paths import take_fallback_notice

    notice = take_fallback_notice()
    if notice:
        from .commands.output import error

        error(notice)


def _run_tui(session: Session, *, no_animations: bool = False) -> int:
    from .app import IdpApp

    app = IdpApp(session, no_animations=no_animations)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
