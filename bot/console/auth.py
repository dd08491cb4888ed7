"""Console sessions, cookies and CSRF tokens.

The session cookie holds 32 random bytes; the database keeps only their SHA-256, so a copy of
the database signs nobody in. A session ends after `idle` without a request (the queue's own
automatic refresh does not count) or after twelve hours in all. Every POST form carries the
session's CSRF token; the sign-in form, before there is a session, carries an HMAC of a
short-lived random cookie instead. Both are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import delete, select

from bot.services import accounts
from bot.storage.crypto import derive_key
from bot.storage.db import session_scope
from bot.storage.models import ConsoleSession, Officer, aware, utcnow

COOKIE = "gbv_console"
LOGIN_COOKIE = "gbv_console_login"
CODE_COOKIE = "gbv_console_code"  # the password was right; the TOTP code is still to come
CODE_WITHIN = timedelta(minutes=5)
PATH = "/console"
MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    key: str
    user: accounts.User
    csrf: str
    flash: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_cookie(response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path=PATH, httponly=True, secure=True, samesite="Strict")


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=PATH)
    morsel = response.cookies[name]
    morsel["httponly"], morsel["secure"], morsel["samesite"] = True, True, "Strict"


def start(user: accounts.User, now: datetime | None = None) -> str:
    """A new session for `user`; returns the cookie value (shown to nobody else)."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    with session_scope() as db:
        db.add(ConsoleSession(key=_digest(token), officer_id=user.id, csrf=secrets.token_urlsafe(32),
                              created_at=now, seen_at=now))
    return token


def load(token: str | None, idle: timedelta, touch: bool = True, now: datetime | None = None) -> Session | None:
    """The signed-in session of this cookie, or None (unknown, idle too long, too old, the
    account disabled). `touch`: this request counts as activity. The flash is taken."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    with session_scope() as db:
        row = db.get(ConsoleSession, _digest(token))
        if row is None:
            return None
        if aware(row.seen_at) + idle < now or aware(row.created_at) + MAX_AGE < now:
            db.delete(row)
            return None
        user = accounts.active_user(row.officer_id)
        if user is None:
            db.delete(row)
            return None
        flash, row.flash = row.flash, None
        if touch:
            row.seen_at = now
            db.get(Officer, row.officer_id).last_seen_at = now
        return Session(row.key, user, row.csrf, flash)


def end(key: str) -> None:
    with session_scope() as db:
        db.execute(delete(ConsoleSession).where(ConsoleSession.key == key))


def flash(key: str, text: str) -> None:
    with session_scope() as db:
        row = db.get(ConsoleSession, key)
        if row is not None:
            row.flash = text[:300]


def prune(idle: timedelta, now: datetime | None = None) -> int:
    """Delete sessions past their idle time or lifetime."""
    now = now or utcnow()
    with session_scope() as db:
        rows = list(db.scalars(select(ConsoleSession)))
        stale = [r.key for r in rows if aware(r.seen_at) + idle < now or aware(r.created_at) + MAX_AGE < now]
        if stale:
            db.execute(delete(ConsoleSession).where(ConsoleSession.key.in_(stale)))
    return len(stale)


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def password_passed(user_id: int, now: datetime | None = None) -> str:
    """The cookie value that lets `user_id` give their TOTP code for CODE_WITHIN (signed)."""
    payload = f"{user_id}.{int(((now or utcnow()) + CODE_WITHIN).timestamp())}"
    return f"{payload}.{hmac.new(derive_key('console-code'), payload.encode(), hashlib.sha256).hexdigest()}"


def code_pending(value: str | None, now: datetime | None = None) -> int | None:
    """The user whose password was right (a `password_passed` value still in time), or None."""
    user_id, _, rest = (value or "").partition(".")
    expires, _, mac = rest.partition(".")
    if not (user_id.isdigit() and expires.isdigit()):
        return None
    expected = hmac.new(derive_key("console-code"), f"{user_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    if not same_token(mac, expected) or int(expires) < (now or utcnow()).timestamp():
        return None
    return int(user_id)


def login_token(nonce: str) -> str:
    """The sign-in form's CSRF token for the random cookie `nonce`."""
    return hmac.new(derive_key("console-login"), nonce.encode(), hashlib.sha256).hexdigest()
