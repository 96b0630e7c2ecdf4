"""``idp-tui logs REF``: every pod of an entity's workloads tailed together, each line prefixed with its source.

A log line is whatever a container wrote, escape sequences included: by default every one is removed before the
line is printed (an ``ESC ] 52`` in a log would otherwise write to the reader's clipboard). ``--color always``
keeps the lines' own colours (SGR sequences only, as stern's ``--color always`` passes them), and nothing else.

``--output pretty`` reads each line into time, level (symbol and word: it reads without colour), message and the
other fields folded as ``k=v``, behind a pod prefix cut to what tells the pods apart (a legend on stderr says
which pod each stands for); ``--output json`` writes one object per line (pod, container, cluster, time, level,
message, fields). ``--level warn`` keeps lines at that level or above, with the stack traces that follow them.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from ..safe_text import clean, clean_keep_colours
from .output import error

if TYPE_CHECKING:
    from ..kube.log_stream import LogTarget
    from ..kube.logs import LogOptions
    from ..kube.protocols import LogSource
    from ..session import Session

# Prefix colours cycle per pod/container, as stern's do (cyan, magenta, green, yellow, blue, then bright ones).
PALETTE = ("36", "35", "32", "33", "34", "96", "95", "92")
RESET = "\x1b[0m"


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
    logs.add_argument(
        "--output",
        "-o",
        choices=("raw", "pretty", "json"),
        default="raw",
        help="raw (default): each line as written, after its pod; pretty: time, level, message and folded fields "
        "with short pod prefixes; json: one object per line (pod, container, cluster, time, level, message, fields)",
    )
    logs.add_argument(
        "--level",
        metavar="LEVEL",
        help="only lines at this level or above (trace, debug, info, warn, error, fatal), with their stack traces",
    )
    logs.add_argument(
        "--color",
        nargs="?",
        const="always",
        default="auto",
        choices=("auto", "always", "never"),
        help="auto (default): coloured prefixes on a terminal, every escape sequence removed from the lines; "
        "always (or bare --color): also keep the lines' own colours, even when piped; never: no colour",
    )
    logs.set_defaults(handler=logs_command)


def logs_command(args, session: Session) -> int:
    from ..kube.errors import NoClusters
    from ..kube.logs import LogOptions, parse_duration
    from ..kube.selection import SelectorError, selector_for

    entity = session.catalog_source.load().find(args.ref)
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
        minimum = _level(args.level)
    except (SelectorError, ValueError, re.error) as problem:
        error(str(problem))
        return 2
    if selector is None:
        error(f"{entity.key} has no Kubernetes annotations, so no pods can be matched to it")
        return 1
    from ..kube.log_stream import LogTarget

    try:
        return _tail(
            session.log_source(args.context),
            LogTarget.of(selector),
            options,
            _colour_mode(args.color),
            output=args.output,
            minimum=minimum,
        )
    except NoClusters as problem:
        error(str(problem))
        return 2
    finally:
        # The streams have ended (Ctrl-C too): the demo cluster stops now, so no thread outlives the command (one
        # still writing to a socket while the interpreter shuts down can abort it).
        session.close()


def _level(text: str | None):
    """``--level``'s value as a :class:`Level` (None: every line); a word no logger uses is a ValueError."""
    if text is None:
        return None
    from ..kube.log_lines import parse_level

    try:
        return parse_level(text)  # the names loggers use too: err, W, crit, ≥warn
    except ValueError:
        raise ValueError(f"--level: {text!r} is not a level (trace, debug, info, warn, error or fatal)") from None


def _colour_mode(choice: str) -> str:
    """``always``, ``prefix`` (coloured prefixes only) or ``never``: what ``--color`` means here and now."""
    if choice == "auto":
        plain = "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb" or not sys.stdout.isatty()
        return "never" if plain else "prefix"
    return choice


