"""Campaign opt-ins. A subscription holds the resident's pseudonym and, sealed, the chat id
a campaign would need to reach them; opting out deletes the row."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import delete, select

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import Subscription, utcnow


def _sealer() -> Sealer:
    return Sealer("subscription")


def subscribe(sender: str, channel: str, chat_id: str) -> bool:
    """True if this is a new subscription."""
    with session_scope() as session:
        if session.get(Subscription, sender) is not None:
            return False
        session.add(Subscription(sender=sender, channel=channel, chat=_sealer().seal(chat_id.encode()), created_at=utcnow()))
        return True


def unsubscribe(sender: str) -> bool:
    with session_scope() as session:
        return session.execute(delete(Subscription).where(Subscription.sender == sender)).rowcount > 0


def is_subscribed(sender: str) -> bool:
    with session_scope() as session:
        return session.get(Subscription, sender) is not None


def recipients(channel: str) -> Iterator[tuple[str, str]]:
    """(pseudonym, chat id) of every subscriber on a channel, for campaign delivery."""
    sealer = _sealer()
    with session_scope() as session:
        rows = session.execute(select(Subscription.sender, Subscription.chat).where(Subscription.channel == channel)).all()
    for sender, chat in rows:
        yield sender, sealer.open(chat).decode()
