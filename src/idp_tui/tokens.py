"""Secrets for backends come from an environment variable or a command's output, never from a file of ours.

A provider is a callable, asked each time a request is made, so a rotated token (a new ``op read`` or
``vault read`` output) is picked up without restarting. Failures name the source, never the secret.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable

COMMAND_TIMEOUT = 10.0


class TokenError(RuntimeError):
    """No token could be read; the message names where it was looked for, never its value."""


def token_from_command(command: str, what: str) -> str:
    """Run ``command`` (no shell) and return its stdout, stripped."""
    try:
        result = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        raise TokenError(f"the token command for {what} could not run ({type(error).__name__})") from None
    if result.returncode != 0:
        raise TokenError(f"the token command for {what} failed (exit {result.returncode})")
    token = result.stdout.strip()
    if not token:
        raise TokenError(f"the token command for {what} printed nothing")
    return token


def env_token_provider(variable: str, what: str) -> Callable[[], str] | None:
    """A provider reading ``$VARIABLE``, or running ``$VARIABLE_COMMAND``; None when neither is set."""
    command_variable = f"{variable}_COMMAND"
    if os.environ.get(variable):
        return lambda: os.environ.get(variable, "").strip() or _missing(variable)
    if os.environ.get(command_variable):
        return lambda: token_from_command(os.environ.get(command_variable, ""), what)
    return None


def _missing(variable: str) -> str:
    raise TokenError(f"{variable} is empty")


def token_from_env(variable: str, what: str) -> str:
    """The stripped value of ``$VARIABLE``, read now (so a re-exported token is picked up)."""
    token = os.environ.get(variable, "").strip()
    if not token:
        raise TokenError(f"{variable} is not set (the token for {what})")
    return token


def token_from_file(path: str, what: str) -> str:
    """The stripped contents of the file at ``path`` (``~`` expanded), read now."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            token = handle.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise TokenError(f"the token file {path} for {what} could not be read ({type(error).__name__})") from None
    if not token:
        raise TokenError(f"the token file {path} for {what} is empty")
    return token
