"""Sealed conversation state, shared by the Rasa tracker store, erase-my-data and retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import Conversation, Forgotten, aware, utcnow

TOMBSTONE_HOURS = 24
SESSION_GAP = timedelta(minutes=60)  # domain.yml session_expiration_time: a new Rasa session after this

_sealer: Sealer | None = None


def _seal() -> Sealer:
    global _sealer
    if _sealer is None:
        _sealer = Sealer("conversation")
    return _sealer


def store(sender: str, plaintext: bytes, began: datetime | None = None) -> bool:
    """Save one sender's conversation, unless it began before the sender erased it (a turn
    that was in flight during a quick exit); False then."""
    sealed = _seal().seal(plaintext)
    with session_scope() as session:
        erased_at = session.scalar(select(Forgotten.at).where(Forgotten.sender == sender))
        if erased_at is not None and (began is None or began <= aware(erased_at)):
            return False
        row = session.get(Conversation, sender)
        if row is None:
            session.add(Conversation(sender=sender, state=sealed, updated_at=utcnow()))
        else:
            row.state, row.updated_at = sealed, utcnow()
    return True


def begins_conversation(sender: str, now: datetime | None = None) -> bool:
    """Whether a message from `sender` now begins a conversation: none is stored, or the stored
    one has been idle longer than Rasa's session expiry (counted for the reports)."""
    with session_scope() as session:
        updated = session.scalar(select(Conversation.updated_at).where(Conversation.sender == sender))
    return updated is None or aware(updated) < (now or utcnow()) - SESSION_GAP


def load(sender: str) -> bytes | None:
    with session_scope() as session:
        sealed = session.scalar(select(Conversation.state).where(Conversation.sender == sender))
    return None if sealed is None else _seal().open(sealed)


def forget(sender: str) -> bool:
    """Erase one sender's conversation and leave a tombstone; True if there was one."""
    with session_scope() as session:
        result = session.execute(delete(Conversation).where(Conversation.sender == sender))
        row = session.get(Forgotten, sender)
        if row is None:
            session.add(Forgotten(sender=sender, at=utcnow()))
        else:
            row.at = utcnow()
        return result.rowcount > 0


def prune_tombstones(now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=TOMBSTONE_HOURS)
    with session_scope() as session:
        return session.execute(delete(Forgotten).where(Forgotten.at < cutoff)).rowcount


def purge_older_than(days: int, now: datetime | None = None) -> int:
    """Retention: delete conversations idle for more than `days`; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with session_scope() as session:
        return session.execute(delete(Conversation).where(Conversation.updated_at < cutoff)).rowcount
