"""Who is on duty: officers, weekly shifts with dated overrides, coverage by unit and role.

Times are Huế's, counted as in bot/geo/hours.py: a shift whose end is not after its start
crosses midnight. When an officer has any shift on a given date (`day`), those replace the
weekly pattern for that date; `off` makes it a day off. A duty desk or coordinator with no
shifts at all counts as always reachable (a 24/7 desk).
"""

from __future__ import annotations

import csv
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol, TextIO

from sqlalchemy import delete, select

from bot.geo.hours import DAYS, HUE, covers, local_time, minutes
from bot.geo.names import gazetteer
from bot.storage.crypto import Sealer, pseudonym
from bot.storage.db import session_scope
from bot.storage.models import Officer, Shift, aware, utcnow

ROLES = ("officer", "backup", "duty_desk", "coordinator")  # the ladder's rungs, in order
AGENCIES = ("police", "social_affairs", "womens_union", "health", "justice", "coordination")
TOKEN_LIFETIME = timedelta(days=90)  # an officer's API token; `gbvbot officers token ID` rotates it
ALWAYS_REACHABLE = ("duty_desk", "coordinator")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


class RosterError(ValueError):
    """A roster or officer input is invalid; the message says which line and why (English)."""


@dataclass(frozen=True)
class OnDuty:
    id: int
    display_name: str
    agency: str
    role: str
    units: tuple[str, ...]
    chat: str | None  # the channel chat id to alert (unsealed, in memory only)

    def covers(self, unit: str | None) -> bool:
        return "*" in self.units or (unit is not None and unit in self.units)


def telegram_key(user_id: str | int) -> str:
    return pseudonym("telegram-officer", str(user_id))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sealer() -> Sealer:
    return Sealer("officer-chat")


def _units(raw: str) -> tuple[str, ...]:
    names = [u.strip() for u in raw.replace(",", ";").split(";") if u.strip()]
    if not names or names == ["*"]:
        return ("*",)
    units = []
    for name in names:
        unit = gazetteer().resolve(name) if name != "*" else None
        if name != "*" and unit is None:
            raise RosterError(f"unknown unit {name!r}")
        units.append("*" if name == "*" else unit.name)
    return tuple(dict.fromkeys(units))


def add_officer(
    display_name: str, agency: str, role: str, units: str = "*", telegram_id: str | None = None
) -> tuple[int, str]:
    """Register an officer; returns (id, API token). The token is shown once, stored hashed."""
    if not display_name.strip() or len(display_name) > 100:
        raise RosterError("display name must be 1-100 characters")
    if agency not in AGENCIES:
        raise RosterError(f"agency must be one of {', '.join(AGENCIES)}")
    if role not in ROLES:
        raise RosterError(f"role must be one of {', '.join(ROLES)}")
    if telegram_id is not None and not re.fullmatch(r"-?\d{1,20}", str(telegram_id)):
        raise RosterError("telegram id must be the numeric Telegram user id")
    token = secrets.token_urlsafe(24)
    officer = Officer(
        display_name=display_name.strip(), agency=agency, role=role, units=";".join(_units(units)),
        telegram_key=telegram_key(telegram_id) if telegram_id else None,
        telegram_chat=_sealer().seal(str(telegram_id).encode()) if telegram_id else None,
        token_hash=token_hash(token), token_expires_at=utcnow() + TOKEN_LIFETIME, active=True,
    )
    with session_scope() as session:
        session.add(officer)
        session.flush()
        return officer.id, token


def remove_officer(officer_id: int) -> bool:
    with session_scope() as session:
        officer = session.get(Officer, officer_id)
        if officer is None:
            return False
        officer.active = False
        officer.telegram_key = officer.telegram_chat = officer.token_hash = None
        session.execute(delete(Shift).where(Shift.officer_id == officer_id))
        return True


def list_officers() -> list[Officer]:
    """Active officers on the duty roster (console-only accounts have no ladder role)."""
    with session_scope() as session:
        return list(session.scalars(
            select(Officer).where(Officer.active.is_(True), Officer.role.isnot(None)).order_by(Officer.id)))


