"""Tokens from an environment variable or a command's output; failures name the source, never the secret."""

from __future__ import annotations

import sys

import pytest

from idp_tui.tokens import TokenError, env_token_provider

SECRET = "s3cr3t-token-value"


def test_the_variable_wins_and_is_read_at_each_request(monkeypatch):
    monkeypatch.setenv("X_TOKEN", SECRET)
    monkeypatch.setenv("X_TOKEN_COMMAND", "false")
    provider = env_token_provider("X_TOKEN", "X")
    assert provider() == SECRET
    monkeypatch.setenv("X_TOKEN", "rotated")
    assert provider() == "rotated"


def test_a_command_prints_the_token(monkeypatch):
    monkeypatch.delenv("X_TOKEN", raising=False)
    monkeypatch.setenv("X_TOKEN_COMMAND", f"{sys.executable} -c \"print('  {SECRET}  ')\"")
    assert env_token_provider("X_TOKEN", "X")() == SECRET


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            f"{sys.executable} -c \"import sys; print('{SECRET}'); sys.exit(3)\"",
            "the token command for X failed (exit 3)",
        ),
        (f"{sys.executable} -c pass", "the token command for X printed nothing"),
        ("/no/such/program", "the token command for X could not run (FileNotFoundError)"),
    ],
)
def test_a_failing_command_is_named_without_its_output(monkeypatch, command, message):
    monkeypatch.delenv("X_TOKEN", raising=False)
    monkeypatch.setenv("X_TOKEN_COMMAND", command)
    with pytest.raises(TokenError) as raised:
        env_token_provider("X_TOKEN", "X")()
    assert str(raised.value) == message and SECRET not in str(raised.value)


def test_nothing_configured_means_no_provider(monkeypatch):
    monkeypatch.delenv("X_TOKEN", raising=False)
    monkeypatch.delenv("X_TOKEN_COMMAND", raising=False)
    assert env_token_provider("X_TOKEN", "X") is None
