"""Pytest fixtures for a real Dovecot (the server itself: ``omnichannel/sandbox/dovecot.py``).

Use in a test module::

    from tests.connectors.email.dovecot import dovecot_server, mailbox  # noqa: F401  (pytest fixtures)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omnichannel.sandbox.dovecot import (  # noqa: F401  (re-exported for tests and benches)
    CONF,
    DOVEADM,
    DOVECOT,
    PASSWORD,
    Dovecot,
    Mailbox,
    cleanup,
    dovecot_missing_reason,
    free_port,
    start_dovecot,
)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot for the whole session (skipped with the reason when it cannot run)."""
    reason = dovecot_missing_reason()
    if reason:
        pytest.skip(reason)
    try:
        server = start_dovecot()
    except Exception as exc:
        pytest.skip(f"Dovecot could not start here: {exc}")
    try:
        yield server
    finally:
        cleanup(server)


@pytest.fixture
def mailbox(dovecot_server: Dovecot) -> Mailbox:
    """A fresh, empty user on the session's Dovecot."""
    return dovecot_server.add_user()