def officer_by_telegram(user_id: str | int) -> Officer | None:
    with session_scope() as session:
        return session.scalar(
            select(Officer).where(Officer.telegram_key == telegram_key(user_id), Officer.active.is_(True))
        )


def may_see(role: str, units: tuple[str, ...] | list[str], ward: str | None) -> bool:
    """Officers see the cases of their units, and those whose unit is unknown (which alert
    everyone on duty); coordinators and area-wide officers see all."""
    return role in ("admin", "coordinator") or "*" in units or ward is None or ward in units


def officer_by_token(token: str, now: datetime | None = None) -> Officer | None:
    """The active officer whose API token this is, unless it has expired."""
    with session_scope() as session:
        officer = session.scalar(
            select(Officer).where(Officer.token_hash == token_hash(token), Officer.active.is_(True))
        )
    if officer is None or officer.token_expires_at is None or aware(officer.token_expires_at) <= (now or utcnow()):
        return None
    return officer


def rotate_token(officer_id: int, days: int = TOKEN_LIFETIME.days) -> tuple[str, datetime]:
    """A new API token for an officer (the old one stops working at once); shown once."""
    token = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(days=days)
    with session_scope() as session:
        officer = session.get(Officer, officer_id)
        if officer is None or not officer.active:
            raise RosterError(f"no active officer {officer_id}")
        officer.token_hash, officer.token_expires_at = token_hash(token), expires
    return token, expires


def _parse_time(raw: str, where: str) -> str:
    raw = raw.strip()
    if not _TIME.fullmatch(raw):
        raise RosterError(f"{where}: time must be HH:MM (00:00-24:00), got {raw!r}")
    return raw


def _on_duty_at(shifts: list[Shift], local: datetime) -> bool:
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    minute = local.hour * 60 + local.minute

    def day_shifts(day: date) -> list[Shift]:
        dated = [s for s in shifts if s.day == day]
        return dated if dated else [s for s in shifts if s.day is None and s.weekday == day.weekday()]

    for day, previous in ((today, False), (yesterday, True)):
        for shift in day_shifts(day):
            if not shift.off and covers(minutes(shift.start), minutes(shift.end), minute, previous):
                return True
    return False


def on_duty(at: datetime | None = None) -> list[OnDuty]:
    """Every active officer reachable at `at` (default now), in ladder order."""
    local = local_time(at)
    with session_scope() as session:
        officers = list(session.scalars(select(Officer).where(Officer.active.is_(True), Officer.role.isnot(None))))
        shifts = list(session.scalars(select(Shift)))
    by_officer: dict[int, list[Shift]] = {}
    for shift in shifts:
        by_officer.setdefault(shift.officer_id, []).append(shift)
    sealer = _sealer()
    found = []
    for officer in officers:
        mine = by_officer.get(officer.id, [])
        if (not mine and officer.role in ALWAYS_REACHABLE) or _on_duty_at(mine, local):
            chat = sealer.open(officer.telegram_chat).decode() if officer.telegram_chat else None
            found.append(
                OnDuty(officer.id, officer.display_name, officer.agency, officer.role,
                       tuple(officer.units.split(";")), chat)
            )
    return sorted(found, key=lambda o: (ROLES.index(o.role), o.id))


