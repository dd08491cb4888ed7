"""Report reminders. The plan wants the six-month report before 20/06 and the yearly one before
30/11: 10 and 3 days before each (Huế time) a draft report is written to the reports folder and
the officials and admins who have Telegram get a neutral note; the console shows the same notice
from 10 days before. Runs as a daily scheduler job (bot/scheduler.py)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from bot import content
from bot.geo.hours import local_time
from bot.services import indicators, reports, roster
from bot.services.escalation import AlertSender
from bot.storage.db import session_scope
from bot.storage.models import Officer

log = logging.getLogger(__name__)

DEADLINES = ((6, 20, "-H1"), (11, 30, ""))  # month, day, period suffix: 2026-H1 by 20/06, 2026 by 30/11
LEAD_DAYS = (10, 3)
NOTICE_DAYS = 10
READERS = ("official", "admin")

_sender: AlertSender | None = None


@dataclass(frozen=True)
class Due:
    period: str  # "2026-H1" | "2026"
    deadline: date
    days_left: int

    @property
    def label(self) -> str:
        return indicators.parse_period(self.period).label


def next_due(today: date) -> Due:
    """The next report deadline on or after `today`."""
    candidates = [(date(year, month, day), f"{year}{suffix}") for year in (today.year, today.year + 1)
                  for month, day, suffix in DEADLINES]
    deadline, period = min((d, p) for d, p in candidates if d >= today)
    return Due(period, deadline, (deadline - today).days)


def notice(now: datetime | None = None) -> Due | None:
    """What the console shows: the next deadline, from 10 days before it."""
    due = next_due(local_time(now).date())
    return due if due.days_left <= NOTICE_DAYS else None


def install(sender: AlertSender | None) -> None:
    """The gateway's sender (Telegram), used by the persisted daily job."""
    global _sender
    _sender = sender


def _reader_chats() -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(Officer.telegram_chat).where(
            Officer.active.is_(True), Officer.console_role.in_(READERS), Officer.telegram_chat.is_not(None)))
        return [roster._sealer().open(chat).decode() for chat in rows]


def _draft(due: Due, folder: Path, now: datetime | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    report = indicators.compute(indicators.parse_period(due.period), now=now)
    reports.write(report, folder / f"bao-cao-{due.period}.docx")


async def remind(folder: Path, now: datetime | None = None, sender: AlertSender | None = None) -> Due | None:
    """On a reminder day: write the draft (FILE.docx + FILE.xlsx) and tell the officials. None otherwise."""
    due = next_due(local_time(now).date())
    if due.days_left not in LEAD_DAYS:
        return None
    await asyncio.to_thread(_draft, due, folder, now)  # charts and files off the gateway's event loop
    sender = sender or _sender
    text = content.text("report_reminder", period=due.label, deadline=f"{due.deadline:%d/%m/%Y}", days=due.days_left)
    told = 0
    for chat in _reader_chats() if sender else []:
        told += bool(await sender.send_alert(chat, text, []))
    log.info("report reminder period=%s days_left=%d draft written, %d officials told on Telegram",
             due.period, due.days_left, told)
    return due


async def reminder_job(folder: str) -> None:
    """APScheduler job target (daily)."""
    await remind(Path(folder))
