"""Follow-ups of referred cases: a case closed as referred (police, health, legal aid,
shelter) with a number of days comes back to the officer's queue when that time has come,
and the officer records whether the resident was helped (what the "those needing help are
helped" indicator counts). The answer is on the case; nothing else about the resident is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.services.escalation import _event, audit
from bot.storage.db import session_scope
from bot.storage.models import Case, utcnow

ANSWERS = ("helped", "not_helped", "unreachable")


def due(officer_id: int | None, now: datetime | None = None) -> list[Case]:
    """Follow-ups whose time has come and that nobody recorded yet, oldest first: the
    officer's own, or everyone's (`officer_id` None: coordinators and admins)."""
    query = select(Case).where(Case.follow_up_at.isnot(None), Case.follow_up_at <= (now or utcnow()),
                               Case.follow_up_done_at.is_(None)).order_by(Case.follow_up_at)
    if officer_id is not None:
        query = query.where(Case.follow_up_officer_id == officer_id)
    with session_scope() as session:
        return list(session.scalars(query))


def record(case_id: str, actor: str, officer_id: int | None, answer: str, now: datetime | None = None) -> bool:
    """The follow-up's answer. Only the officer it is for (or, `officer_id` None, a
    coordinator or admin), once; False otherwise."""
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None or case.follow_up_at is None or case.follow_up_done_at is not None:
            return False
        if officer_id is not None and case.follow_up_officer_id != officer_id:
            return False
        case.follow_up_done_at, case.follow_up_answer = now or utcnow(), answer
        _event(session, case_id, "followed_up", officer_id=officer_id)
    audit(actor, "follow_up", case_id)
    return True
