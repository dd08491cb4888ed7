"""The counters behind the reports: the conversation core counts a conversation when one
begins, a disclosure and a referral when Rasa's answer signals them, per channel and unit and
never with who; the actions send those signals."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import inspect, select

from actions.letters import ActionReadLetter
from bot.conversation.core import Message
from bot.storage import conversations
from bot.storage.db import engine, session_scope
from bot.storage.models import Activity, utcnow
from tests.conversation.test_core import ScriptedRasa, core_with
from tests.services.reports.synthetic import HT


def _counters() -> dict:
    with session_scope() as session:
        return {(a.channel, a.unit, a.kind): a.count for a in session.scalars(select(Activity))}


async def test_conversations_disclosures_and_referrals_are_counted_without_who(db_url):
    rasa = ScriptedRasa(
        [{"text": "Chào bạn"}],
        [{"text": "Cảm ơn bạn đã kể", "custom": {"signal": "disclosure"}}],
        [{"text": "Công an gần bạn"}, {"custom": {"signal": "referral", "kind": "police", "unit": HT}}],
        [{"text": "Chào bạn"}],
    )
    core, *_ = core_with(rasa)
    resident = Message("telegram", "4242", text="xin chào")
    reply = await core.handle(resident)
    assert reply.messages[0].text == "Chào bạn"
    conversations.store(core.sender_of(resident), b"state")  # what Rasa's tracker store does after a turn
    await core.handle(Message("telegram", "4242", text="mình muốn kể chuyện nhà mình"))
    reply = await core.handle(Message("telegram", "4242", payload="/find_police"))
    assert [m.text for m in reply.messages] == ["Công an gần bạn"]  # never shown
    await core.handle(Message("web", "another-session", text="xin chào"))
    assert _counters() == {
        ("telegram", "", "conversation"): 1, ("telegram", "", "disclosure"): 1,
        ("telegram", HT, "referral:police"): 1, ("web", "", "conversation"): 1,
    }
    assert {c["name"] for c in inspect(engine()).get_columns("activity")} == {"day", "channel", "unit", "kind", "count"}


def test_a_conversation_begins_after_an_hour_of_silence(db_url):
    conversations.store("p1", b"state")
    assert not conversations.begins_conversation("p1")
    assert conversations.begins_conversation("p1", now=utcnow() + timedelta(minutes=61))
    assert conversations.begins_conversation("p2")


def _tracker(letter: dict) -> Tracker:
    message = {"intent": {"name": "disclose_abuse"}, "letter": letter, "text": "…"}
    return Tracker("s", {}, message, [], False, None, {}, "")


def test_a_disclosure_is_signalled_once_by_the_letter_reader():
    dispatcher = CollectingDispatcher()
    ActionReadLetter().run(dispatcher, _tracker({"disclosure": True, "topics": ["divorce"]}), {"responses": {}})
    assert [m["custom"] for m in dispatcher.messages if m.get("custom")] == [{"signal": "disclosure"}]
    dispatcher = CollectingDispatcher()
    ActionReadLetter().run(dispatcher, _tracker({"topics": ["divorce"]}), {"responses": {}})
    assert not [m for m in dispatcher.messages if m.get("custom")]
