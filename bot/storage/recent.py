"""The ids of a chat's recent messages, so that quick exit (/thoat) can delete them from the
resident's phone even after a restart. Sealed, keyed by the resident's pseudonym, and kept
only as long as the platform lets a bot delete a message (Telegram: 48 hours)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import RecentMessage, aware, utcnow

LIFETIME = timedelta(hours=47)  # a little under Telegram's 48 hours


def _sealer() -> Sealer:
    return Sealer("recent-message")


def remember(sender: str, message_id: int, at: datetime | None = None) -> None:
    with session_scope() as session:
        session.add(RecentMessage(sender=sender, message=_sealer().seal(str(message_id).encode()), at=at or utcnow()))


def take(sender: str, now: datetime | None = None) -> list[int]:
    """The deletable ids of `sender`'s chat, oldest first; they are forgotten at once."""
    cutoff = (now or utcnow()) - LIFETIME
    with session_scope() as session:
        rows = list(session.execute(
            select(RecentMessage.message, RecentMessage.at).where(RecentMessage.sender == sender)
            .order_by(RecentMessage.id)))
        session.execute(delete(RecentMessage).where(RecentMessage.sender == sender))
    return [int(_sealer().open(sealed)) for sealed, at in rows if aware(at) >= cutoff]


def prune(now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - LIFETIME
    with session_scope() as session:
        return session.execute(delete(RecentMessage).where(RecentMessage.at < cutoff)).rowcount