def import_roster(source: str | Path | TextIO) -> int:
    """Replace the shifts of every officer named in a CSV (columns: officer_id, weekday
    or date, start, end, off): a path, or an open text stream (the console's upload). All or
    nothing; errors name the line."""
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8-sig", newline="") as handle:
            return import_roster(handle)
    rows, errors = [], []
    reader = csv.DictReader(source)
    missing = {"officer_id", "start", "end"} - set(reader.fieldnames or [])
    if missing:
        raise RosterError(f"line 1: missing columns: {', '.join(sorted(missing))}")
    known = {o.id for o in list_officers()}
    for number, row in enumerate(reader, start=2):
        where = f"line {number}"
        try:
            officer_id = int((row.get("officer_id") or "").strip())
            if officer_id not in known:
                raise RosterError(f"{where}: no active officer with id {officer_id}")
            weekday_raw = (row.get("weekday") or "").strip().lower()[:3]
            date_raw = (row.get("date") or "").strip()
            if bool(weekday_raw) == bool(date_raw):
                raise RosterError(f"{where}: give either weekday (Mon-Sun) or date (YYYY-MM-DD)")
            if weekday_raw and weekday_raw not in DAYS:
                raise RosterError(f"{where}: weekday must be Mon-Sun, got {row.get('weekday')!r}")
            try:
                day = date.fromisoformat(date_raw) if date_raw else None
            except ValueError:
                raise RosterError(f"{where}: date must be YYYY-MM-DD, got {date_raw!r}") from None
            off = (row.get("off") or "").strip().lower() in ("true", "1", "yes")
            rows.append(Shift(
                officer_id=officer_id, weekday=DAYS.index(weekday_raw) if weekday_raw else None,
                day=day, start=_parse_time(row.get("start") or "00:00", where),
                end=_parse_time(row.get("end") or "24:00", where), off=off,
            ))
        except (RosterError, ValueError) as error:
            errors.append(str(error) if str(error).startswith("line") else f"{where}: {error}")
    if errors:
        raise RosterError("\n".join(errors))
    with session_scope() as session:
        for officer_id in {r.officer_id for r in rows}:
            session.execute(delete(Shift).where(Shift.officer_id == officer_id))
        session.add_all(rows)
    return len(rows)


CSV_COLUMNS = ("officer_id", "weekday", "date", "start", "end", "off")


def export_roster(out: TextIO) -> int:
    """Every shift of the active roster, in the import's format (export → import round-trips)."""
    officers = {o.id for o in list_officers()}
    with session_scope() as session:
        shifts = [s for s in session.scalars(select(Shift).order_by(Shift.officer_id, Shift.day, Shift.weekday,
                                                                    Shift.start)) if s.officer_id in officers]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for shift in shifts:
        writer.writerow([shift.officer_id, DAYS[shift.weekday].capitalize() if shift.day is None else "",
                         shift.day.isoformat() if shift.day else "", shift.start, shift.end,
                         "true" if shift.off else ""])
    return len(shifts)


def week(start: date, days: int = 7) -> dict[int, list[list[Shift] | None]]:
    """A calendar: for each active roster officer, for each of `days` days from `start`, the
    shifts that apply that day (a dated override replaces the weekly pattern; an off-day
    override is an empty list); None for an always-reachable desk without shifts."""
    officers = list_officers()
    with session_scope() as session:
        shifts = list(session.scalars(select(Shift).order_by(Shift.start)))
    calendar: dict[int, list[list[Shift] | None]] = {}
    for officer in officers:
        mine = [s for s in shifts if s.officer_id == officer.id]
        if not mine and officer.role in ALWAYS_REACHABLE:
            calendar[officer.id] = [None] * days
            continue
        row = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            dated = [s for s in mine if s.day == day]
            chosen = dated or [s for s in mine if s.day is None and s.weekday == day.weekday()]
            row.append([s for s in chosen if not s.off])
        calendar[officer.id] = row
    return calendar


class Alerts(Protocol):
    async def send_alert(self, chat: str, text: str, buttons: list[tuple[str, str]]) -> str | None: ...


async def send_test_alert(sender: Alerts | None, officer: Officer, text: str) -> str | None:
    """Send `officer` a test alert the way real alerts go; None when it arrived, else why not:
    "no_channel" (no Telegram id registered), "channel_off" (Telegram is not configured) or
    "not_delivered" (Telegram refused: never pressed Start, or blocked the bot)."""
    if not officer.telegram_chat:
        return "no_channel"
    if sender is None:
        return "channel_off"
    ref = await sender.send_alert(_sealer().open(officer.telegram_chat).decode(), text, [])
    return None if ref else "not_delivered"


def parse_local(text: str) -> datetime:
    """"2026-11-29 22:00" (Huế time) → aware datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RosterError(f"expected 'YYYY-MM-DD HH:MM', got {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=HUE)


__all__ = [
    "AGENCIES", "HUE", "OnDuty", "ROLES", "RosterError", "add_officer", "export_roster", "import_roster",
    "list_officers", "send_test_alert", "week",
    "officer_by_telegram", "officer_by_token", "on_duty", "parse_local", "remove_officer", "may_see", "rotate_token", "telegram_key",
]
