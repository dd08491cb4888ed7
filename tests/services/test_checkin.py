"""The resident's check-in after a referral: asked once for consent when the officer closes
the case with a follow-up; if they agree, one "Bạn đã nhận được hỗ trợ chưa?" when the
follow-up is due; the answer is on the case and in the statistics. Nobody who declined,
left or erased their data gets anything."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import content
from bot.services import checkin, stats
from bot.services.desk import Close, OfficerDesk, Take
from bot.storage.db import session_scope
from bot.storage.models import Case
from tests.services.test_escalation import make

FIRST_LINE = content.text("unsolicited_first_line")


async def referred(staff, sender="t-1", days=3):
    """A case taken and closed as referred with a follow-up, through the desk."""
    service, recorder, _ = make(None)
    report = await service.report(sender=sender, channel="telegram", category="danger_to_life", reply_to="555")
    await service.drain()
    desk = OfficerDesk(service)
    await desk.handle(staff["desk"], Take(report.case_id))
    await desk.handle(staff["desk"], Close(report.case_id, "referred_health", follow_up_days=days))
    return service, recorder, report.case_id


def payload(button) -> dict:
    return json.loads(button.payload[len(checkin.PAYLOAD):])


def case(case_id: str) -> Case:
    with session_scope() as session:
        return session.get(Case, case_id)


async def test_consent_is_asked_once_then_one_check_in_when_due_and_the_answer_counts(staff):
    service, recorder, case_id = await referred(staff)
    channel, chat, text = recorder.to_residents[-1]
    assert (channel, chat) == ("telegram", "555")
    assert text == f"{FIRST_LINE}\n\n{content.text('check_in_consent_question')}"
    yes, no = recorder.resident_buttons[-1]
    assert (yes.title, no.title) == ("Có", "Không") and payload(yes) == {"c": case_id, "a": "agree"}
    assert not await checkin.ask_consent(service, case_id)  # once

    assert await checkin.tapped(service, "t-1", yes.payload) == content.text("check_in_thanks_agree")
    assert case(case_id).check_in_consent is True
    assert await checkin.tapped(service, "t-1", no.payload) == content.text("check_in_closed")  # no second answer
    assert case(case_id).check_in_consent is True

    assert await checkin.send_due(service) == 0  # not yet due
    service.now.at += timedelta(days=3)
    sent = len(recorder.to_residents)
    assert await checkin.send_due(service) == 1
    assert recorder.to_residents[-1][2] == f"{FIRST_LINE}\n\nBạn đã nhận được hỗ trợ chưa?"
    helped, not_helped = recorder.resident_buttons[-1]
    assert (helped.title, not_helped.title) == ("Đã nhận", "Chưa")
    service.now.at += timedelta(days=1)
    assert await checkin.send_due(service) == 0 and len(recorder.to_residents) == sent + 1  # exactly once

    assert await checkin.tapped(service, "t-2", not_helped.payload) == content.text("check_in_closed")  # not their case
    assert await checkin.tapped(service, "t-1", not_helped.payload) == content.text("check_in_thanks_not_helped")
    assert case(case_id).resident_answer == "not_helped" and case(case_id).follow_up_answer is None
    month, _ = stats.this_month_and_year(service.now())
    assert dict(month.by["follow_up"]) == {"not_helped": 1}


async def test_no_check_in_without_consent(staff):
    service, recorder, case_id = await referred(staff)
    no = recorder.resident_buttons[-1][1]
    assert await checkin.tapped(service, "t-1", no.payload) == content.text("check_in_thanks_decline")
    assert case(case_id).check_in_consent is False
    service.now.at += timedelta(days=4)
    sent = len(recorder.to_residents)
    assert await checkin.send_due(service) == 0 and len(recorder.to_residents) == sent


async def test_a_resident_who_left_after_agreeing_gets_nothing(staff):
    service, recorder, case_id = await referred(staff)
    await checkin.tapped(service, "t-1", recorder.resident_buttons[-1][0].payload)
    await service.resident_left("t-1")  # safe word, erasure or quick exit
    service.now.at += timedelta(days=4)
    sent = len(recorder.to_residents)
    assert await checkin.send_due(service) == 0 and len(recorder.to_residents) == sent
    assert case(case_id).reply_to is None


async def test_no_consent_question_after_the_resident_ended_the_relay_or_without_follow_up(staff):
    service, recorder, _ = make(None)
    desk = OfficerDesk(service)
    for sender, days in (("t-3", 3), ("t-4", None)):
        report = await service.report(sender=sender, channel="telegram", category="danger_to_life", reply_to="556")
        await service.drain()
        await desk.handle(staff["desk"], Take(report.case_id))
        if days:
            service.end_relay(sender)  # "kết thúc"
        await desk.handle(staff["desk"], Close(report.case_id, "referred_police", follow_up_days=days))
    assert not any(content.text("check_in_consent_question") in text for _, _, text in recorder.to_residents)
