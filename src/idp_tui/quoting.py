"""What a message may quote back from a file, the environment or a flag: never something that could be a secret.

People paste tokens into the wrong place: a PagerDuty key under ``scaffolder:``, a Vault token as ``read_only``,
a GitHub token as a key name. A message that says ``must be one of local, backstage (got "ghp_…")`` would put
that token in a terminal's scrollback, a CI log or a ticket. The rule, one for every message about a value:

* URL userinfo and credential query parameters are masked first (``https://***@host/``);
* the (masked) value is quoted only when it is short (at most ``MAX_QUOTED`` characters), printable, carries
  no well-known token prefix (``ghp_``, ``glpat-``, ``xoxb-``, ``hvs.``, ``eyJ``…), does not hold digits,
  capitals and lower-case letters all together (what password rules ask for), and has no run of 8 or more
  letters and digits that looks random: digits mixed with letters, 3+ capitals mixed with 3+ lower-case
  letters, or 12+ digits;
* anything else is described, never shown: ``a 40-character string (not shown)``.

Tokens are long random mixes; the values people mistype in a config (``pagerdutty``, ``yes``, ``prod-eu``,
``ftp://x``) are short words, so the useful messages keep quoting them.
"""

from __future__ import annotations

import json
import re

from .redaction import redact_url

MAX_QUOTED = 32
# Lower-cased prefixes of common credential formats (GitHub, GitLab, Slack, OpenAI/Stripe, AWS, Vault, JWT,
# npm, PyPI, DigitalOcean, Shopify, Google).
_TOKEN_PREFIXES = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-",
    "sk-", "sk_", "rk_", "pk_", "akia", "asia", "hvs.", "hvb.", "hvr.", "s.", "eyj", "bearer ", "basic ",
    "npm_", "pypi-", "dop_v1_", "shpat_", "ya29.", "aiza",
)  # fmt: skip
_RUN = re.compile(r"[A-Za-z0-9]{8,}")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def secret_like(text: str) -> bool:
    """Whether ``text`` could be a credential (see the module's rule)."""
    if text.lower().startswith(_TOKEN_PREFIXES):
        return True
    # Digits, capitals and lower-case letters together: what password rules ask for, rare in a mistyped setting.
    if any(ch.isdigit() for ch in text) and any(ch.isupper() for ch in text) and any(ch.islower() for ch in text):
        return True
    for run in _RUN.findall(text):
        digits = sum(ch.isdigit() for ch in run)
        upper = sum(ch.isupper() for ch in run)
        lower = len(run) - digits - upper
        if (digits and digits < len(run)) or (upper >= 3 and lower >= 3) or digits >= 12:
            return True
    return False


def quotable(text: str) -> bool:
    """Whether a message may quote ``text`` (after :func:`redact_url`): short, printable and not secret-like."""
    shown = redact_url(text)
    return len(shown) <= MAX_QUOTED and shown.isprintable() and not secret_like(shown)


def quoted(text: str) -> str:
    """``text`` in double quotes (JSON escapes, URL credentials masked) when quotable, else a description."""
    if quotable(text):
        return json.dumps(redact_url(text))
    return described(text)


def described(text: str, what: str = "string") -> str:
    """A value told by its size only: ``a 40-character string (not shown)``."""
    return f"a {len(text)}-character {what} (not shown)"


def name_text(name: str, what: str = "key") -> str:
    """A key or id as a message shows it: as written when a plain name, quoted when odd, described when secret-like."""
    if not quotable(name):
        return f"<{described(name, what)}>"
    return name if _PLAIN_NAME.fullmatch(name) else json.dumps(name)


def masked_words(text: str) -> str:
    """``text`` with each secret-like word (and URL userinfo) replaced by ``***``: for commands shown to people.

    ``{command: "echo ghp_…"}`` is a token in the config file after all; ``config show`` says ``echo ***``.
    """
    return " ".join("***" if secret_like(word) else word for word in redact_url(text).split(" "))
