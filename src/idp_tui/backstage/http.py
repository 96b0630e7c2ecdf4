"""Talking to a Backstage backend: bearer auth, the error envelope in words, retries with backoff.

Every request goes through :class:`BackstageHttp`, so the token handling and the wording of failures are the
same for the catalog and the scaffolder. The token is asked for per request (a token command may rotate it) and
never appears in an error, a log line or a repr.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..tokens import TokenError

if TYPE_CHECKING:
    import httpx

# Requests that may be sent again after a timeout or a 5xx: reads, and POSTs that only read (by-refs, dry-run).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = 10.0


class BackstageError(Exception):
    """A request to Backstage failed; ``str()`` says why in words, with Backstage's own message when it sent one.

    Attributes:
        kind: ``auth`` (401), ``forbidden`` (403), ``not-found`` (404), ``input`` (400), ``conflict`` (409),
            ``server`` (5xx), ``timeout``, ``unreachable``, ``token`` (no token could be read), ``protocol``.
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


def _envelope(response: httpx.Response) -> tuple[str | None, str | None, Any]:
    """``(error.name, error.message, body)`` from Backstage's ``{error: {name, message}, request, response}``."""
    try:
        body = response.json()
    except ValueError:
        return None, None, None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("name"), error.get("message"), body
    return None, None, body


def describe_response(response: httpx.Response, what: str) -> BackstageError:
    """The failure of ``what`` (``"reading the catalog"``) as a :class:`BackstageError` in words."""
    name, message, body = _envelope(response)
    status = response.status_code
    said = f": {message}" if message else ""
    if status == 401:
        return BackstageError(
            f"Backstage: token missing or rejected while {what} (401{said})", kind="auth", status=401, name=name
        )
    if status == 403:
        text = f"Backstage: not allowed while {what} (403{said})"
        return BackstageError(text, kind="forbidden", status=403, name=name, body=body)
    if status == 404:
        detail = message or f"{response.request.url.path} does not exist on this Backstage (is the plugin installed?)"
        return BackstageError(f"Backstage: not found while {what}: {detail}", kind="not-found", status=404, name=name)
    if status == 409:
        return BackstageError(f"Backstage: conflict while {what}{said}", kind="conflict", status=409, name=name)
    if 400 <= status < 500:
        text = f"Backstage rejected the request while {what} ({status}{said})"
        return BackstageError(text, kind="input", status=status, name=name, body=body)
    text = f"Backstage failed while {what} ({status} {response.reason_phrase}{said})"
    return BackstageError(text, kind="server", status=status, name=name, body=body)


class BackstageHttp:
    """An httpx client for one Backstage base URL.

    Args:
        base_url: the backend's root (``https://backstage.example.com``); API paths are appended to it.
        token_provider: returns the token for ``Authorization: Bearer``; None sends no token (guest backends).
        timeout: seconds per request.
        retries: how many times an idempotent request is retried after a timeout, a dropped connection, 429 or a
            502/503/504 (with exponential backoff and jitter, honouring ``Retry-After``).
        transport: an httpx transport (tests pass one to count or break requests).
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token_provider = token_provider
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._transport = transport
        self._http_client: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        # Made (and httpx imported) on the first request: a start from the cache shows rows before that.
        if self._http_client is None:
            import httpx

            self._http_client = httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=self._transport)
        return self._http_client

    def __repr__(self) -> str:
        return f"BackstageHttp({self.base_url!r})"  # never the token

    def close(self) -> None:
        if self._http_client is not None:
            self._http_client.close()

    def _headers(self, what: str) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token_provider is None:
            return headers
        try:
            token = self._token_provider()
        except TokenError as error:
            raise BackstageError(f"Backstage token: {error}", kind="token") from None
        except Exception as error:  # noqa: BLE001 - any failure to read a token is "no token", said without it
            raise BackstageError(f"Backstage token could not be read ({type(error).__name__})", kind="token") from None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

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
    ) -> httpx.Response:
        """Send a request and return the successful response; raise :class:`BackstageError` otherwise."""
        import httpx

        retry = (method == "GET") if idempotent is None else idempotent
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    headers=self._headers(what),
                    timeout=timeout if timeout is not None else self.timeout,
                )
            except httpx.TimeoutException:
                if last:
                    raise BackstageError(
                        f"Backstage did not answer within {self.timeout:g}s while {what}", kind="timeout"
                    ) from None
                self._sleep(attempt, None)
                continue
            except httpx.HTTPError as error:
                if last:
                    raise BackstageError(
                        f"could not reach Backstage at {self.base_url} while {what} ({type(error).__name__})",
                        kind="unreachable",
                    ) from None
                self._sleep(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.is_success:
                return response
            raise describe_response(response, what)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def get_json(self, path: str, *, what: str, params: Any = None) -> Any:
        return self._decode(self.request("GET", path, what=what, params=params), what)

    def post_json(self, path: str, body: Any, *, what: str, idempotent: bool = False) -> Any:
        return self._decode(self.request("POST", path, what=what, json=body, idempotent=idempotent), what)

    def stream(self, path: str, *, what: str, params: Any = None, timeout: float | None = None):
        """A streaming GET (server-sent events); the caller iterates ``response.iter_lines()`` and closes it."""
        import httpx

        request = self._client.build_request(
            "GET",
            path,
            params=params,
            headers={**self._headers(what), "Accept": "text/event-stream"},
            timeout=timeout if timeout is not None else self.timeout,
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise BackstageError(
                f"Backstage did not answer within {self.timeout:g}s while {what}", kind="timeout"
            ) from None
        except httpx.HTTPError as error:
            raise BackstageError(
                f"could not reach Backstage at {self.base_url} while {what} ({type(error).__name__})",
                kind="unreachable",
            ) from None
        if not response.is_success:
            response.read()
            response.close()
            raise describe_response(response, what)
        return response

    @staticmethod
    def _decode(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise BackstageError(f"Backstage sent a response that is not JSON while {what}", kind="protocol") from None

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt) * (1 + random.random() / 2)  # noqa: S311 - jitter, not a secret
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = max(delay, min(float(retry_after), 30.0))
        time.sleep(delay)
