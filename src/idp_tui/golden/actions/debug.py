"""``debug:log`` and ``debug:wait``, as Backstage writes and times them.

``debug:log`` logs its input as indented JSON, then the message, then (``listWorkspace``) every file of the
workspace in name order. Unlike Backstage, symlinks are listed as entries and never followed, so a link to a
directory outside the workspace cannot make the listing wander off; with ``with-contents`` a link is read only
when it resolves inside the workspace, otherwise it shows as ``[skipped]`` (Backstage's safe-path rule).

``debug:wait`` refuses durations over Backstage's default maximum of 10 minutes and sleeps in short slices so a
cancel flag (an optional ``cancel`` ``threading.Event`` attribute on the context) can end the wait early.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from ..sources import read_regular
from .base import ActionContext, ActionError
from .filesystem import list_tree

_SCHEMA_NOTE = "http://json-schema.org/draft-07/schema#"
MAX_WAIT_SECONDS = 10 * 60
# luxon's Duration.toHuman() of Backstage's MAX_WAIT_TIME_IN_ISO ("T00:10:00").
_MAX_WAIT_HUMAN = "0 hours, 10 minutes, 0 seconds"
_SLICE_SECONDS = 0.1


def _js_json(value: Any) -> Any:
    """Values as JSON.stringify writes them: integral floats without ``.0``."""
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _js_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_js_json(v) for v in value]
    return value


class DebugLog:
    """``debug:log``: logs the step's input, a message and, if asked, the files of the workspace."""

    id = "debug:log"
    description = "Writes a message into the log and/or lists all files in the workspace."
    supports_dry_run = True
    input_schema = {
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "Message to output."},
            "listWorkspace": {
                "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["with-filenames", "with-contents"]}],
                "description": (
                    'List all files in the workspace. If used with "with-contents", also the file contents are listed.'
                ),
            },
        },
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Log the input as indented JSON, then ``message``, then (``listWorkspace``) the workspace's files.

        With ``listWorkspace: with-contents`` each file's content follows its name; one that is not a regular
        file inside the workspace shows as ``[skipped]``.
        """
        ctx.log(json.dumps(_js_json(ctx.input), indent=2, ensure_ascii=False, default=str))
        message = ctx.input.get("message")
        if message:
            ctx.log(str(message))
        mode = ctx.input.get("listWorkspace")
        if mode:
            files = [path for path, is_dir in list_tree(ctx.workspace) if not is_dir]
            if mode == "with-contents":
                lines = [self._with_contents(ctx, path) for path in files]
            else:
                lines = [f"  - {path}" for path in files]
            ctx.log("Workspace:\n" + "\n".join(lines))

    @staticmethod
    def _with_contents(ctx: ActionContext, path: str) -> str:
        try:
            # Only a regular file, within the size cap: a FIFO would block the log forever.
            content = read_regular(ctx.workspace_path(path), path)[0].decode("utf-8", errors="replace")
        except (ActionError, OSError):
            return f" - {path}: [skipped]"
        return f" - {path}:\n\n  {content}"


class DebugWait:
    """``debug:wait``: waits for ``minutes`` + ``seconds`` + ``milliseconds``, at most 10 minutes."""

    id = "debug:wait"
    description = "Waits for a certain period of time."
    supports_dry_run = False
    input_schema = {
        "type": "object",
        "properties": {
            "minutes": {"type": "number", "description": "Waiting period in minutes."},
            "seconds": {"type": "number", "description": "Waiting period in seconds."},
            "milliseconds": {"type": "number", "description": "Waiting period in milliseconds."},
        },
        "additionalProperties": False,
        "$schema": _SCHEMA_NOTE,
    }

    def run(self, ctx: ActionContext) -> None:
        """Sleep for the input's duration, ending early when the context's ``cancel`` event is set.

        Raises:
            ActionError: the duration is over 10 minutes, or a unit's value is not a finite number.
        """
        seconds = self.duration_seconds(ctx.input)
        if seconds > MAX_WAIT_SECONDS:
            raise ActionError(f"Waiting duration is longer than the maximum threshold of {_MAX_WAIT_HUMAN}")
        cancel = getattr(ctx, "cancel", None)
        deadline = time.monotonic() + max(seconds, 0.0)
        while (left := deadline - time.monotonic()) > 0:
            if cancel is not None and cancel.is_set():
                return
            time.sleep(min(left, _SLICE_SECONDS))

    @staticmethod
    def duration_seconds(inputs: dict[str, Any]) -> float:
        """The total of ``minutes``, ``seconds`` and ``milliseconds`` (luxon accepts numeric strings too)."""
        total = 0.0
        for unit, factor in (("minutes", 60.0), ("seconds", 1.0), ("milliseconds", 0.001)):
            value = inputs.get(unit)
            if value is None:
                continue
            if isinstance(value, bool):
                raise ActionError(f"Invalid unit value {value}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ActionError(f"Invalid unit value {value}") from None
            if not math.isfinite(number):
                raise ActionError(f"Invalid unit value {value}")
            total += number * factor
        return total


ACTIONS = (DebugLog(), DebugWait())
