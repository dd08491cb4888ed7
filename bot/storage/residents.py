"""Erase-my-data: everything stored about one pseudonymous resident, in one transaction
(conversation state, campaign subscription, reply window), and a tombstone so that a turn
still in flight cannot store the conversation again (bot/storage/conversations.py)."""

from __future__ import annotations

from sqlalchemy import delete

from bot.storage import conversations
from bot.storage.db import session_scope
from bot.storage.models import ReplyWindow, Subscription


def forget(sender: str) -> bool:
    """True if anything was stored about `sender`."""
    removed = conversations.forget(sender)
    with session_scope() as session:
        for model in (Subscription, ReplyWindow):
            removed += session.execute(delete(model).where(model.sender == sender)).rowcount
    return removed > 0
