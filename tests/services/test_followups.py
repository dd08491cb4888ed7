"""Follow-ups: closing a case as referred schedules a check after the chosen days; it appears
in that officer's queue when due; the officer records whether the resident was helped (on the
case, counted in the statistics); nobody else's follow-up can be recorded by an officer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import content
from bot.services import escalation, followups, stats
from bot.storage.crypto import pseudonym
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, utcnow
from tests.console.test_console import audit_actions, console, open_case, user  # noqa: F401

PAGE = "/console/cases/KT000001"


async def take_and_close(console, **fields):  # noqa: F811
    await console.post(f"{PAGE}/ack", PAGE)
    return await console.post(f"{PAGE}/close", PAGE, **fields)


async def test_a_referred_case_comes_back_to_the_officer_when_due_and_the_answer_is_recorded(console):  # noqa: F811
    officer = user("can.bo", "officer", "*")
    user("can.bo.khac", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    await console.sign_in("can.bo")
    await take_and_close(console, outcome="referred_health", note="", follow_up_days="3")
    with session_scope() as session:
        case = session.get(Case, "KT000001")
        assert case.follow_up_officer_id == officer
        assert timedelta(days=2, hours=23) < case.follow_up_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None) <= timedelta(days=3)
    asked = await escalation._service.pending_for_web(pseudonym("web", "resident-KT000001"))  # the resident's check-in consent
    assert asked[-1].text.endswith(content.text("check_in_consent_question")) and len(asked[-1].buttons) == 2
    _, queue = await console.get("/console/cases")
    assert "Việc theo dõi đến hạn" not in queue  # not yet

    with session_scope() as session:
        session.get(Case, "KT000001").follow_up_at = utcnow() - timedelta(minutes=1)
    _, queue = await console.get("/console/cases")
    assert "Việc theo dõi đến hạn" in queue and "Ca KT000001" in queue

    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    await console.sign_in("can.bo.khac")  # a colleague: not their follow-up
    assert "Việc theo dõi đến hạn" not in (await console.get("/console/cases"))[1]
    await console.post(f"{PAGE}/follow_up", PAGE, answer="helped")
    assert "Không ghi được" in (await console.get(PAGE))[1]

    await console.client.post("/console/logout", data={"csrf": await console.csrf("/console/cases")})
    await console.sign_in("can.bo")
    await console.post(f"{PAGE}/follow_up", PAGE, answer="helped")
    _, page = await console.get(PAGE)
    assert "Đã ghi kết quả theo dõi." in page and "Người dân đã nhận được hỗ trợ" in page
    assert followups.due(officer) == [] and "Việc theo dõi đến hạn" not in (await console.get("/console/cases"))[1]
    with session_scope() as session:
        assert session.get(Case, "KT000001").follow_up_answer == "helped"
        kinds = [k for (k,) in session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == "KT000001"))]
    assert "follow_up_scheduled" in kinds and "followed_up" in kinds
    assert "follow_up" in audit_actions(f"officer:{officer}")
    month, _ = stats.this_month_and_year()
    assert dict(month.by["follow_up"]) == {"helped": 1}


async def test_no_follow_up_for_other_outcomes_and_days_are_checked(console):  # noqa: F811
    user("can.bo", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    await console.sign_in("can.bo")
    await take_and_close(console, outcome="referred_police", follow_up_days="365")
    assert "Số ngày hẹn theo dõi" in (await console.get(PAGE))[1]
    with session_scope() as session:
        assert session.get(Case, "KT000001").status == "acknowledged"  # nothing written
    await console.post(f"{PAGE}/close", PAGE, outcome="counselled", follow_up_days="7")
    with session_scope() as session:
        case = session.get(Case, "KT000001")
        assert case.status == "closed" and case.follow_up_at is None


async def test_the_case_page_shows_the_residents_consent_and_own_answer(console):  # noqa: F811
    user("can.bo", "officer", "*")
    open_case("KT000001", "Phường Kim Trà")
    await console.sign_in("can.bo")
    await take_and_close(console, outcome="referred_health", note="", follow_up_days="3")
    _, page = await console.get(PAGE)
    assert content.text("console_check_in_not_asked") in page
    with session_scope() as session:
        case = session.get(Case, "KT000001")
        case.check_in_consent, case.check_in_sent_at, case.resident_answer = True, utcnow(), "not_helped"
    _, page = await console.get(PAGE)
    assert content.text("console_check_in_agreed") in page and "đã gửi tin hỏi thăm lúc" in page
    assert "Người dân chưa nhận được hỗ trợ (người dân tự trả lời)" in page
