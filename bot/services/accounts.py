"""Console accounts: the people of the service who sign in to the web console.

One table with the duty roster (`officers`): a roster officer becomes a user when given a
username and password (`gbvbot users add --officer-id ID`); officials and admins are users
who are not on the roster. Passwords are argon2id hashes (argon2-cffi's defaults, rehashed
when those change). Five failed sign-ins in a row lock the account for fifteen minutes;
every sign-in, failure, lock and account change is audited. Errors are in English (operators).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from bot.services import roster, totp
from bot.services.escalation import audit
from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import ConsoleSession, Officer, aware, utcnow

CONSOLE_ROLES = ("officer", "coordinator", "official", "admin")
ROSTER_ROLE = {"officer": "officer", "coordinator": "coordinator"}  # officials and admins are not on the roster
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
MIN_PASSWORD = 12
MAX_PASSWORD = 256
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
TOTP_ROLES = ("coordinator", "admin")  # who may add a second factor (a code from an app)

_hasher = PasswordHasher()  # argon2id
# Verified when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """Bad account input; the message says what is wrong (English)."""


@dataclass(frozen=True)
class User:
    """A signed-in console user, as the console sees them."""

    id: int
    username: str
    display_name: str
    role: str  # console role
    units: tuple[str, ...]
    second_factor: bool = False  # a TOTP code is asked after the password

    @property
    def actor(self) -> str:
        return f"officer:{self.id}"  # the same audit name as the API and Telegram

    def may_see(self, ward: str | None) -> bool:
        if self.role == "official":
            return False
        return roster.may_see(self.role, self.units, ward)

    @property
    def handles_cases(self) -> bool:
        return self.role in ("officer", "coordinator", "admin")


def _user(officer: Officer) -> User:
    return User(officer.id, officer.username, officer.display_name, officer.console_role,
                tuple((officer.units or "*").split(";")), officer.totp_secret is not None)


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"the password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters")
    if password != password.strip():
        raise AccountError("the password must not start or end with spaces")
    return password


def check_new_user(username: str, role: str, units: str | None = None, telegram_id: str | None = None,
                   display_name: str | None = None, agency: str | None = None,
                   officer_id: int | None = None) -> tuple[str, tuple[str, ...]]:
    """What `add_user` checks before touching the database (the CLI checks before asking for
    a password): the normalised username and units, or AccountError / RosterError."""
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError("username must be 3-32 characters: a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
    if role not in CONSOLE_ROLES:
        raise AccountError(f"role must be one of {', '.join(CONSOLE_ROLES)}")
    if units is not None and role in ("coordinator", "official", "admin"):
        raise AccountError(f"a {role} is not limited to units: no --units")
    if role == "officer" and units is None and officer_id is None:
        raise AccountError("an officer needs --units (e.g. \"Phường Hương Trà,Xã Bình Điền\", or * for area-wide)")
    if telegram_id is not None and not re.fullmatch(r"-?\d{1,20}", str(telegram_id)):
        raise AccountError("telegram id must be the numeric Telegram user id")
    if officer_id is not None and telegram_id is not None:
        raise AccountError("--telegram-id is kept from the roster with --officer-id (change it there)")
    name = (display_name or username).strip()
    if not name or len(name) > 100:
        raise AccountError("display name must be 1-100 characters")
    if agency is not None and agency not in roster.AGENCIES:
        raise AccountError(f"agency must be one of {', '.join(roster.AGENCIES)}")
    return username, roster._units(units) if units is not None else ("*",)  # RosterError: unknown unit


def add_user(username: str, role: str, password: str, units: str | None = None, telegram_id: str | None = None,
             display_name: str | None = None, agency: str | None = None, officer_id: int | None = None) -> int:
    """Create a console user, or give an existing roster officer (`officer_id`) a username and
    password (their API token, Telegram id and shifts stay). Everything is checked first:
    a bad input writes nothing. Returns the user's id."""
    username, unit_list = check_new_user(username, role, units, telegram_id, display_name, agency, officer_id)
    check_password(password)
    password_hash = _hasher.hash(password)
    with session_scope() as session:
        if session.scalar(select(Officer.id).where(Officer.username == username)) is not None:
            raise AccountError(f"username {username!r} is taken")
        if officer_id is not None:
            officer = session.get(Officer, officer_id)
            if officer is None or not officer.active:
                raise AccountError(f"no active officer {officer_id}")
            if officer.username:
                raise AccountError(f"officer {officer_id} already signs in as {officer.username!r}")
            if units is not None:
                officer.units = ";".join(unit_list)
        else:
            if telegram_id is not None:
                taken = session.scalar(select(Officer.id).where(Officer.telegram_key == roster.telegram_key(telegram_id)))
                if taken is not None:
                    raise AccountError(f"that Telegram id belongs to officer {taken}: use --officer-id {taken}")
            officer = Officer(
                display_name=(display_name or username).strip(), agency=agency, role=ROSTER_ROLE.get(role), units=";".join(unit_list),
                # Officials and admins are not on the duty roster: their chat id is kept (sealed) only
                # for report reminders, never as a key that Telegram commands or buttons could use.
                telegram_key=roster.telegram_key(telegram_id) if telegram_id and ROSTER_ROLE.get(role) else None,
                telegram_chat=roster._sealer().seal(str(telegram_id).encode()) if telegram_id else None,
                active=True,
            )
            session.add(officer)
        officer.username, officer.password_hash, officer.console_role = username, password_hash, role
        officer.failed_logins, officer.locked_until = 0, None
        session.flush()
        user_id = officer.id
    audit("cli", "user_add", subject=f"officer:{user_id}")
    return user_id


