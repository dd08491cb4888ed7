"""Erase-my-data: everything stored about one pseudonymous resident, in one transaction
(conversation state, campaign subscription, reply window)."""

from __future__ import annotations

from sqlalchemy import delete

from bot.storage.db import session_scope
from bot.storage.models import Conversation, ReplyWindow, Subscription


def forget(sender: str) -> bool:
    """True if anything was stored about `sender`."""
    with session_scope() as session:
        removed = 0
        for model in (Conversation, Subscription, ReplyWindow):
            removed += session.execute(delete(model).where(model.sender == sender)).rowcount
    return removed > 0
