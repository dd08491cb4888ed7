"""What a channel needs to know to deliver: when each resident last wrote (Zalo answers only
until day 7 after that; free for 48 hours) and how many messages could not be delivered, by
reason — counts only, never content or recipient. The same counters hold `sent_billed`
(Zalo messages sent in the billed part of the window)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import session_scope
from bot.storage.models import ReplyWindow, Undelivered, aware, utcnow

WINDOW_HOURS = 7 * 24  # kept as long as Zalo lets the OA answer



def touch_window(sender: str, at: datetime | None = None) -> None:
    at = at or utcnow()
    for _attempt in range(2):  # a concurrent first insert wins once; then we update
        try:
            with session_scope() as session:
                row = session.get(ReplyWindow, sender)
                if row is None:
                    session.add(ReplyWindow(sender=sender, last_message_at=at))
                elif aware(row.last_message_at) < at:
                    row.last_message_at = at
            return
        except IntegrityError:
            continue


def window_closes_at(sender: str, hours: int = WINDOW_HOURS) -> datetime | None:
    """When the OA stops being allowed to answer this resident; None if they never wrote."""
    with session_scope() as session:
        last = session.scalar(select(ReplyWindow.last_message_at).where(ReplyWindow.sender == sender))
    return None if last is None else aware(last) + timedelta(hours=hours)


def prune_windows(hours: int = WINDOW_HOURS, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    with session_scope() as session:
        return session.execute(delete(ReplyWindow).where(ReplyWindow.last_message_at < cutoff)).rowcount


def record_undelivered(channel: str, reason: str, day: date | None = None) -> int:
    """Count one undelivered message; returns the day's count for that reason."""
    day = day or utcnow().date()
    reason = reason[:32]
    match = (Undelivered.channel == channel, Undelivered.reason == reason, Undelivered.day == day)
    for _attempt in range(3):
        try:
            with session_scope() as session:
                done = session.execute(update(Undelivered).where(*match).values(count=Undelivered.count + 1)).rowcount
                if not done:
                    session.add(Undelivered(channel=channel, reason=reason, day=day, count=1))
                    session.flush()
                return session.scalar(select(Undelivered.count).where(*match))
        except IntegrityError:  # another process inserted the day's row first
            continue
    raise RuntimeError("could not record an undelivered message")


def undelivered_counts(channel: str, days: int = 30, today: date | None = None) -> dict[str, int]:
    since = (today or utcnow().date()) - timedelta(days=days - 1)
    with session_scope() as session:
        rows = session.execute(
            select(Undelivered.reason, Undelivered.count).where(Undelivered.channel == channel, Undelivered.day >= since)
        ).all()
    counts: dict[str, int] = {}
    for reason, count in rows:
        counts[reason] = counts.get(reason, 0) + count
    return dict(sorted(counts.items()))
