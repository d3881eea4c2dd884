"""People who log in to the officers' desk: accounts, roles, argon2 passwords, lockout, login sessions.

Roles: ``petugas`` (officer of one or more agencies), ``koordinator`` (every agency, the triage desk),
``ppid`` (information requests only: of its agencies, or of every agency when it has none), ``admin``
(every agency, edits canned replies) and ``pimpinan`` (reads dashboards only, no tickets).
Sessions live in the store (only the SHA-256 of the cookie value), so every replica knows them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from omnichannel.models import AuditEvent, OfficerSession, User
from omnichannel.types import utcnow

log = logging.getLogger(__name__)

ROLES = ("petugas", "koordinator", "ppid", "admin", "pimpinan")
ALL_AGENCIES = ("koordinator", "admin")
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)

_hasher = PasswordHasher()
# verified against when the login is unknown, so a wrong login costs as long as a wrong password
_DUMMY = _hasher.hash("omnichannel-no-such-user")


class AccountError(ValueError):
    """A request about an account that cannot be honoured (message in English, for CLI and logs)."""


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a login attempt came to: the user on success, else ``reason`` (bad, locked, disabled)."""

    user: User | None
    reason: str | None = None
    locked_until: datetime | None = None


def check_password(password: str) -> str:
    """The password if it is acceptable, else AccountError."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


def check_account(login: str, role: str, agencies: list[str], config: Any | None = None) -> None:
    """Validate a login name, role and agencies (against the config's agencies when given)."""
    if not LOGIN_RE.match(login):
        raise AccountError("a login is 2-64 characters: lowercase letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "petugas" and not agencies:
        raise AccountError("a petugas needs at least one --agency")
    if config is not None:
        unknown = [a for a in agencies if config.agency(a) is None]
        if unknown:
            raise AccountError(f"unknown agency {', '.join(unknown)}; known: "
                               f"{', '.join(a.code for a in config.agencies) or '(none configured)'}")


async def add_user(session: Any, login: str, name: str, role: str, agencies: list[str], password: str,
                   actor: str, config: Any | None = None) -> User:
    """Create an account (the caller commits)."""
    login = login.strip().lower()
    check_account(login, role, agencies, config)
    check_password(password)
    if (await session.exec(select(User).where(User.login == login))).scalars().first() is not None:
        raise AccountError(f"an account {login!r} already exists")
    user = User(login=login, name=name.strip() or login, role=role, agencies=sorted(set(agencies)),
                password_hash=_hasher.hash(password))
    session.add(user)
    session.add(AuditEvent(actor=actor, action="user_add", subject_type="user", subject_ref=login,
                           detail={"role": role, "agencies": user.agencies}))
    return user


async def find_user(session: Any, login: str) -> User | None:
    """The account with ``login``."""
    return (await session.exec(select(User).where(User.login == login.strip().lower()))).scalars().first()


async def list_users(session: Any) -> list[User]:
    """Every account, by login."""
    return list((await session.exec(select(User).order_by(User.login))).scalars().all())


async def disable_user(session: Any, login: str, actor: str) -> User:
    """Disable an account and end its sessions (the caller commits)."""
    user = await find_user(session, login)
    if user is None:
        raise AccountError(f"no account {login!r}")
    user.disabled = True
    user.updated_at = utcnow()
    session.add(user)
    await session.exec(delete(OfficerSession).where(OfficerSession.user_id == user.id))
    session.add(AuditEvent(actor=actor, action="user_disable", subject_type="user", subject_ref=user.login))
    return user


async def reset_password(session: Any, login: str, password: str, actor: str) -> User:
    """Set a new password, lift a lockout, re-enable, end the account's sessions (the caller commits)."""
    user = await find_user(session, login)
    if user is None:
        raise AccountError(f"no account {login!r}")
    user.password_hash = _hasher.hash(check_password(password))
    user.failed_logins = 0
    user.locked_until = None
    user.disabled = False
    user.updated_at = utcnow()
    session.add(user)
    await session.exec(delete(OfficerSession).where(OfficerSession.user_id == user.id))
    session.add(AuditEvent(actor=actor, action="user_reset_password", subject_type="user", subject_ref=user.login))
    return user


async def authenticate(session: Any, login: str, password: str, remote: str = "-") -> LoginResult:
    """Check a login; counts failures and locks the account for ``LOCKOUT`` after ``MAX_FAILURES``."""
    now = utcnow()
    user = await find_user(session, login) if LOGIN_RE.match(login.strip().lower()) else None
    if user is None:
        _verify(_DUMMY, password)
        log.info("login refused: no account %r (from %s)", login[:64], remote)
        return LoginResult(None, "bad")
    if user.locked_until is not None and user.locked_until > now:
        log.warning("login refused: account %s is locked until %s (from %s)", user.login,
                    user.locked_until.isoformat(timespec="seconds"), remote)
        return LoginResult(None, "locked", user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            log.warning("account %s locked for %d minutes after %d failed logins (last from %s)", user.login,
                        LOCKOUT.seconds // 60, MAX_FAILURES, remote)
            session.add(AuditEvent(actor=f"login:{remote}", action="user_locked", subject_type="user",
                                   subject_ref=user.login, detail={"until": user.locked_until.isoformat()}))
        else:
            log.info("login refused: wrong password for %s (%d of %d, from %s)", user.login, user.failed_logins,
                     MAX_FAILURES, remote)
        session.add(user)
        if user.locked_until is not None and user.locked_until > now:
            return LoginResult(None, "locked", user.locked_until)
        return LoginResult(None, "bad")
    if user.disabled:
        log.info("login refused: account %s is disabled (from %s)", user.login, remote)
        return LoginResult(None, "disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    return LoginResult(user)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def session_id(cookie_value: str) -> str:
    """What the store keeps of a session cookie."""
    return hashlib.sha256(cookie_value.encode()).hexdigest()


async def open_session(session: Any, user: User) -> tuple[str, OfficerSession]:
    """A new login session for ``user``: (cookie value, row). The caller commits."""
    value = secrets.token_urlsafe(32)
    now = utcnow()
    row = OfficerSession(id=session_id(value), user_id=user.id, csrf=secrets.token_urlsafe(24), created_at=now,
                         expires_at=now + SESSION_TTL)
    session.add(row)
    # expired sessions of anyone go when someone logs in: no scheduler needed
    await session.exec(delete(OfficerSession).where(OfficerSession.expires_at < now))
    return value, row


async def resolve_session(session: Any, cookie_value: str) -> tuple[User, OfficerSession] | None:
    """The user and session row behind a cookie value, unless expired or disabled."""
    q = (select(User, OfficerSession).join(OfficerSession, OfficerSession.user_id == User.id)
         .where(OfficerSession.id == session_id(cookie_value)))
    row = (await session.exec(q)).first()
    if row is None:
        return None
    user, sess = row
    if user.disabled or sess.expires_at <= utcnow():
        return None
    return user, sess


async def close_session(session: Any, cookie_value: str) -> None:
    """Forget a session (logout). The caller commits."""
    await session.exec(delete(OfficerSession).where(OfficerSession.id == session_id(cookie_value)))


async def count_users(session: Any) -> int:
    """How many enabled accounts exist."""
    from sqlalchemy import func

    return int((await session.exec(select(func.count()).select_from(User).where(User.disabled.is_(False))))
               .scalar_one())
