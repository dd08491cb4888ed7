"""Sealed conversation state, shared by the Rasa tracker store, erase-my-data and retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import Conversation, utcnow

_sealer: Sealer | None = None


def _seal() -> Sealer:
    global _sealer
    if _sealer is None:
        _sealer = Sealer("conversation")
    return _sealer


def store(sender: str, plaintext: bytes) -> None:
    sealed = _seal().seal(plaintext)
    with session_scope() as session:
        row = session.get(Conversation, sender)
        if row is None:
            session.add(Conversation(sender=sender, state=sealed, updated_at=utcnow()))
        else:
            row.state, row.updated_at = sealed, utcnow()


def load(sender: str) -> bytes | None:
    with session_scope() as session:
        sealed = session.scalar(select(Conversation.state).where(Conversation.sender == sender))
    return None if sealed is None else _seal().open(sealed)


def forget(sender: str) -> bool:
    """Erase one sender's conversation; True if there was one."""
    with session_scope() as session:
        result = session.execute(delete(Conversation).where(Conversation.sender == sender))
        return result.rowcount > 0


def purge_older_than(days: int, now: datetime | None = None) -> int:
    """Retention: delete conversations idle for more than `days`; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with session_scope() as session:
        return session.execute(delete(Conversation).where(Conversation.updated_at < cutoff)).rowcount
