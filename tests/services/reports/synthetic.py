"""Synthetic programme activity for the report tests: counters, cases and places written the
way the product writes them (activity.record, Case and Place rows), from a short script."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from bot.geo.hours import HUE
from bot.storage import activity
from bot.storage.db import session_scope
from bot.storage.models import Campaign, CampaignDelivery, Case, Place, QuizAttempt

HT, KT, BD = "Phường Hương Trà", "Phường Kim Trà", "Xã Bình Điền"


def at(text: str) -> datetime:
    """"2026-01-05 09:00" in Huế time."""
    return datetime.fromisoformat(text).replace(tzinfo=HUE)


def count(when: str, channel: str, kind: str, n: int = 1, unit: str | None = None) -> None:
    activity.record(channel, kind, unit, at(when), count=n)


@dataclass
class CaseSpec:
    created: str
    unit: str | None
    outcome: str | None = None  # None: still open
    ack_minutes: float | None = None
    closed_minutes: float = 24 * 60
    category: str = "danger_to_life"
    follow_up: str | None = None  # a referred case: "" (no answer yet), or the officer's answer
    resident: str | None = None  # the resident's check-in answer


def add_cases(*specs: CaseSpec) -> None:
    with session_scope() as session:
        for number, spec in enumerate(specs):
            created = at(spec.created)
            acked = created + timedelta(minutes=spec.ack_minutes) if spec.ack_minutes is not None else None
            closed = created + timedelta(minutes=spec.closed_minutes) if spec.outcome else None
            session.add(Case(
                id=f"syn{number:04d}", sender=f"pseudonym-{number}", channel="web", category=spec.category,
                severity="high" if spec.category == "contact_request" else "critical",
                status="closed" if spec.outcome else "acknowledged" if acked else "unreached",
                ward=spec.unit, created_at=created, acknowledged_at=acked, closed_at=closed, outcome=spec.outcome,
                note=b"sealed note that a report must never read" if spec.outcome else None,
                follow_up_at=closed + timedelta(days=7) if spec.follow_up is not None else None,
                follow_up_answer=spec.follow_up or None, resident_answer=spec.resident,
            ))


def utc(text: str) -> datetime:
    """As the product stores times (UTC: SQLite keeps no zone)."""
    return at(text).astimezone(timezone.utc)


def add_campaign(number: int, starts: str | None, created: str, taps: int = 0,
                 deliveries: dict[tuple[str, str], int] | None = None) -> None:
    """A campaign and its delivery rows: {(channel, status): how many}."""
    with session_scope() as session:
        session.add(Campaign(id=number, name=f"Đợt {number}", text="Nội dung", status="done", created_by="admin",
                             starts_at=utc(starts) if starts else None, created_at=utc(created), taps=taps))
        session.flush()
        for (channel, status), n in (deliveries or {}).items():
            for _ in range(n):
                session.add(CampaignDelivery(campaign_id=number, sender=f"pseudonym-{number}-{channel}-{status}-{_}",
                                             channel=channel, status=status))


def add_attempt(quiz: str, sender: str, started: str, finished: str | None = None, score: int = 0,
                code: str | None = None) -> None:
    with session_scope() as session:
        session.add(QuizAttempt(quiz=quiz, sender=sender, started_at=utc(started), score=score, code=code,
                                finished_at=utc(finished) if finished else None))


def add_place(key: str, unit: str | None, verified: bool, checked: date | None, kind: str = "trusted_address",
              sample: bool = False) -> None:
    with session_scope() as session:
        session.add(Place(key=key, name=f"Nơi {key}", kind=kind, unit=unit, verified=verified,
                          last_verified=checked, sample=sample))


def random_activity(seed: int, year: int = 2026, days: int = 170) -> dict:
    """Random counters over the first `days` days of `year`; returns the totals by kind and by
    (kind, channel), computed while generating (the expected figures)."""
    rng = random.Random(seed)
    totals: dict = {}
    for offset in range(days):
        day = datetime(year, 1, 1, 12, tzinfo=HUE) + timedelta(days=offset)
        for _ in range(rng.randint(0, 3)):
            channel = rng.choice(["web", "telegram", "zalo"])
            kind = rng.choice([activity.CONVERSATION, activity.DISCLOSURE, activity.REFERRAL + "police",
                               activity.REFERRAL + "health", activity.REFERRAL + "shelter"])
            unit = rng.choice([HT, KT, BD, None]) if kind.startswith(activity.REFERRAL) else None
            n = rng.randint(1, 9)
            activity.record(channel, kind, unit, day, count=n)
            totals[kind] = totals.get(kind, 0) + n
            totals[(kind, channel)] = totals.get((kind, channel), 0) + n
    return totals
