"""The ``idp-tui`` command: the TUI with no subcommand, headless subcommands otherwise.

Only what a command needs is imported: the headless commands never load textual, kubernetes or hvac.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .platform import Platform


def build_parser() -> argparse.ArgumentParser:
    from .commands import catalog, deployments, logs, scaffold, validate, who

    parser = argparse.ArgumentParser(
        prog="idp-tui",
        description="Terminal console for your developer platform: catalog, golden paths, deployments, on-call.",
        epilog="With no command, opens the TUI (on the bundled demo unless --catalog is given).",
    )
    parser.add_argument("--version", action="version", version=f"idp-tui {__version__}")
    parser.add_argument(
        "--catalog",
        metavar="PATH",
        default=os.environ.get("IDP_TUI_CATALOG"),
        help="a catalog file or directory of YAML to use instead of the bundled demo (env IDP_TUI_CATALOG)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="parse every file again instead of reading the parsed-catalog cache"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=os.environ.get("IDP_TUI_READ_ONLY", "") not in ("", "0", "false"),
        help="never change a cluster: restart, scale and delete are refused (env IDP_TUI_READ_ONLY=1)",
    )
    parser.add_argument(
        "--user",
        metavar="REF",
        default=os.environ.get("IDP_TUI_USER"),
        help="who you are in the catalog, for 'mine' (user:jdoe; env IDP_TUI_USER; default: matched from $USER)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    catalog.add_parsers(subparsers)
    validate.add_parser(subparsers)
    scaffold.add_parser(subparsers)
    deployments.add_parser(subparsers)
    logs.add_parser(subparsers)
    who.add_parsers(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .platform import PlatformError, build_platform

    try:
        platform = None
        if args.command is None or getattr(args, "needs_platform", True):
            platform = build_platform(
                args.catalog, use_cache=not args.no_cache, read_only=args.read_only, user=args.user
            )
        if args.command is None:
            return _run_tui(platform)
        return args.handler(args, platform)
    except PlatformError as problem:
        from .commands.output import error

        error(str(problem))
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run_tui(platform: Platform) -> int:
    from .app import IdpApp

    app = IdpApp(platform)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
