"""After /dangky a subscriber may choose a phường/xã and topics with buttons, skip either
step, and change the choice by sending /dangky again; the core answers these taps itself
(Rasa never sees them) and stores the choice under the pseudonym only (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from bot.content import texts
from bot.conversation.core import ConversationCore, Message
from bot.storage.db import session_scope
from bot.storage.models import Subscription
from tests.conversation.test_core import ScriptedRasa

TEXTS = texts()
SUBSCRIBED = [{"text": "Cảm ơn bạn.", "custom": {"signal": "subscribe"}}]


def tap(title: str, reply) -> str:
    """The payload of the button called `title` in the reply's last message."""
    return next(b.payload for b in reply.messages[-1].buttons if b.title == title)


async def subscribe(core: ConversationCore, who: str = "42"):
    return await core.handle(Message("telegram", who, payload="/subscribe"))


def stored() -> list[tuple]:
    with session_scope() as session:
        return session.execute(select(Subscription.sender, Subscription.unit, Subscription.topics)).all()


async def test_a_new_subscriber_chooses_a_unit_and_two_topics(db_url):
    rasa = ScriptedRasa(SUBSCRIBED)
    core = ConversationCore(rasa, rate_per_minute=100)
    reply = await subscribe(core)
    offer = reply.messages[-1]
    assert offer.text == TEXTS["subscription_ask_unit"]
    assert [b.title for b in offer.buttons] == ["Phường Hương Trà", "Phường Kim Trà", "Xã Bình Điền", "Bỏ qua"]

    reply = await core.handle(Message("telegram", "42", payload=tap("Phường Kim Trà", reply)))
    assert reply.messages[-1].text == TEXTS["subscription_ask_topics"]
    reply = await core.handle(Message("telegram", "42", payload=tap("Trẻ em", reply)))
    assert "Trẻ em" in reply.messages[-1].text and "Trẻ em" not in [b.title for b in reply.messages[-1].buttons]
    reply = await core.handle(Message("telegram", "42", payload=tap("Pháp luật", reply)))
    reply = await core.handle(Message("telegram", "42", payload=tap("Xong", reply)))
    assert [m.text for m in reply.messages] == [TEXTS["subscription_saved"]]

    assert rasa.received == ["/subscribe"]  # the taps never went to Rasa
    [(sender, unit, topics)] = stored()
    assert (unit, topics) == ("Phường Kim Trà", "law;children")
    assert sender == core.sender_of(Message("telegram", "42")) and "42" not in sender


async def test_skipping_both_steps_keeps_every_campaign(db_url):
    core = ConversationCore(ScriptedRasa(SUBSCRIBED), rate_per_minute=100)
    reply = await subscribe(core)
    reply = await core.handle(Message("telegram", "42", payload=tap("Bỏ qua", reply)))
    reply = await core.handle(Message("telegram", "42", payload=tap("Bỏ qua", reply)))
    assert [m.text for m in reply.messages] == [TEXTS["subscription_saved"]]
    assert [(unit, topics) for _, unit, topics in stored()] == [(None, None)]


async def test_sending_dangky_again_changes_the_choice(db_url):
    core = ConversationCore(ScriptedRasa(SUBSCRIBED, SUBSCRIBED), rate_per_minute=100)
    reply = await subscribe(core)
    reply = await core.handle(Message("telegram", "42", payload=tap("Xã Bình Điền", reply)))
    await core.handle(Message("telegram", "42", payload=tap("Thiên tai, bão lũ", reply)))
    assert [(unit, topics) for _, unit, topics in stored()] == [("Xã Bình Điền", "disaster")]

    reply = await subscribe(core)
    reply = await core.handle(Message("telegram", "42", payload=tap("Bỏ qua", reply)))
    await core.handle(Message("telegram", "42", payload=tap("Nơi hỗ trợ", reply)))
    assert [(unit, topics) for _, unit, topics in stored()] == [(None, "support")]


async def test_a_tap_from_someone_not_subscribed_or_naming_no_unit_of_ours_stores_nothing(db_url):
    core = ConversationCore(ScriptedRasa(), rate_per_minute=100)
    reply = await core.handle(Message("zalo", "7", payload='/subscription_unit{"unit":"Phường Kim Trà"}'))
    assert [m.text for m in reply.messages] == [TEXTS["subscription_not_subscribed"]]
    web = await core.handle(Message("web", "s", payload="/subscribe"))
    assert TEXTS["subscription_ask_unit"] not in [m.text for m in web.messages]  # the web page cannot subscribe

    core = ConversationCore(ScriptedRasa(SUBSCRIBED), rate_per_minute=100)
    await subscribe(core)
    for payload in ('/subscription_unit{"unit":"Phường Hương Sơ"}', '/subscription_topics{"topics":["sports"]}',
                    '/subscription_topics{"topics":"law"}', "/subscription_unit{oops}"):
        reply = await core.handle(Message("telegram", "42", payload=payload))
        assert reply.messages[-1].buttons  # asked again
    assert [(unit, topics) for _, unit, topics in stored()] == [(None, None)]