def list_users() -> list[Officer]:
    """Everyone who can sign in, or could (disabled accounts included)."""
    with session_scope() as session:
        return list(session.scalars(select(Officer).where(Officer.username.isnot(None)).order_by(Officer.id)))


def _by_name(session, username: str) -> Officer:
    officer = session.scalar(select(Officer).where(Officer.username == (username or "").strip().lower()))
    if officer is None:
        raise AccountError(f"no user {username!r}")
    return officer


def disable_user(username: str, actor: str = "cli") -> int:
    """The account can no longer sign in, use its API token or be alerted; its sessions end."""
    with session_scope() as session:
        officer = _by_name(session, username)
        officer.active = False
        session.execute(delete(ConsoleSession).where(ConsoleSession.officer_id == officer.id))
        user_id = officer.id
    audit(actor, "user_disable", subject=f"officer:{user_id}")
    return user_id


def reset_password(username: str, password: str, actor: str = "cli") -> int:
    """A new password; the lock is lifted and every session of the account ends."""
    check_password(password)
    password_hash = _hasher.hash(password)
    with session_scope() as session:
        officer = _by_name(session, username)
        officer.password_hash, officer.failed_logins, officer.locked_until = password_hash, 0, None
        session.execute(delete(ConsoleSession).where(ConsoleSession.officer_id == officer.id))
        user_id = officer.id
    audit(actor, "user_reset", subject=f"officer:{user_id}")
    return user_id


def sign_in(username: str, password: str, now: datetime | None = None) -> User | None:
    """The user, or None (unknown name, wrong password, disabled, locked). The caller cannot
    tell which: the same answer for all, in about the same time."""
    now = now or utcnow()
    name = (username or "").strip().lower()[:64]
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.username == name)) if name else None
        if officer is None or not officer.password_hash or not officer.console_role:
            _verify(_DUMMY, password)
            audit("unknown", "sign_in_failed")
            return None
        if officer.locked_until is not None and aware(officer.locked_until) > now:
            _verify(_DUMMY, password)
            audit(f"officer:{officer.id}", "sign_in_locked")
            return None
        if not _verify(officer.password_hash, password) or not officer.active:
            officer.failed_logins = (officer.failed_logins or 0) + 1
            locked = officer.failed_logins >= LOCK_AFTER
            if locked:
                officer.locked_until, officer.failed_logins = now + LOCK_FOR, 0
            user_id = officer.id
        else:
            if _hasher.check_needs_rehash(officer.password_hash):
                officer.password_hash = _hasher.hash(password)
            officer.failed_logins, officer.locked_until, officer.last_seen_at = 0, None, now
            user = _user(officer)
            user_id = None
    if user_id is not None:
        audit(f"officer:{user_id}", "sign_in_failed")
        if locked:
            audit(f"officer:{user_id}", "locked")
        return None
    audit(user.actor, "sign_in_password" if user.second_factor else "sign_in")
    return user


def _totp_sealer() -> Sealer:
    return Sealer("totp")


def set_totp(username: str) -> str:
    """A new TOTP secret for a coordinator or admin (the old one stops working, sessions
    end); returns the otpauth:// URI to show once. The secret is stored sealed."""
    secret = totp.new_secret()
    with session_scope() as session:
        officer = _by_name(session, username)
        if officer.console_role not in TOTP_ROLES:
            raise AccountError(f"a second factor is for {' and '.join(TOTP_ROLES)} accounts")
        officer.totp_secret, officer.totp_step = _totp_sealer().seal(secret), None
        session.execute(delete(ConsoleSession).where(ConsoleSession.officer_id == officer.id))
        user_id, name = officer.id, officer.username
    audit("cli", "totp_set", subject=f"officer:{user_id}")
    return totp.uri(secret, name)


def second_factor(user_id: int, code: str, now: datetime | None = None) -> User | None:
    """The user once their TOTP code is right (each code once); a wrong code counts as a
    failed sign-in (five in a row lock the account)."""
    now = now or utcnow()
    with session_scope() as session:
        officer = session.get(Officer, user_id)
        if officer is None or not officer.active or officer.totp_secret is None or (
                officer.locked_until is not None and aware(officer.locked_until) > now):
            return None
        step = totp.matching_step(_totp_sealer().open(officer.totp_secret), code, now.timestamp(), officer.totp_step)
        if step is None:
            officer.failed_logins = (officer.failed_logins or 0) + 1
            locked = officer.failed_logins >= LOCK_AFTER
            if locked:
                officer.locked_until, officer.failed_logins = now + LOCK_FOR, 0
            user = None
        else:
            officer.totp_step, officer.failed_logins, officer.last_seen_at = step, 0, now
            user = _user(officer)
    if user is None:
        audit(f"officer:{user_id}", "totp_failed")
        if locked:
            audit(f"officer:{user_id}", "locked")
        return None
    audit(user.actor, "sign_in")
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def active_user(officer_id: int) -> User | None:
    with session_scope() as session:
        officer = session.get(Officer, officer_id)
        if officer is None or not officer.active or not officer.username or not officer.console_role:
            return None
        return _user(officer)
