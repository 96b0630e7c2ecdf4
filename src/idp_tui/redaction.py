"""Keeping credentials out of what idp-tui says: URLs with passwords, and backend messages that echo a token.

Every message that may quote a URL or a backend's words passes through here before it is shown, logged or
used as a cache key: ``https://user:secret@host/`` becomes ``https://***@host/``, and any secret idp-tui knows
(the token it just sent) is replaced by ``***`` wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# scheme://userinfo@ — userinfo is everything up to the last "@" before the host's end (a password may hold "@").
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*(?:@[^/?#\s@]*)*)@")
# Query parameters that carry credentials in the URLs people paste (…?token=…, ?access_token=…, ?api_key=…).
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&](?:access_token|token|api_key|apikey|key|password|secret|sig|signature)=)[^&#\s]+", re.IGNORECASE
)
# Shorter secrets are not searched for: masking every "a" in a message would hide the message, not the secret.
_MIN_SECRET_LENGTH = 4


def redact_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it masked (``https://***@host/``), and credential parameters.

    Args:
        text: a URL, or a message that may contain URLs.

    Returns:
        The same text with ``user:password@`` replaced by ``***@`` and ``?token=…`` values by ``***``.
    """
    if "://" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('key')}{MASK}", text)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with URL credentials masked and every known secret in it replaced by ``***``.

    Args:
        text: a message, possibly quoted from a backend.
        secrets: values that must never be shown (the tokens sent with the request); empty ones are ignored.

    Returns:
        The redacted text.
    """
    text = redact_url(text)
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
