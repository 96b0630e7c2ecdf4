"""Talking to a Backstage backend: bearer auth, the error envelope in words, retries with backoff, budgets.

Every request goes through :class:`BackstageHttp`, so the token handling, the budgets (see :mod:`idp_tui.http_budget`)
and the wording of failures are the same for the catalog and the scaffolder. The token is asked for per request
(a token command may rotate it) and never appears in an error, a log line or a repr; neither does a password in
the base URL, nor the token when Backstage quotes it back in ``error.message``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .. import http_budget as budget
from ..catalog.errors import CatalogSourceError
from ..golden.errors import TemplateRunError
from ..redaction import redact, redact_url
from ..tokens import TokenError
from .sse import SseLimitError, bounded_lines

if TYPE_CHECKING:
    import httpx

# Requests that may be sent again after a timeout or a 5xx: reads, and POSTs that only read (by-refs, dry-run).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = 10.0
# The scaffolder's event stream lives as long as the task: instead of a total deadline it gets an idle budget
# (no complete line for this long and it is treated as quiet, like a read timeout) and caps on what it may hold.
STREAM_IDLE = 30.0
MAX_STREAM_LINE = 1 * budget.MIB
MAX_STREAM_EVENT = 4 * budget.MIB
MAX_STREAM_BYTES = 256 * budget.MIB
# Error bodies are only read for Backstage's message: a small cap and shallow JSON.
_ERROR_BODY_JSON_VALUES = 100_000


class BackstageError(CatalogSourceError, TemplateRunError):
    """A request to Backstage failed; ``str()`` says why in words, with Backstage's own message when it sent one.

    It is both capabilities' domain error (this adapter serves the catalog and the template runner), so screens and
    commands catch :class:`CatalogSourceError` or :class:`TemplateRunError` and never this class.

    Attributes:
        kind: ``auth`` (401), ``forbidden`` (403), ``not-found`` (404), ``input`` (400), ``conflict`` (409),
            ``rate-limited`` (429), ``server`` (5xx), ``timeout``, ``unreachable``, ``token`` (no token could be
            read), ``protocol`` (an answer of the wrong shape, or past a budget).
        status: the HTTP status, when there was a response.
        name: Backstage's ``error.name`` (``NotFoundError``, ``InputError``...), when it sent one.
        body: the decoded JSON body of an error response (the scaffolder's ``{errors: [...]}`` lives here).
    """

    def __init__(
        self, message: str, *, kind: str, status: int | None = None, name: str | None = None, body: Any = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.name = name
        self.body = body


def _envelope(body: bytes) -> tuple[str | None, str | None, Any]:
    """``(error.name, error.message, body)`` from Backstage's ``{error: {name, message}, request, response}``."""
    try:
        decoded = budget.loads_bounded(body, max_values=_ERROR_BODY_JSON_VALUES)
    except budget.BodyError:
        return None, None, None
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if isinstance(error, dict):
        name, message = error.get("name"), error.get("message")
        return (name if isinstance(name, str) else None), (message if isinstance(message, str) else None), decoded
    return None, None, decoded


def describe_response(
    response: httpx.Response, what: str, body: bytes = b"", secrets: tuple[str | None, ...] = ()
) -> BackstageError:
    """The failure of ``what`` (``"reading the catalog"``) as a :class:`BackstageError` in words.

    Backstage's own ``error.message`` is quoted with URL credentials and ``secrets`` (the token sent) masked.
    """
    name, message, decoded = _envelope(body)
    if message:
        message = redact(message[:500], secrets)
    status = response.status_code
    said = f": {message}" if message else ""
    if status == 401:
        return BackstageError(
            f"Backstage: token missing or rejected while {what} (401{said})", kind="auth", status=401, name=name
        )
    if status == 403:
        text = f"Backstage: not allowed while {what} (403{said})"
        return BackstageError(text, kind="forbidden", status=403, name=name, body=decoded)
    if status == 404:
        detail = message or f"{response.request.url.path} does not exist on this Backstage (is the plugin installed?)"
        return BackstageError(f"Backstage: not found while {what}: {detail}", kind="not-found", status=404, name=name)
    if status == 409:
        return BackstageError(f"Backstage: conflict while {what}{said}", kind="conflict", status=409, name=name)
    if status == 429:
        return _retry_later(429, budget.retry_after_seconds(response.headers.get("Retry-After")), what)
    if 400 <= status < 500:
        text = f"Backstage rejected the request while {what} ({status}{said})"
        return BackstageError(text, kind="input", status=status, name=name, body=decoded)
    text = f"Backstage failed while {what} ({status} {response.reason_phrase}{said})"
    return BackstageError(text, kind="server", status=status, name=name, body=decoded)


def _status_words(status: int) -> str:
    if status == 429:
        return "Backstage rate limited (429)"
    return "Backstage unavailable (503)" if status == 503 else f"Backstage answered {status}"


def _retry_later(status: int, seconds: float | None, what: str) -> BackstageError:
    """``Backstage rate limited (429) while reading the catalog: retry in 30 s``."""
    when = f"retry in {budget.seconds_words(seconds)}" if seconds is not None else "try again shortly"
    kind = "rate-limited" if status == 429 else "server"
    return BackstageError(f"{_status_words(status)} while {what}: {when}", kind=kind, status=status)


class BackstageHttp:
    """An httpx client for one Backstage base URL.

    Args:
        base_url: the backend's root (``https://backstage.example.com``); API paths are appended to it.
        token_provider: returns the token for ``Authorization: Bearer``; None sends no token (guest backends).
        timeout: seconds per socket read (and connect).
        retries: how many times an idempotent request is retried after a timeout, a dropped connection, 429 or a
            502/503/504 (with exponential backoff and jitter, honouring ``Retry-After`` up to 10 s a wait).
        transport: an httpx transport (tests pass one to count or break requests).
        deadline: seconds for one attempt, headers and body together; default :func:`http_budget.request_deadline`.
        max_bytes: the largest decoded answer read (a request may ask for more, as a catalog page does).
        on_wait: told, in words, whenever a retry waits a second or more (``Backstage rate limited (429):
            waiting 10 s before retrying``); commands print it on stderr, the TUI shows a notification.
        stream_idle: seconds an event stream may go without a complete line before it counts as quiet.
    """

    def __init__(
        self,
        base_url: str,
        token_provider: Callable[[], str] | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
        deadline: float | None = None,
        max_bytes: int = budget.MAX_BACKSTAGE_BYTES,
        on_wait: budget.Notice | None = None,
        stream_idle: float = STREAM_IDLE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # What messages, labels and caches may show: the URL without its userinfo or credential parameters.
        self.display_url = redact_url(self.base_url)
        self._token_provider = token_provider
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.deadline = deadline if deadline is not None else budget.request_deadline()
        self.max_bytes = max_bytes
        self.on_wait = on_wait
        self.stream_idle = stream_idle
        self._transport = transport
        self._http_client: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        # Made (and httpx imported) on the first request: a start from the cache shows rows before that.
        if self._http_client is None:
            import httpx

            client = httpx.Client(
                base_url=self.base_url,
                timeout=self.timeout,
                transport=self._transport,
                # Only the codings the bounded reader undoes (httpx would add br and zstd when installed).
                headers={"Accept-Encoding": "gzip, deflate"},
            )
            budget.install_deadlines(client)
            self._http_client = client
        return self._http_client

    def __repr__(self) -> str:
        return f"BackstageHttp({self.display_url!r})"  # never the token, nor a password in the URL

    def close(self) -> None:
        """Close the HTTP client's connections, if the client was ever made."""
        if self._http_client is not None:
            self._http_client.close()

    def _headers(self, what: str) -> tuple[dict[str, str], str | None]:
        """The request headers and the token in them (to mask it should Backstage quote it back)."""
        headers = {"Accept": "application/json"}
        if self._token_provider is None:
            return headers, None
        try:
            token = self._token_provider()
        except TokenError as error:
            raise BackstageError(f"Backstage token: {error}", kind="token") from None
        except Exception as error:  # noqa: BLE001 - any failure to read a token is "no token", said without it
            raise BackstageError(f"Backstage token could not be read ({type(error).__name__})", kind="token") from None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers, token or None

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Any = None,
        json: Any = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
        max_bytes: int | None = None,
    ) -> bytes:
        """Send a request and return the body of the successful answer; raise :class:`BackstageError` otherwise.

        Each attempt has :attr:`deadline` seconds for headers and body; an attempt that used it all up is not
        retried (a trickling server will not get faster), a read timeout or a dropped connection is.
        """
        import httpx

        retry = (method == "GET") if idempotent is None else idempotent
        attempts = 1 + (self.retries if retry else 0)
        waits = budget.RetryWaits()
        cap = max_bytes or self.max_bytes
        for attempt in range(attempts):
            last = attempt == attempts - 1
            headers, token = self._headers(what)
            request = self._client.build_request(
                method,
                path,
                params=params,
                json=json,
                headers=headers,
                timeout=timeout if timeout is not None else self.timeout,
            )
            deadline = budget.Deadline(self.deadline)
            try:
                response, body = budget.send_within(self._client, request, deadline, max_bytes=cap)
            except httpx.TimeoutException:
                if deadline.passed:
                    within = budget.seconds_words(self.deadline)
                    text = f"Backstage did not finish answering within {within} while {what}"
                    raise BackstageError(text, kind="timeout") from None
                if last:
                    raise BackstageError(
                        f"Backstage did not answer within {self.timeout:g}s while {what}", kind="timeout"
                    ) from None
                time.sleep(self._backoff(attempt))
                continue
            except budget.BodyError as error:
                raise BackstageError(f"Backstage sent {error} while {what}", kind="protocol") from None
            except httpx.HTTPError as error:
                if last:
                    raise self._unreachable(error, what) from None
                time.sleep(self._backoff(attempt))
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._wait_to_retry(response, attempt, waits, what)
                continue
            if response.is_success:
                return body
            raise describe_response(response, what, body, (token,))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def get_json(self, path: str, *, what: str, params: Any = None, max_bytes: int | None = None) -> Any:
        """GET ``path`` and decode its JSON body (size, depth and values bounded); retried as :meth:`request` says.

        Raises:
            BackstageError: the request failed (``what`` says what was being done), or the body is not JSON
                or is over a bound.
        """
        return self._decode(self.request("GET", path, what=what, params=params, max_bytes=max_bytes), what)

    def post_json(self, path: str, body: Any, *, what: str, idempotent: bool = False) -> Any:
        """POST ``body`` as JSON to ``path`` and decode the JSON answer; retried only when ``idempotent``.

        Raises:
            BackstageError: the request failed (``what`` says what was being done), or the answer is not JSON
                or is over a bound.
        """
        return self._decode(self.request("POST", path, what=what, json=body, idempotent=idempotent), what)

    def stream(self, path: str, *, what: str, params: Any = None, timeout: float | None = None) -> EventStream:
        """A streaming GET (server-sent events); the caller iterates ``iter_lines()`` and closes it."""
        import httpx

        headers, token = self._headers(what)
        request = self._client.build_request(
            "GET",
            path,
            params=params,
            headers={**headers, "Accept": "text/event-stream"},
            timeout=timeout if timeout is not None else self.timeout,
        )
        # The headers arrive when a step first logs: they get the idle budget too, as a whole.
        idle = budget.Deadline(self.stream_idle)
        try:
            with budget.deadline_scope(idle):
                response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise BackstageError(
                f"Backstage did not answer within {min(self.timeout, self.stream_idle):g}s while {what}",
                kind="timeout",
            ) from None
        except httpx.HTTPError as error:
            raise self._unreachable(error, what) from None
        if not response.is_success:
            try:
                with budget.deadline_scope(idle):
                    body = budget.read_body(response, max_bytes=64 * 1024, deadline=idle)
            except (httpx.HTTPError, budget.BodyError):
                body = b""
            finally:
                response.close()
            raise describe_response(response, what, body, (token,))
        return EventStream(response, idle, what)

    def _unreachable(self, error: Exception, what: str) -> BackstageError:
        text = f"could not reach Backstage at {self.display_url} while {what} ({type(error).__name__})"
        return BackstageError(text, kind="unreachable")

    @staticmethod
    def _decode(body: bytes, what: str) -> Any:
        try:
            return budget.loads_bounded(body)
        except budget.BodyError as error:
            raise BackstageError(f"Backstage sent {error} while {what}", kind="protocol") from None

    def _backoff(self, attempt: int) -> float:
        return self.backoff * (2**attempt) * (1 + random.random() / 2)  # noqa: S311 - jitter, not a secret

    def _wait_to_retry(self, response: httpx.Response, attempt: int, waits: budget.RetryWaits, what: str) -> None:
        """Sleep before the next attempt: Backstage's Retry-After when it is short enough, else fail at once."""
        status = response.status_code
        wanted = budget.retry_after_seconds(response.headers.get("Retry-After"))
        delay = self._backoff(attempt) if wanted is None else max(wanted, self._backoff(attempt))
        if not waits.allows(delay):
            raise _retry_later(status, wanted if wanted is not None else delay, what)
        waits.wait(delay, self.on_wait, _status_words(status), sleep=time.sleep)


class EventStream:
    """An open ``text/event-stream`` answer, read as lines within the idle budget and the size caps.

    Raises (while iterating): ``httpx.TimeoutException`` when no complete line came within the idle budget or a
    read timed out, ``httpx.HTTPError`` when the connection broke, :class:`BackstageError` (``protocol``) past a cap.
    """

    def __init__(self, response: httpx.Response, idle: budget.Deadline, what: str) -> None:
        self.response = response
        self.idle = idle
        self.what = what

    def iter_lines(self) -> Iterator[str]:
        """The stream's lines without their terminators, as ``httpx.Response.iter_lines`` gives them."""
        self.idle.restart()
        chunks = budget.decoded_chunks(self.response, max_bytes=MAX_STREAM_BYTES, deadline=self.idle)
        lines = bounded_lines(
            self._within_idle(chunks), max_line=MAX_STREAM_LINE, max_event=MAX_STREAM_EVENT, max_total=MAX_STREAM_BYTES
        )
        try:
            for line in lines:
                self.idle.restart()  # a complete line (a keep-alive comment too) shows the server is alive
                yield line
        except (SseLimitError, budget.BodyError) as error:
            raise BackstageError(f"Backstage sent {error} while {self.what}", kind="protocol") from None

    def _within_idle(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        # Each socket read happens inside next(): that is where the idle deadline must be the active one.
        while True:
            with budget.deadline_scope(self.idle):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        """Close the response, ending the stream."""
        self.response.close()
