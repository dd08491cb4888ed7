"""Anonymous activity counters for the programme reports (docs/indicators.md): one row per
Huế day, channel, unit and kind holds a number, never who or what."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.geo.hours import HUE
from bot.storage.db import session_scope
from bot.storage.models import Activity, utcnow

CONVERSATION = "conversation"
DISCLOSURE = "disclosure"
USEFUL = "useful_"  # + "yes" | "no": an answer to "Câu trả lời này có hữu ích với bạn không?"
REFERRAL = "referral:"  # + the directory's place kind (police, health, legal_aid, shelter, ...)


def record(channel: str, kind: str, unit: str | None = None, at: datetime | None = None, count: int = 1) -> None:
    """Add `count` to the counter of (the Huế day of `at`, channel, unit, kind)."""
    day: date = (at or utcnow()).astimezone(HUE).date()
    key = {"day": day, "channel": channel[:16], "unit": (unit or "")[:64], "kind": kind[:32]}
    match = [getattr(Activity, name) == value for name, value in key.items()]
    for _attempt in range(3):  # a concurrent first insert wins once; then we update
        try:
            with session_scope() as session:
                if not session.execute(update(Activity).where(*match).values(count=Activity.count + count)).rowcount:
                    session.add(Activity(**key, count=count))
            return
        except IntegrityError:
            continue
