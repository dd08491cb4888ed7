"""The usefulness question: asked once per conversation after the 2nd informational answer,
never next to danger, an emergency or another yes/no question; its answer is counted and
thanked without Rasa, and a typed "có" after it is not a confirmation of danger."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.channels.messaging import valid_payload
from bot.conversation.core import ConversationCore, Message
from bot.conversation.usefulness import PAYLOAD, Usefulness, informational
from bot.storage import conversations
from bot.storage.db import session_scope
from bot.storage.models import Activity, Case
from tests.conversation.test_core import DOMAIN, ScriptedRasa, core_with

ASK = "Câu trả lời này có hữu ích với bạn không?"
YES, NO = PAYLOAD + '{"a": "yes"}', PAYLOAD + '{"a": "no"}'


def topic(name: str = "utter_topic_physical") -> list[dict]:
    """A topic answer as the gateway channel hands it over (with its response name)."""
    variant = DOMAIN["responses"][name][0]
    return [{"text": variant["text"], "buttons": variant.get("buttons") or [], "utter_action": name}]


def counted() -> dict:
    with session_scope() as session:
        return {(a.channel, a.kind): a.count for a in session.scalars(select(Activity).where(Activity.kind.like("useful%")))}


def asked(reply) -> bool:
    return any(m.text == ASK for m in reply.messages)


async def converse(core: ConversationCore, resident: str, turns: int, channel: str = "web") -> list:
    """`turns` messages in one conversation (stored after each turn, as Rasa's tracker store does)."""
    replies = []
    for _ in range(turns):
        replies.append(await core.handle(Message(channel, resident, text="cho em hỏi")))
        conversations.store(core.sender_of(Message(channel, resident)), b"state")
    return replies


async def test_asked_once_after_the_second_informational_answer_with_two_buttons(db_url):
    core, *_ = core_with(ScriptedRasa(*[topic()] * 5))
    replies = await converse(core, "r-once", 5)
    assert [asked(r) for r in replies] == [False, True, False, False, False]
    question = replies[1].messages[-1]
    assert [(b.title, b.payload) for b in question.buttons] == [("Có", YES), ("Chưa", NO)]
    assert all(valid_payload(b.payload) for b in question.buttons)  # Telegram, Zalo and web accept them


async def test_the_tap_is_counted_once_and_thanked_without_rasa(db_url):
    rasa = ScriptedRasa(topic(), topic("utter_rights"))
    core, *_ = core_with(rasa)
    await converse(core, "r-tap", 2, channel="telegram")
    reply = await core.handle(Message("telegram", "r-tap", payload=YES))
    assert [m.text for m in reply.messages] == ["Cảm ơn bạn đã cho biết."]
    again = await core.handle(Message("telegram", "r-tap", payload=YES))  # a second tap: thanked, not counted
    bare = await core.handle(Message("telegram", "r-tap", payload=PAYLOAD))  # malformed: thanked, not counted
    assert len(rasa.received) == 2 and again.messages and bare.messages
    assert counted() == {("telegram", "useful_yes"): 1}


async def test_typed_co_after_the_question_is_an_answer_not_a_confirmation_of_danger(db_url):
    rasa = ScriptedRasa(topic(), topic())
    core, service, _, _ = core_with(rasa)
    await converse(core, "r-typed", 2)
    reply = await core.handle(Message("web", "r-typed", text="Có"))
    await service.drain()
    with session_scope() as session:
        assert reply.escalation is None and not session.scalars(select(Case)).all()
    assert len(rasa.received) == 2  # "có" never reached Rasa as an affirm of something else
    assert counted() == {("web", "useful_yes"): 1}


async def test_typed_chua_counts_no_and_an_urgent_message_is_not_an_answer(db_url):
    core, *_ = core_with(ScriptedRasa(topic(), topic(), [{"text": "…", "custom": {"signal": "urgent"}}]))
    await converse(core, "r-no", 2)
    assert (await core.handle(Message("web", "r-no", text="chưa"))).messages[0].text.startswith("Cảm ơn")
    assert counted() == {("web", "useful_no"): 1}
    core, *_ = core_with(ScriptedRasa(topic(), topic(), [{"text": "…", "custom": {"signal": "urgent"}}]))
    await converse(core, "r-urgent", 2)
    reply = await core.handle(Message("web", "r-urgent", text="có, nó đang cầm dao đòi giết em"))
    assert reply.escalation is not None and counted() == {("web", "useful_no"): 1}


async def test_another_message_closes_the_question(db_url):
    rasa = ScriptedRasa(topic(), topic(), [{"text": "Chào bạn"}], [{"text": "Vâng"}])
    core, *_ = core_with(rasa)
    await converse(core, "r-closed", 3)
    await core.handle(Message("web", "r-closed", text="có"))
    assert rasa.received[-1] == "có" and counted() == {}


DANGER_TOPIC = [{**topic()[0], "text": topic()[0]["text"] + "\n\nNếu bạn đang gặp nguy hiểm, hãy gọi 113."}]
YES_NO = [{**topic()[0], "buttons": [{"title": "Có", "payload": "/affirm"}, {"title": "Không", "payload": "/deny"}]}]


@pytest.mark.parametrize("second", [
    pytest.param(DANGER_TOPIC, id="mentions-danger"),
    pytest.param(YES_NO, id="asks-another-yes-no"),
    pytest.param([{"text": "Hãy gọi ngay 113…", "custom": {"signal": "urgent"}}], id="urgent"),
    pytest.param(topic("utter_topic_self_harm"), id="self-harm-topic"),
    pytest.param(topic("utter_emotional_support"), id="not-informational"),
    pytest.param([*topic(), {"text": "Chào bạn"}], id="informational-and-more"),
    pytest.param([{**topic()[0], "utter_action": None}], id="no-response-name"),
])
async def test_never_asked_next_to_danger_an_emergency_another_question_or_a_non_topic(db_url, second):
    core, *_ = core_with(ScriptedRasa(topic(), second))
    replies = await converse(core, "r-never", 2)
    assert not any(asked(r) for r in replies)


async def test_never_asked_when_the_message_is_urgent_or_a_case_is_open(db_url):
    core, service, _, _ = core_with(ScriptedRasa(topic(), topic(), topic()))
    await converse(core, "r-case", 1)
    reply = await core.handle(Message("web", "r-case", text="cứu em với chồng em đang cầm dao đòi giết em"))
    await service.drain()
    assert reply.escalation is not None and not asked(reply)
    assert not asked(await core.handle(Message("web", "r-case", text="cho em hỏi thêm")))  # the case is open


async def test_no_question_at_a_rate_of_zero(db_url):
    core = ConversationCore(ScriptedRasa(*[topic()] * 4), rate_per_minute=100, usefulness_percent=0)
    assert not any(asked(r) for r in await converse(core, "r-rate", 4))


async def test_the_rate_picks_conversations_reproducibly():
    async def picks() -> list[list[bool]]:
        usefulness, picked = Usefulness(50), []
        for n in range(40):
            for _conversation in range(2):
                picked.append([await usefulness.offer(f"sender-{n}", begins=turn == 0, eligible=True) for turn in range(4)])
        return picked

    first = await picks()
    assert first == await picks()  # the same conversation, the same question
    assert {tuple(p) for p in first} == {(False, True, False, False), (False, False, False, False)}


def test_informational_answers_are_recognised_by_their_response_name():
    assert informational(topic("utter_penalties_more")) and informational(topic("utter_topic_legal_aid"))
    assert not informational(topic("utter_urgent")) and not informational([]) and not informational(topic("utter_menu"))
