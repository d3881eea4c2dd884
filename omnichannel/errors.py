"""One exception tree for the whole daemon; library errors are translated at the plugin boundary."""

from __future__ import annotations


class OmnichannelError(Exception):
    """Root of every error the daemon raises on purpose."""


class ConfigError(OmnichannelError):
    """Configuration is invalid; ``path`` names the key (e.g. ``connectors[2].poll_interval``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # raised in a worker process (the evaluation's pool, the router process) it crosses back by pickle
        return (type(self), (self.path, self.message))


class AuthError(OmnichannelError):
    """Credentials were refused: park the plugin until an operator acts (no hot loop)."""


class RetryableError(OmnichannelError):
    """A temporary failure (timeout, 429, 5xx, connection refused): try again later.

    ``retry_after`` is the delay in seconds the remote side asked for, when it said one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[type, tuple[str, float | None]]:
        return (type(self), (self.args[0], self.retry_after))


class PermanentDeliveryError(OmnichannelError):
    """A delivery can never succeed as it is (4xx, validation): dead-letter it with the reason."""


class StoreError(OmnichannelError):
    """The store is unreachable or refused an operation."""
