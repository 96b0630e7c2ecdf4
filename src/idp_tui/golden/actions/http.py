"""``http:backstage:request``: call the platform's Backstage backend from a template step."""

from __future__ import annotations

import json

from .base import ActionContext, ActionError

_METHODS = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}


class BackstageRequest:
    """``http:backstage:request``: sends a request to the profile's Backstage backend."""

    id = "http:backstage:request"
    description = "Sends a HTTP request to the Backstage API. It uses the token of the user who triggered the task."
    supports_dry_run = False

    def run(self, ctx: ActionContext) -> None:
        """Send ``method`` (``GET`` by default) to ``path`` with ``headers`` and ``body``; output the answer.

        Outputs ``code`` (the status, as a string), ``headers`` and ``body``. A change the answer carries is
        staged, applied only when the whole task succeeds.

        Raises:
            ActionError: the method or path is not valid, the profile has no backend, or the status is 400 or
                more and ``continueOnBadResponse`` is not set.
        """
        method = str(ctx.input.get("method") or "GET").upper()
        path = ctx.input.get("path")
        if method not in _METHODS:
            raise ActionError(f"method {method} is not one of {', '.join(sorted(_METHODS))}")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ActionError("input path must be a path on the Backstage backend, starting with /")
        handler = ctx.settings.backstage_request
        if handler is None:
            raise ActionError("no Backstage backend is configured for http:backstage:request in this profile")
        headers = {str(k).lower(): str(v) for k, v in (ctx.input.get("headers") or {}).items()}
        ctx.log(f"Sending {method} request to {path}" if ctx.input.get("logRequestPath", True) else f"Sending {method}")
        response = handler(method, path, headers, ctx.input.get("body"))
        ctx.log(f"Response status {response.status}")
        if response.status >= 400 and not ctx.input.get("continueOnBadResponse"):
            detail = json.dumps(response.body) if not isinstance(response.body, str) else response.body
            raise ActionError(f"Unable to complete request, HTTP status {response.status}: {detail[:300]}")
        if response.effect is not None:
            ctx.stage(response.effect)
        ctx.output("code", str(response.status))
        ctx.output("headers", response.headers)
        ctx.output("body", response.body)


ACTIONS = (BackstageRequest(),)
