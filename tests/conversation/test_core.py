"""The conversation core with a scripted Rasa and the real escalation service (SQLite and
PostgreSQL): "có" after any reply that mentions danger escalates; third-party reports and
requests for contact open the right cases."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from bot.content import texts
from bot.conversation.core import ConversationCore, Message
from bot.conversation.rasa_client import RasaUnavailable
from bot.messages import BotMessage
from bot.services import checkin, roster
from bot.services.escalation import QUEUED_RUNG, Escalation
from bot.storage.crypto import Sealer
from bot.storage.db import session_scope
from bot.storage.models import Case
from bot.storage.shared import MemoryStore
from tests.conftest import ROOT
from tests.services.test_escalation import Clock, RecordingSender

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TEXTS = texts()
DANGER = re.compile(r"nguy\s+hiểm", re.I)
WEEKDAY_MORNING = datetime(2026, 12, 1, 9, 0, tzinfo=roster.HUE)  # a Tuesday
SATURDAY_NIGHT = datetime(2026, 12, 5, 22, 0, tzinfo=roster.HUE)


class ScriptedRasa:
    """Answers each turn with the next scripted list of bot messages; records what it got."""

    def __init__(self, *answers: list[dict] | Exception):
        self.answers = list(answers)
        self.received: list[str] = []

    async def send(self, sender: str, message: str, channel: str) -> list[dict]:
        self.received.append(message)
        answer = self.answers.pop(0) if self.answers else []
        if isinstance(answer, Exception):
            raise answer
        return answer


def core_with(rasa, at=WEEKDAY_MORNING, store=None):
    timers: list = []
    sender = RecordingSender()
    service = Escalation(sender, timedelta(minutes=3), lambda c, r, when: timers.append((c, r, when)), Clock(at),
                         store=store)
    return ConversationCore(rasa, rate_per_minute=100, escalation=service), service, sender, timers


def _as_rasa(variant: dict) -> list[dict]:
    return [{"text": variant.get("text"), "buttons": variant.get("buttons") or []}]


DANGER_REPLIES = [
    pytest.param(_as_rasa(variants[0]), id=name)
    for name, variants in DOMAIN["responses"].items()
    if DANGER.search(variants[0].get("text") or "") and "custom" not in variants[0]
]


def test_replies_that_mention_danger_are_many():
    assert len(DANGER_REPLIES) >= 10


@pytest.mark.parametrize("reply", DANGER_REPLIES)
async def test_yes_after_any_reply_that_mentions_danger_escalates(db_url, reply):
    rasa = ScriptedRasa(reply, [{"text": "…", "custom": {"signal": "urgent"}}])
    core, service, sender, _ = core_with(rasa)
    await core.handle(Message("web", "resident-1", text="chuyện nhà em"))
    answer = await core.handle(Message("web", "resident-1", text="dạ có"))
    await service.drain()
    assert rasa.received[-1] == "/urgent_danger"
    assert answer.escalation is not None


@pytest.mark.parametrize("name", [k for k, v in TEXTS.items() if isinstance(v, str) and DANGER.search(v)])
async def test_yes_after_a_gateway_text_that_mentions_danger_escalates_even_with_rasa_down(db_url, name):
    rasa = ScriptedRasa([{"text": TEXTS[name]}], RasaUnavailable("down"))
    core, service, _, _ = core_with(rasa)
    await core.handle(Message("telegram", "resident-2", text="xin chào"))
    answer = await core.handle(Message("telegram", "resident-2", text="co"))
    await service.drain()
    assert answer.escalation is not None
    assert answer.messages[0].text.startswith("Hãy gọi ngay 113")


@pytest.mark.parametrize("text", [
    "cuu toi", "no dang danh toi", "anh ta cam dao dang o ngoai cua", "cha dang danh em",
    "chong em dang dung ngoai cua cam dao",
])
async def test_a_short_unmarked_cry_escalates_at_once_even_with_rasa_down(db_url, text):
    core, service, _, _ = core_with(ScriptedRasa(RasaUnavailable("down")))
    answer = await core.handle(Message("web", "resident-10", text=text))
    await service.drain()
    assert answer.escalation is not None
    assert answer.messages[0].text == TEXTS["emergency"]


async def test_an_unmarked_story_whose_only_now_is_dang_is_asked_about_and_yes_escalates(db_url):
    from tests.nlu.test_triage import UNMARKED_PAST_LETTERS

    core, service, _, _ = core_with(ScriptedRasa(RasaUnavailable("down"), RasaUnavailable("down")))
    first = await core.handle(Message("web", "resident-11", text=UNMARKED_PAST_LETTERS[0]))
    assert first.escalation is None and DANGER.search(first.messages[-1].text)
    answer = await core.handle(Message("web", "resident-11", text="co"))
    await service.drain()
    assert answer.escalation is not None


async def test_yes_to_another_question_is_not_taken_for_danger(db_url):
    ask_safe = DOMAIN["responses"]["utter_ask_safe_to_talk"][0]
    rasa = ScriptedRasa(_as_rasa(ask_safe), [{"text": "Cảm ơn bạn."}])
    core, _, _, _ = core_with(rasa)
    await core.handle(Message("web", "resident-3", text="chồng em hay chửi em"))
    answer = await core.handle(Message("web", "resident-3", text="có"))
    assert rasa.received[-1] == "có"
    assert answer.escalation is None


async def test_yes_long_after_the_mention_is_an_ordinary_yes(db_url):
    from bot.conversation.core import DANGER_CONFIRM_SECONDS

    rasa = ScriptedRasa(_as_rasa(DOMAIN["responses"]["utter_child_abuse"][0]), [{"text": "Vâng."}])
    clock = [0.0]
    core, _, _, _ = core_with(rasa, store=MemoryStore(clock=lambda: clock[0]))
    await core.handle(Message("web", "resident-4", text="cháu tôi bị đánh"))
    clock[0] += DANGER_CONFIRM_SECONDS + 1
    answer = await core.handle(Message("web", "resident-4", text="có"))
    assert rasa.received[-1] == "có" and answer.escalation is None


async def test_a_neighbour_reporting_danger_now_opens_a_third_party_case(db_url):
    rasa = ScriptedRasa([{"text": "Hãy gọi ngay 113…", "custom": {"signal": "urgent"}}])
    core, service, sender, _ = core_with(rasa)
    roster.add_officer("Trực ban", "police", "duty_desk", "*", telegram_id="1001")
    answer = await core.handle(Message("web", "neighbour", text="nhà hàng xóm đang đánh vợ dã man, chị ấy kêu cứu"))
    await service.drain()
    texts = [m.text for m in answer.messages]
    assert any("Người đó đang ở phường, xã nào" in t for t in texts)
    with session_scope() as session:
        case = session.scalar(select(Case))
    assert case.reporter == "third_party"
    assert "Người báo tin là người khác" in sender.alerts[0][1]


async def test_yes_after_the_third_party_danger_question_reports_it(db_url):
    question = DOMAIN["responses"]["utter_ask_danger_other"][0]
    rasa = ScriptedRasa(_as_rasa(question), [{"text": "…", "custom": {"signal": "urgent"}}])
    core, service, _, _ = core_with(rasa)
    await core.handle(Message("web", "relative", text="em gái tôi hay bị chồng đánh"))
    await core.handle(Message("web", "relative", text="vâng"))
    await service.drain()
    assert rasa.received[-1] == "/report_danger"
    with session_scope() as session:
        assert session.scalar(select(Case.reporter)) == "third_party"


async def test_a_request_for_contact_in_office_hours_queues_a_case_and_tells_the_officer_once(db_url):
    shared = {"answers": ["yes", "no"], "high": True}
    rasa = ScriptedRasa([{"custom": {"signal": "contact_request", "risk": shared}}, {"text": "Mình đã ghi nhận…"}])
    core, service, sender, timers = core_with(rasa)
    roster.add_officer("Trực ban", "social_affairs", "duty_desk", "*", telegram_id="1001")
    answer = await core.handle(Message("telegram", "resident-5", payload="/request_contact"))
    await service.drain()
    assert answer.escalation["status"] == "queued"
    assert answer.messages[-1].text == TEXTS["contact_queued"]
    assert len(sender.alerts) == 1 and "không khẩn cấp" in sender.alerts[0][1]
    assert timers == []  # no urgent ladder
    with session_scope() as session:
        case = session.scalar(select(Case))
    assert case.severity == "high" and case.status == "queued"
    assert json.loads(Sealer("case").open(case.shared)) == shared
    assert await service.acknowledge(case.id, 1) == "assigned"


async def test_a_request_for_contact_at_night_waits_for_monday_morning(db_url):
    rasa = ScriptedRasa([{"custom": {"signal": "contact_request", "risk": None}}])
    core, service, sender, timers = core_with(rasa, at=SATURDAY_NIGHT)
    roster.add_officer("Trực ban", "social_affairs", "duty_desk", "*", telegram_id="1001")
    await core.handle(Message("telegram", "resident-6", payload="/request_contact"))
    await service.drain()
    assert sender.alerts == []
    [(case_id, rung, when)] = timers
    assert rung == QUEUED_RUNG and when == datetime(2026, 12, 7, 7, 30, tzinfo=roster.HUE)


async def test_a_request_for_contact_with_nobody_registered_says_so_honestly(db_url):
    rasa = ScriptedRasa([{"custom": {"signal": "contact_request", "risk": None}}])
    core, _, _, _ = core_with(rasa)
    answer = await core.handle(Message("web", "resident-7", payload="/request_contact"))
    assert answer.messages[-1].text == TEXTS["contact_unavailable"]


def _break_cases_table():
    from sqlalchemy import text

    with session_scope() as session:
        session.execute(text("DROP TABLE cases CASCADE" if session.bind.dialect.name == "postgresql" else "DROP TABLE cases"))


async def test_a_database_failure_mid_turn_still_gives_an_urgent_message_the_emergency_answer(db_url):
    rasa = ScriptedRasa([{"text": "…", "custom": {"signal": "urgent"}}])
    core, _, _, _ = core_with(rasa)
    _break_cases_table()
    answer = await core.handle(Message("web", "resident-8", text="cứu em với, nó đang cầm dao"))
    assert answer.messages[0].text == TEXTS["emergency"]
    assert {"113", "115", "111"} <= set(re.findall(r"\b11\d\b", answer.messages[1].text))


async def test_an_urgent_report_the_database_refused_is_opened_when_the_database_is_back(db_url):
    rasa = ScriptedRasa([{"text": "…", "custom": {"signal": "urgent"}}])
    core, service, _, _ = core_with(rasa)
    _break_cases_table()
    message = Message("web", "resident-10", text="cứu em với, nó đang cầm dao")
    answer = await core.handle(message)
    assert answer.messages[0].text == TEXTS["emergency"] and answer.escalation is None
    with session_scope() as session:  # the database is back
        Case.__table__.create(session.connection())
    await service.drain()
    case = service.open_case(core.sender_of(message))
    assert case is not None and case.category == "danger_to_life"


async def test_a_database_failure_mid_turn_gives_any_message_the_emergency_numbers(db_url):
    rasa = ScriptedRasa([{"text": "…", "custom": {"signal": "contact_request", "risk": None}}])
    core, _, _, _ = core_with(rasa)
    _break_cases_table()
    answer = await core.handle(Message("web", "resident-9", payload="/request_contact"))
    assert answer.messages == [BotMessage(TEXTS["degraded"])]


async def test_the_safe_word_answers_neutrally_even_if_erasing_fails(db_url, monkeypatch):
    from bot.storage import residents

    def broken(sender):
        raise RuntimeError("database gone")

    monkeypatch.setattr(residents, "forget", broken)
    core, _, _, _ = core_with(ScriptedRasa())
    answer = await core.handle(Message("web", "resident-10", text="thoát"))
    assert answer.messages == [BotMessage(TEXTS["safe_word_reply"])] and answer.erased


def test_quick_exit_during_a_pending_reply_leaves_no_conversation_stored(db_url):
    """The web page's quick exit arrives while Rasa still answers the last message; Rasa saves
    the conversation as its turn ends. Erasing waits for that turn, and a save of a
    conversation begun before the erasure is refused. (Virtual time: a pause lets every
    task run as far as it can, however slow the machine.)"""
    import asyncio

    from bot.storage import conversations
    from bot.storage.models import utcnow
    from tests.fakes.clock import run

    async def scenario():
        in_rasa, release = asyncio.Event(), asyncio.Event()

        class SlowRasa(ScriptedRasa):
            async def send(self, sender, message, channel):
                began = utcnow()
                in_rasa.set()
                await release.wait()
                conversations.store(sender, b'{"events": []}', began)  # what Rasa's tracker store does
                return [{"text": "…"}]

        core, _, _, _ = core_with(SlowRasa())
        turn = asyncio.create_task(core.handle(Message("web", "resident-11", text="xin chào")))
        await in_rasa.wait()
        exit_ = asyncio.create_task(core.forget("web", "resident-11"))
        await asyncio.sleep(1)  # virtual: the erasure has run as far as it can
        assert not exit_.done()  # it waits for the turn in flight
        release.set()
        await asyncio.gather(turn, exit_)
        return core

    core = run(scenario())
    sender = core.sender_of(Message("web", "resident-11"))
    assert conversations.load(sender) is None
    late = utcnow()
    assert not conversations.store(sender, b"{}", late.replace(year=late.year - 1))  # an older turn
    assert conversations.store(sender, b"{}", utcnow())  # a new conversation after the exit


def test_a_location_is_rounded_to_about_100_m_before_anything_can_store_it():
    message = Message("telegram", "resident", location=(16.5216034, 107.4800081))
    assert message.location == (16.522, 107.48)
    assert ConversationCore._rasa_text(message, None) == '/share_location{"lat": 16.522, "lon": 107.48}'


async def _consent_asked(core, service, platform_id: str) -> str:
    """A referred case closed with a follow-up: the consent question went to the resident."""
    sender = core.sender_of(Message("telegram", platform_id))
    report = await service.report(sender=sender, channel="telegram", category="danger_to_life", reply_to=platform_id)
    await service.drain()
    service.close(report.case_id, "admin", "referred_health", follow_up_days=3)
    assert await checkin.ask_consent(service, report.case_id)
    return report.case_id


def test_the_check_in_consent_question_does_not_mention_danger():
    assert not DANGER.search(TEXTS["check_in_consent_question"]) and not DANGER.search(TEXTS["check_in_question"])


async def test_yes_right_after_the_check_in_consent_question_is_consent_not_danger(db_url):
    rasa = ScriptedRasa(_as_rasa(DOMAIN["responses"]["utter_child_abuse"][0]))
    core, service, sender, _ = core_with(rasa)
    await core.handle(Message("telegram", "resident-9", text="cháu tôi bị đánh"))  # the reply mentions danger
    assert await core.store.get("danger", core.sender_of(Message("telegram", "resident-9")))
    case_id = await _consent_asked(core, service, "resident-9")
    answer = await core.handle(Message("telegram", "resident-9", text="có"))
    await service.drain()
    assert answer.escalation is None and answer.messages[0].text == TEXTS["check_in_thanks_agree"]
    assert rasa.received == ["cháu tôi bị đánh"]  # answered before Rasa
    with session_scope() as session:
        assert session.get(Case, case_id).check_in_consent is True
        assert session.scalar(select(Case).where(Case.status != "closed")) is None  # no new case
    again = await core.handle(Message("telegram", "resident-9", text="có"))  # only right after the question
    assert rasa.received[-1] == "có" and again.escalation is None


async def test_danger_right_after_the_check_in_consent_question_still_escalates(db_url):
    rasa = ScriptedRasa([{"text": "…", "custom": {"signal": "urgent"}}])
    core, service, _, _ = core_with(rasa)
    case_id = await _consent_asked(core, service, "resident-10")
    answer = await core.handle(Message("telegram", "resident-10", text="cứu tôi, chồng tôi đang đánh tôi"))
    await service.drain()
    assert answer.escalation is not None and answer.escalation["case_id"] != case_id
    with session_scope() as session:
        assert session.get(Case, case_id).check_in_consent is None


async def test_a_check_in_button_is_answered_by_the_core_and_recorded(db_url):
    from bot.channels.messaging import valid_payload

    core, service, sender, _ = core_with(ScriptedRasa())
    case_id = await _consent_asked(core, service, "resident-11")
    no = sender.resident_buttons[-1][1]
    assert valid_payload(no.payload)
    answer = await core.handle(Message("telegram", "resident-11", payload=no.payload))
    assert answer.messages[0].text == TEXTS["check_in_thanks_decline"]
    with session_scope() as session:
        assert session.get(Case, case_id).check_in_consent is False
    service.now.at += timedelta(days=3)
    assert await checkin.send_due(service) == 0


async def test_a_web_resident_gets_the_consent_question_on_the_next_poll(db_url):
    core, service, _, _ = core_with(ScriptedRasa())
    sender = core.sender_of(Message("web", "resident-12"))
    report = await service.report(sender=sender, channel="web", category="danger_to_life", reply_to="resident-12")
    await service.drain()
    service.close(report.case_id, "admin", "referred_shelter", follow_up_days=7)
    assert await checkin.ask_consent(service, report.case_id)
    update = await core.updates("web", "resident-12")
    assert update.escalation is None and update.messages[0].text.endswith(TEXTS["check_in_consent_question"])
    assert [b.title for b in update.messages[0].buttons] == ["Có", "Không"]
    assert (await core.updates("web", "resident-12")).messages == []
