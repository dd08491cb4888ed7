"""Rasa tracker store: conversation state in the app database, sealed at rest, bounded in size.

One row per pseudonymous sender holds the current session's events as AES-GCM-sealed
JSON. Before saving, the tracker is compacted: only the latest session is kept, and when it
grows past `max_events` the oldest turns are replaced by the slot values they produced.
Policies look at the last few turns only (RulePolicy, MemoizationPolicy max_history 3), so
a turn costs the same at turn 300 as at turn 3, and old messages do not linger.

Configured in endpoints.yml: `tracker_store: {type: bot.storage.tracker_store.EncryptedTrackerStore}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.storage import conversations
from bot.storage.db import session_scope
from bot.storage.models import Conversation

MAX_EVENTS = 80
KEEP_EVENTS = 40


def compact(tracker: DialogueStateTracker, max_events: int = MAX_EVENTS, keep: int = KEEP_EVENTS) -> list[Event]:
    """The latest session's events, with old turns folded into SlotSet events."""
    events = list(tracker.events)
    starts = [i for i, e in enumerate(events) if isinstance(e, SessionStarted)]
    if starts:  # keep `action_session_start` that precedes SessionStarted
        first = max(starts[-1] - 1, 0)
        events = events[first:]
    if len(events) <= max_events:
        return events
    cut = len(events) - keep
    while cut < len(events) and not isinstance(events[cut], UserUttered):
        cut += 1
    if cut >= len(events):
        return events
    # the turn must start right after an action_listen
    head = events[:cut]
    slots = {e.key: e.value for e in head if isinstance(e, SlotSet)}
    prefix: list[Event] = [e for e in head[:2] if isinstance(e, (ActionExecuted, SessionStarted))]
    prefix += [SlotSet(key, value, timestamp=events[cut].timestamp) for key, value in slots.items()]
    prefix.append(ActionExecuted("action_listen", timestamp=events[cut].timestamp))
    return prefix + events[cut:]


class EncryptedTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Sealed, compacted Rasa trackers in the `conversations` table."""

    def __init__(self, domain, host: str | None = None, event_broker=None, **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        events = compact(tracker)
        payload = {"events": [e.as_dict() for e in events], "name": tracker.sender_id}
        began = datetime.fromtimestamp(events[0].timestamp, timezone.utc) if events else None
        conversations.store(tracker.sender_id, json.dumps(payload, ensure_ascii=False).encode(), began)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raw = conversations.load(sender_id)
        if raw is None:
            return None
        payload = json.loads(raw)
        return DialogueStateTracker.from_dict(sender_id, payload["events"], self.domain.slots)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self.retrieve(sender_id)

    async def keys(self) -> Iterable[str]:
        with session_scope() as session:
            return list(session.scalars(select(Conversation.sender)))

    async def delete(self, sender_id: str) -> None:
        conversations.forget(sender_id)


__all__ = ["EncryptedTrackerStore", "compact"]
