"""Case statistics for officials and the city's reports: counts by unit, category, channel,
outcome and follow-up answer (referred cases: was the resident helped? the officer's answer,
else the resident's own check-in answer), and how long urgent cases waited for an officer (p50, p90). Only aggregates
leave this module, never a case; a count from 1 to 4 is shown as "<5" (GBVIMS: small counts
can point to a person), and the waiting times need at least five acknowledged cases.
Periods are Huế calendar months and years.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.geo.hours import local_time
from bot.storage.db import session_scope
from bot.storage.models import Case, aware

SMALL = 5  # counts below this (but above 0) are shown as "<5"
DIMENSIONS = ("unit", "category", "channel", "outcome", "follow_up")
UNKNOWN, OPEN, PENDING = "unknown", "open", "pending"  # unit not known; case not closed; follow-up not done
FOLLOW_UPS = ("helped", "not_helped", "unreachable", PENDING)


def follow_up(follow_up_at, officer_answer: str | None, resident_answer: str | None) -> str | None:
    """A referred case's follow-up answer (one of FOLLOW_UPS): the officer's, else the resident's
    own check-in answer, else pending; None for a case that was not referred (no follow-up)."""
    if follow_up_at is None:
        return None
    return officer_answer or resident_answer or PENDING


def shown(count: int) -> str:
    """A count as it may be published: 0, "<5" for 1–4, else the number."""
    return "<5" if 0 < count < SMALL else str(count)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    total: int
    by: dict[str, list[tuple[str, int]]]  # dimension → (value, count), largest first
    acknowledged: int  # urgent cases acknowledged (the waiting times are theirs)
    ack_p50: timedelta | None  # None below SMALL acknowledged cases
    ack_p90: timedelta | None


def summary(start: datetime, end: datetime) -> Summary:
    """Cases opened in [start, end) (aware times; SQLite compares them as UTC text)."""
    lo, hi = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    with session_scope() as session:
        rows = session.execute(select(Case.ward, Case.category, Case.channel, Case.outcome, Case.status,
                                      Case.created_at, Case.acknowledged_at, Case.follow_up_at, Case.follow_up_answer,
                                      Case.resident_answer)
                               .where(Case.created_at >= lo, Case.created_at < hi)).all()
    counters = {d: Counter() for d in DIMENSIONS}
    waits = []
    for ward, category, channel, outcome, status, created, acknowledged, follow_up_at, answer, resident in rows:
        counters["unit"][ward or UNKNOWN] += 1
        counters["category"][category] += 1
        counters["channel"][channel] += 1
        counters["outcome"][outcome if status == "closed" and outcome else OPEN] += 1
        if (answered := follow_up(follow_up_at, answer, resident)) is not None:  # referred: were they helped?
            counters["follow_up"][answered] += 1
        if acknowledged is not None and category != "contact_request":  # requests wait for office hours
            waits.append((aware(acknowledged) - aware(created)).total_seconds())
    enough = len(waits) >= SMALL
    return Summary(
        start=start, end=end, total=len(rows),
        by={d: sorted(c.items(), key=lambda item: (-item[1], item[0])) for d, c in counters.items()},
        acknowledged=len(waits),
        ack_p50=timedelta(seconds=percentile(waits, 50)) if enough else None,
        ack_p90=timedelta(seconds=percentile(waits, 90)) if enough else None,
    )


def this_month_and_year(now: datetime | None = None) -> tuple[Summary, Summary]:
    """The current Huế month and year, up to now."""
    local = local_time(now)
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year = month.replace(month=1)
    end = local + timedelta(seconds=1)
    return summary(month, end), summary(year, end)
