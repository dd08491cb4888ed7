"""Erase-my-data: everything stored about one pseudonymous resident, in one transaction
(conversation state, campaign subscription, reply window; their campaign deliveries and quiz
attempts lose the pseudonym and keep only what the counters need), and a tombstone so that a
turn still in flight cannot store the conversation again (bot/storage/conversations.py)."""

from __future__ import annotations

from sqlalchemy import delete, literal, update

from bot.storage import conversations
from bot.storage.db import session_scope
from bot.storage.models import CampaignDelivery, QuizAttempt, ReplyWindow, Subscription


def forget(sender: str) -> bool:
    """True if anything was stored about `sender`."""
    removed = conversations.forget(sender)
    with session_scope() as session:
        for model in (Subscription, ReplyWindow):
            removed += session.execute(delete(model).where(model.sender == sender)).rowcount
        session.execute(update(CampaignDelivery).where(CampaignDelivery.sender == sender, CampaignDelivery.status == "pending")
                        .values(status="stopped"))
        for model in (CampaignDelivery, QuizAttempt):
            removed += session.execute(update(model).where(model.sender == sender)
                                       .values(sender=literal("erased-") + model.id.cast(model.sender.type))
                                       .execution_options(synchronize_session=False)).rowcount
    return removed > 0
