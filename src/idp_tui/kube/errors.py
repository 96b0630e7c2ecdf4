"""The cluster capabilities' errors (workloads and logs), and a failure from a cluster said in one line.

Screens and commands catch :class:`ClusterError` and its family, never the ``kubernetes`` client's exceptions:
:func:`describe_api_error` turns those into words (``kubernetes`` is imported only when there is one to describe).
"""

from __future__ import annotations

import contextlib

from ..strict_json import loads_strict


class ClusterError(RuntimeError):
    """Clusters could not be read or refused an action; ``str()`` is one line for the user."""


class NoClusters(ClusterError):
    """No kubeconfig to read, or one with no usable context (said in one line)."""


class ActionFailed(ClusterError):
    """The cluster refused or could not carry out an action; the message is one line for the user."""


class MutationRefused(ClusterError):
    """A mutating action was asked for while read-only mode is on; nothing was sent."""


def describe_api_error(error: Exception, what: str) -> str:
    """One line for an error from a cluster: the status and the API server's own message, never a token."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError

    if isinstance(error, ApiException):
        message = ""
        with contextlib.suppress(ValueError, AttributeError):  # AttributeError: a body that is not an object
            message = loads_strict(error.body or "{}").get("message", "")
        if error.status == 401:
            return f"401 Unauthorized listing {what}: the cluster did not accept our credentials (missing or expired)"
        if error.status == 403:
            return f"403 Forbidden: {message or f'not allowed to list {what}'}"
        return f"{error.status} {error.reason or ''} listing {what}: {message}".strip()
    if isinstance(error, ReadTimeoutError) or "timed out" in str(error).lower():
        return f"timed out listing {what}"
    if isinstance(error, MaxRetryError | HTTPError | OSError):
        return f"unreachable: {getattr(error, 'reason', None) or error}"
    return f"{type(error).__name__}: {error}"
