"""The resident's own check-in after a referral (issue 13). When an officer closes a case
as referred with a follow-up, the resident — if they can still be reached — is asked once
whether they agree to one short check-in later. If they agree, when the follow-up is due
they get one neutral "Bạn đã nhận được hỗ trợ chưa?". Consent and answer are on the case
(`check_in_consent`, `resident_answer`), apart from the officer's own follow-up answer.

Answers come as buttons (/check_in{"c": case, "a": answer}) or typed as the resident's very
next message (có / không, đã nhận / chưa); the core handles both before Rasa, so a "có"
after the consent question is consent, never a confirmation of danger. Nothing goes to a
resident who left (safe word, erasure, quick exit: the channel id is dropped), ended the
relay, or whose case was anonymised; a conditional update makes the check-in go out once.
"""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bot import content
from bot.messages import Button
from bot.nlu.normalize import fold
from bot.services.escalation import WAITING_SECONDS, Escalation, _event, _opened
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent

PAYLOAD = "/check_in"
CONSENT, CHECK_IN = "consent", "check_in"
ANSWERS = {CONSENT: ("agree", "decline"), CHECK_IN: ("helped", "not_helped")}
TYPED = {  # folded text → answer, per question; anything else is an ordinary message
    CONSENT: {**dict.fromkeys(("co", "co a", "da co", "vang", "vang a", "da vang", "dong y", "ok", "yes"), "agree"),
              **dict.fromkeys(("khong", "khong a", "ko", "thoi", "khong can", "no"), "decline")},
    CHECK_IN: {**dict.fromkeys(("da nhan", "da nhan roi", "nhan roi", "roi", "co", "da co", "co roi"), "helped"),
               **dict.fromkeys(("chua", "chua a", "chua nhan", "chua nhan duoc", "khong", "ko"), "not_helped")},
}
_QUESTION_TEXT = {CONSENT: "check_in_consent_question", CHECK_IN: "check_in_question"}


def _buttons(case_id: str, question: str) -> tuple[Button, ...]:
    return tuple(Button(content.text(f"check_in_button_{a}"),
                        PAYLOAD + json.dumps({"c": case_id, "a": a}, separators=(",", ":")))
                 for a in ANSWERS[question])


async def _ask(service: Escalation, sender: str, channel: str, reply_to: str | None, case_id: str,
               question: str) -> bool:
    sent = await service._to_resident(sender, channel, reply_to, content.text(_QUESTION_TEXT[question]),
                                      _buttons(case_id, question))
    if sent:  # in the shared store: the typed answer may reach another gateway
        await service.store.put("asked", sender, (case_id, question), WAITING_SECONDS)
    return sent


async def ask_consent(service: Escalation, case_id: str) -> bool:
    """Once, right after a referred case was closed with a follow-up; True if it went out."""
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None or case.follow_up_at is None or case.reply_to is None or case.check_in_consent is not None:
            return False
        stopped = session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(
            ("relay_ended", "resident_left", "check_in_consent_asked"))).limit(1))
        if stopped is not None:
            return False
        _event(session, case_id, "check_in_consent_asked")
        sender, channel, reply_to = case.sender, case.channel, _opened(case.reply_to)
    return await _ask(service, sender, channel, reply_to, case_id, CONSENT)


async def send_due(service: Escalation) -> int:
    """The check-ins whose follow-up time has come (by the service's clock), each once, to
    residents who agreed and can still be reached; returns how many went out."""
    now = service.now()
    with session_scope() as session:
        due = list(session.scalars(select(Case.id).where(
            Case.check_in_consent.is_(True), Case.check_in_sent_at.is_(None), Case.follow_up_at <= now,
            Case.reply_to.isnot(None))))
    sent = 0
    for case_id in due:
        with session_scope() as session:
            claimed = session.execute(update(Case).where(
                Case.id == case_id, Case.check_in_sent_at.is_(None), Case.reply_to.isnot(None))
                .values(check_in_sent_at=now)).rowcount
            if not claimed:
                continue
            case = session.get(Case, case_id)
            _event(session, case_id, "check_in_sent")
            sender, channel, reply_to = case.sender, case.channel, _opened(case.reply_to)
        sent += await _ask(service, sender, channel, reply_to, case_id, CHECK_IN)
    return sent


async def record(service: Escalation | None, sender: str, case_id: str, answer: str) -> str:
    """The resident's answer, on their own case only and once; the text to show them."""
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None or case.sender != sender or case.follow_up_at is None:
            return content.text("check_in_closed")
        if answer in ANSWERS[CONSENT] and case.check_in_consent is None and case.check_in_sent_at is None:
            case.check_in_consent = answer == "agree"
            _event(session, case_id, "check_in_consent")
        elif answer in ANSWERS[CHECK_IN] and case.check_in_sent_at is not None and case.resident_answer is None:
            case.resident_answer = answer
            _event(session, case_id, "check_in_answered")
        else:
            return content.text("check_in_closed")
    if service is not None:
        await service.store.forget(sender, "asked")
    return content.text(f"check_in_thanks_{answer}")


async def tapped(service: Escalation | None, sender: str, payload: str) -> str:
    """A check-in button (its payload was validated as "/check_in{json object}")."""
    try:
        data = json.loads(payload[len(PAYLOAD):])
        return await record(service, sender, str(data["c"]), str(data["a"]))
    except (ValueError, KeyError, TypeError):
        return content.text("check_in_closed")


async def typed(service: Escalation, sender: str, asked: tuple[str, str], text: str) -> str | None:
    """A typed answer to the question just `asked`; None if the text is not one."""
    answer = TYPED[asked[1]].get(fold(text))
    return await record(service, sender, asked[0], answer) if answer else None
