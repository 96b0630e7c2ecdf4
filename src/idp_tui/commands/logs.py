"""``idp-tui logs REF``: every pod of an entity's workloads tailed together, each line prefixed with its source."""

from __future__ import annotations

import re
import sys

from ..platform import Platform
from .output import error

# Prefix colours cycle per pod/container, as stern's do; never used when NO_COLOR is set or output is piped.
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_cyan", "bright_magenta", "bright_green")


def add_parser(subparsers) -> None:
    logs = subparsers.add_parser("logs", help="tail the logs of every pod of an entity's workloads (like stern)")
    logs.add_argument("ref", help="[kind:][namespace/]name, e.g. payment-processor")
    logs.add_argument("--follow", "-f", action="store_true", help="keep streaming; pods that appear are joined")
    logs.add_argument("--since", metavar="DUR", help="only lines newer than this (30s, 5m, 2h)")
    logs.add_argument("--tail", type=int, metavar="N", help="the last N lines of each container")
    logs.add_argument("--container", "-c", metavar="RE", help="only containers whose name matches")
    logs.add_argument("--grep", "--include", dest="include", metavar="RE", help="only lines matching")
    logs.add_argument("--exclude", metavar="RE", help="leave out lines matching")
    logs.add_argument("--previous", "-p", action="store_true", help="the previous (crashed) container's logs")
    logs.add_argument("--timestamps", action="store_true", help="prefix each line with its timestamp")
    logs.add_argument("--context", action="append", help="only this kubeconfig context (repeatable)")
    logs.set_defaults(handler=logs_command)


def logs_command(args, platform: Platform) -> int:
    from ..kube.access import NoClusters
    from ..kube.logs import LogOptions, parse_duration
    from ..kube.selection import SelectorError, selector_for
    from .deployments import cluster_source

    entity = platform.catalog_source.load().find(args.ref)
    if entity is None:
        error(f"no entity {args.ref!r} in the catalog")
        return 1
    try:
        selector = selector_for(entity)
        options = LogOptions(
            follow=args.follow,
            tail=args.tail,
            since_seconds=parse_duration(args.since) if args.since else None,
            timestamps=args.timestamps,
            previous=args.previous,
            container=args.container,
            include=re.compile(args.include) if args.include else None,
            exclude=re.compile(args.exclude) if args.exclude else None,
        )
    except (SelectorError, ValueError, re.error) as problem:
        error(str(problem))
        return 2
    if selector is None:
        error(f"{entity.key} has no Kubernetes annotations, so no pods can be matched to it")
        return 1
    try:
        with cluster_source(platform, args.context) as clusters:
            return _tail(clusters, selector, options)
    except NoClusters as problem:
        error(str(problem))
        return 2


def _tail(clusters, selector, options) -> int:
    import queue

    from ..kube.logs import LogLine, LogTail, merged

    lines: queue.Queue = queue.Queue(maxsize=10_000)
    tails = []
    for name in clusters.cluster_names():
        if selector.allows_cluster(name):
            client = clusters.api_client(name)
            tail = LogTail(client, name, selector.namespace, selector.label_selector, options, lines)
            tail.start()
            tails.append(tail)
    console = _console()
    colours: dict[str, str] = {}
    try:
        for item in merged(tails, lines):
            if isinstance(item, LogLine):
                colour = colours.setdefault(item.source, PALETTE[len(colours) % len(PALETTE)])
                prefix = f"{item.cluster} {item.source}" if len(tails) > 1 else item.source
                console.print(f"[{colour}]{prefix}[/] {_escape(item.text)}", highlight=False, soft_wrap=True)
            else:
                error(item)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a follow: a normal way to stop, not a failure
    finally:
        for tail in tails:
            tail.stop()
    sys.stdout.flush()
    return 0


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
