"""Campaign opt-ins. A subscription holds the resident's pseudonym and, sealed, the chat id
a campaign would need to reach them, with an optional unit and topics; opting out deletes
the row at once; a platform saying the resident blocked the bot makes it inactive."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import Subscription, utcnow


def _sealer() -> Sealer:
    return Sealer("subscription")


def subscribe(sender: str, channel: str, chat_id: str) -> bool:
    """True if this is a new subscription (an inactive one becomes active again)."""
    with session_scope() as session:
        row = session.get(Subscription, sender)
        if row is not None:
            fresh, row.active = not row.active, True
            row.chat = _sealer().seal(chat_id.encode())
            return fresh
        session.add(Subscription(sender=sender, channel=channel, chat=_sealer().seal(chat_id.encode()),
                                 created_at=utcnow(), active=True))
        return True


def choose(sender: str, unit: str | None = None, topics: list[str] | None = None) -> bool:
    """Record the subscriber's unit and/or topics; False if they are not subscribed."""
    values = {}
    if unit is not None:
        values["unit"] = unit or None
    if topics is not None:
        values["topics"] = ";".join(topics) or None
    with session_scope() as session:
        if not values:
            return session.get(Subscription, sender) is not None
        return session.execute(update(Subscription).where(Subscription.sender == sender).values(**values)).rowcount > 0


def unsubscribe(sender: str) -> bool:
    with session_scope() as session:
        return session.execute(delete(Subscription).where(Subscription.sender == sender)).rowcount > 0


def deactivate(sender: str) -> None:
    """The platform refuses to deliver to this resident (they blocked the bot)."""
    with session_scope() as session:
        session.execute(update(Subscription).where(Subscription.sender == sender).values(active=False))


def is_subscribed(sender: str) -> bool:
    with session_scope() as session:
        return session.get(Subscription, sender) is not None


def chat_of(sender: str) -> tuple[str, str] | None:
    """(channel, chat id) of an active subscriber, for delivering a campaign message."""
    with session_scope() as session:
        row = session.execute(select(Subscription.channel, Subscription.chat).where(
            Subscription.sender == sender, Subscription.active.is_(True))).first()
    return None if row is None else (row[0], _sealer().open(row[1]).decode())


def audience(channels: list[str], units: list[str] | None, topics: list[str] | None) -> list[tuple[str, str]]:
    """(pseudonym, channel) of every active subscriber on `channels` whose unit is one of
    `units` (None: any; a subscriber who chose no unit gets every unit's campaigns) and who
    chose one of `topics` or none (None: any)."""
    with session_scope() as session:
        rows = session.execute(
            select(Subscription.sender, Subscription.channel, Subscription.unit, Subscription.topics)
            .where(Subscription.active.is_(True), Subscription.channel.in_(channels))
        ).all()
    chosen = []
    for sender, channel, unit, their_topics in rows:
        if units is not None and unit and unit not in units:
            continue
        if topics is not None and their_topics and not set(their_topics.split(";")) & set(topics):
            continue
        chosen.append((sender, channel))
    return chosen

