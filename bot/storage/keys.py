"""`gbvbot keys rotate`: re-seal every sealed value with the current GBVBOT_SECRET_KEY.

Run it after setting a new GBVBOT_SECRET_KEY with the old one in GBVBOT_PREVIOUS_SECRET_KEYS;
when it reports nothing left under an old key, the old key can be taken out of
GBVBOT_PREVIOUS_SECRET_KEYS (keep the oldest one: pseudonyms are keyed by it)."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import (
    Case,
    CaseEvent,
    ChannelToken,
    Conversation,
    Officer,
    RecentMessage,
    Subscription,
)

# Every sealed column: (model, column, the Sealer purpose it was sealed for).
SEALED = [
    (Conversation, "state", "conversation"),
    (Case, "reply_to", "case"),
    (Case, "note", "case"),
    (Case, "shared", "case"),
    (CaseEvent, "text", "case-message"),
    (Officer, "telegram_chat", "officer-chat"),
    (Officer, "totp_secret", "totp"),
    (Subscription, "chat", "subscription"),
    (ChannelToken, "access_token", "channel-token"),
    (ChannelToken, "refresh_token", "channel-token"),
    (RecentMessage, "message", "recent-message"),
]
BATCH = 500


def rotate() -> dict[str, int]:
    """Re-seal what an older key sealed; returns how many values per table.column."""
    done: dict[str, int] = {}
    for model, column, purpose in SEALED:
        sealer = Sealer(purpose)
        count = 0
        primary = model.__mapper__.primary_key[0]
        last = None
        while True:
            with session_scope() as session:
                query = select(model).order_by(primary).limit(BATCH)
                if last is not None:
                    query = query.where(primary > last)
                rows = list(session.scalars(query))
                for row in rows:
                    value = getattr(row, column)
                    if value is not None and not sealer.current(value):
                        setattr(row, column, sealer.seal(sealer.open(value)))
                        count += 1
                if rows:
                    last = getattr(rows[-1], primary.key)
            if len(rows) < BATCH:
                break
        done[f"{model.__tablename__}.{column}"] = count
    return done
