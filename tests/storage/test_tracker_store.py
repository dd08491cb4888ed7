"""Rasa conversation state: sealed at rest, bounded in size, erased on request."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.storage import conversations
from bot.storage.db import session_scope
from bot.storage.models import Conversation, utcnow
from bot.storage.tracker_store import EncryptedTrackerStore, compact

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, inform_place]
entities: [place]
slots:
  place:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: place}]
responses:
  utter_greet: [{text: "Chào bạn"}]
"""
)


def conversation(turns: int, sender: str = "w-test") -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for i in range(turns):
        events += [
            UserUttered(f"tin nhắn bí mật số {i}", {"name": "greet", "confidence": 1.0}),
            *([SlotSet("place", "Phường Kim Trà")] if i == 1 else []),
            ActionExecuted("utter_greet"),
            BotUttered("Chào bạn"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def test_long_conversations_are_compacted_but_keep_slots_and_recent_turns():
    tracker = conversation(300)
    events = compact(tracker)
    assert len(events) <= 80
    assert isinstance(events[1], SessionStarted)
    assert SlotSet("place", "Phường Kim Trà") in events
    assert [e.text for e in events if isinstance(e, UserUttered)][-1] == "tin nhắn bí mật số 299"
    assert "tin nhắn bí mật số 1" not in [e.text for e in events if isinstance(e, UserUttered)]
    rebuilt = DialogueStateTracker.from_events("x", events, DOMAIN.slots)
    assert rebuilt.get_slot("place") == "Phường Kim Trà"
    assert rebuilt.latest_action_name == "action_listen"


def test_short_conversations_are_kept_whole():
    tracker = conversation(5)
    assert compact(tracker) == list(tracker.events)


def test_only_the_latest_session_is_kept():
    tracker = conversation(3)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    events = compact(tracker)
    assert not any(isinstance(e, UserUttered) for e in events)


def test_state_is_sealed_at_rest_and_round_trips(db_url):
    store = EncryptedTrackerStore(DOMAIN)
    tracker = conversation(4, sender="w-abc")
    asyncio.run(store.save(tracker))
    with session_scope() as session:
        sealed = session.scalar(select(Conversation.state))
    assert b"tin nh" not in sealed and "bí mật".encode() not in sealed
    restored = asyncio.run(store.retrieve("w-abc"))
    assert [e.text for e in restored.events if isinstance(e, UserUttered)] == [
        f"tin nhắn bí mật số {i}" for i in range(4)
    ]
    assert restored.get_slot("place") == "Phường Kim Trà"
    assert asyncio.run(store.retrieve("w-other")) is None


def test_erase_and_retention_delete_conversations(db_url):
    conversations.store("w-1", b"{}")
    conversations.store("w-2", b"{}")
    assert conversations.forget("w-1") is True
    assert conversations.forget("w-1") is False
    assert conversations.purge_older_than(30) == 0
    assert conversations.purge_older_than(30, now=utcnow() + timedelta(days=31)) == 1
    assert conversations.load("w-2") is None
