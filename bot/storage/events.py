"""Replay protection: a platform event (Telegram update, Zalo message) is handled at most once.

Events are remembered as a keyed hash of channel + event id, never the id itself; the
unique key makes check-and-insert one atomic INSERT on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.storage.crypto import identity_key
from bot.storage.db import session_scope
from bot.storage.models import ProcessedEvent, utcnow

KEEP_HOURS = 48


def _key(channel: str, event_id: str) -> str:
    return hmac.new(identity_key("event"), f"{channel}:{event_id}".encode(), hashlib.sha256).hexdigest()


def first_time(channel: str, event_id: str) -> bool:
    """Record the event; False if it was already recorded (a replay)."""
    try:
        with session_scope() as session:
            session.add(ProcessedEvent(key=_key(channel, event_id), created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def prune(hours: int = KEEP_HOURS, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    with session_scope() as session:
        return session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff)).rowcount
