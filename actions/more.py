"""'Xem thêm': the rest of the last answer. A response `utter_x` longer than a phone screen is
split in two; its second half is `utter_x_more`, found here from the last bot message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

MORE = "_more"


def continuation(events: list[dict[str, Any]], responses: dict[str, Any]) -> str | None:
    """The `_more` half of an answer given in the turn before this one, if it has one."""
    users = 0
    for event in reversed(events):
        users += event.get("event") == "user"
        if users > 1:
            return None
        name = (event.get("metadata") or {}).get("utter_action") if event.get("event") == "bot" else None
        if name and name + MORE in responses:
            return name + MORE
    return None


class ActionMore(Action):
    def name(self) -> str:
        return "action_more"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        dispatcher.utter_message(response=continuation(tracker.events, domain.get("responses") or {}) or "utter_no_continuation")
        return []
