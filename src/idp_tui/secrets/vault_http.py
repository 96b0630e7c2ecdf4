"""Vault's answers read within budgets, and checked for shape before the store looks inside them.

hvac talks through ``requests``, which reads a whole body into memory however long it is or however slowly it
comes. The session made here reads each body itself, in a response hook that runs before ``requests`` would:
at most 8 MiB (decoded), within the request deadline, and JSON checked for depth and size before hvac parses it.
``requests`` is imported on first use, with hvac.
"""

from __future__ import annotations

import time
from typing import Any

from ..http_budget import MIB, BodyError, check_json_bounds, request_deadline, seconds_words, size_words

# Vault's answers are small: a listing of keys, a policy, a token lookup.
MAX_VAULT_BYTES = 8 * MIB
_READ_STEP = 64 * 1024


class VaultAnswerError(Exception):
    """An answer the store will not read; ``str()`` completes "Vault at … sent …"."""


def bounded_session(deadline: float | None = None) -> Any:
    """A ``requests.Session`` whose every answer is read within ``deadline`` seconds and 8 MiB (see module doc)."""
    import requests

    seconds = deadline if deadline is not None else request_deadline()
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: _read_within_budget(response, seconds))
    return session


def _read_within_budget(response: Any, seconds: float) -> Any:
    """Read the body now, bounded, and leave it where ``requests`` keeps a body it read (``response.content``)."""
    if response.raw is None:
        return response
    ends_at = time.monotonic() + seconds
    body = bytearray()
    try:
        for chunk in _chunks(response.raw):
            body += chunk
            if len(body) > MAX_VAULT_BYTES:
                raise VaultAnswerError(f"an answer larger than {size_words(MAX_VAULT_BYTES)}")
            if time.monotonic() > ends_at:
                raise VaultAnswerError(f"an answer that took longer than {seconds_words(seconds)} to arrive")
    except VaultAnswerError:
        response.close()
        raise
    response._content = bytes(body)  # noqa: SLF001 - where requests keeps a body it has read
    if body[:1] in (b"{", b"["):
        try:
            check_json_bounds(bytes(body))
        except BodyError as error:
            raise VaultAnswerError(str(error)) from None
    return response


def _chunks(raw: Any) -> Any:
    """The decoded body as it arrives. ``read1`` returns whatever came (``read`` would wait for a full step, so a
    crawling body would never reach the deadline check); urllib3 2.x inflates in bounded steps, so the cap holds
    after decompression."""
    while chunk := raw.read1(_READ_STEP, decode_content=True):
        yield chunk


def checked_answer(answer: Any) -> Any:
    """What hvac returned, when it is what the store can read: a JSON object, None, or a body-less response.

    hvac hands back the raw response when a 200 is not JSON (an HTML login page from a proxy, a cut-off body).

    Raises:
        VaultAnswerError: a 200 that is not JSON, or JSON that is not an object.
    """
    import requests

    if isinstance(answer, requests.Response):
        if answer.status_code == 200 and answer.content.strip():
            start = answer.content.lstrip()[:1]
            what = "HTML" if start == b"<" else ("cut-off JSON" if start in (b"{", b"[") else "something else")
            raise VaultAnswerError(f"an answer that is not JSON ({what})")
        return answer
    if answer is not None and not isinstance(answer, dict):
        raise VaultAnswerError("an answer that is not a JSON object")
    return answer