def _tail(
    clusters: LogSource,
    target: LogTarget,
    options: LogOptions,
    colour: str = "never",
    *,
    output: str = "raw",
    minimum=None,
) -> int:
    """Print the merged lines of every allowed cluster; a cluster that cannot be read is one line on stderr.

    Returns:
        0, or 2 when a cluster could not be read (the lines of the others are printed all the same).
    """
    from ..kube.log_stream import LogStream
    from ..kube.logs import LogLine

    stream = LogStream(clusters, target, options)
    names = stream.clusters
    if clusters.demo:
        # On stderr: stdout holds only log lines, for grep and files, and the demo must never pass for a real cluster.
        error(f"demo cluster ({', '.join(names) or 'no context'}): the demo's logs, not a real cluster's")
    colours: dict[str, str] = {}
    write = sys.stdout.write
    levels = None
    if minimum is not None:
        from ..kube.log_lines import LevelFilter

        levels = LevelFilter(minimum)
    reader = _Reader(colour, len(names) > 1) if output != "raw" or levels is not None else None
    try:
        stream.start()
        for batch in stream.batches():
            for item in batch:
                if isinstance(item, LogLine) and reader is not None:
                    line = reader.parse(item)
                    if levels is not None and not levels.keep(line, (item.cluster, item.pod, item.container)):
                        continue
                    if output == "json":
                        from ..kube.log_format import to_json_line

                        write(to_json_line(line, pod=item.pod, container=item.container, cluster=item.cluster) + "\n")
                    elif output == "pretty":
                        write(reader.pretty(item, line) + "\n")
                        continue
                    if output != "raw":
                        continue
                if isinstance(item, LogLine):
                    prefix = clean(f"{item.cluster} {item.source}" if len(names) > 1 else item.source, one_line=True)
                    if colour == "never":
                        write(f"{prefix} {clean(item.text)}\n")
                        continue
                    code = colours.setdefault(item.source, PALETTE[len(colours) % len(PALETTE)])
                    body = clean_keep_colours(item.text) if colour == "always" else clean(item.text)
                    # A line's own colour must not run into the next line's prefix.
                    end = RESET if "\x1b" in body else ""
                    write(f"\x1b[{code}m{prefix}{RESET} {body}{end}\n")
                else:
                    error(item)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends a follow: a normal way to stop, not a failure
    finally:
        stream.stop()  # every stream's thread ends here, before the session stops the clusters
    sys.stdout.flush()
    return 2 if stream.failed else 0


# ANSI styles of the pretty output's pieces (NO_COLOR or a pipe: none; the level's symbol and word still say it).
_ANSI = {
    "log.time": "2",
    "log.field.key": "2",
    "log.field.value": "2",
    "log.more": "2",
    "log.level.fatal": "1;7;31",
    "log.level.error": "1;31",
    "log.level.warn": "1;33",
    "log.level.info": "32",
    "log.level.debug": "2",
    "log.level.trace": "2",
}


class _Reader:
    """Reads lines for ``--output pretty|json`` and ``--level``, and lays pretty lines out: short pod prefixes (a
    new legend on stderr when a pod joins), a colour per pod, levels as symbol and word."""

    def __init__(self, colour: str, show_cluster: bool) -> None:
        self.colour = colour
        self.show_cluster = show_cluster
        self.pods: list[str] = []
        self.short: dict[str, str] = {}
        self.colours: dict[str, int] = {}
        self.width = 0

    def parse(self, item):
        from ..kube.log_lines import parse_line

        return parse_line(item.text)

    def _joined(self, pod: str) -> None:
        from ..kube.log_format import assign_colours, legend, pod_prefixes

        self.pods.append(pod)
        self.short = pod_prefixes(self.pods)
        self.colours = assign_colours(self.pods, len(PALETTE), self.colours)
        self.width = max(len(value) for value in self.short.values())
        for line in legend(self.short):
            error(clean(f"pods: {line}", one_line=True))

    def pretty(self, item, line) -> str:
        from ..kube.log_format import format_pretty, plain_text, source_label

        if item.pod not in self.short:
            self._joined(item.pod)
        source = source_label(self.short[item.pod], item.pod, item.container)
        prefix = clean(f"{item.cluster} {source}" if self.show_cluster else source, one_line=True).ljust(self.width)
        spans = format_pretty(line, None)
        if self.colour == "never":
            return prefix + " " + plain_text(spans)
        code = PALETTE[self.colours[item.pod]]
        body = "".join(
            f"\x1b[{_ANSI[span.style]}m{span.text}{RESET}" if span.style in _ANSI else span.text for span in spans
        )
        return f"\x1b[{code}m{prefix}{RESET} {body}"
