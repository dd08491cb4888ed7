"""`action_find_place`: the nearest trusted address, shelter, police or health service.

Thin on purpose: the directory service ranks and words the answer; this only reads what
the resident asked for and where they are. Imports rasa_sdk, never rasa, so the action
server stays light.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import content
from bot.geo.names import Unit, gazetteer
from bot.services import directory

INTENT_KIND = {
    "find_shelter": "trusted_address",
    "find_police": "police",
    "find_health": "health",
}
DEFAULT_KIND = "trusted_address"
OTHER_KINDS = [  # the "Tìm loại khác" buttons shown after results: kind → payload
    ("trusted_address", "/find_shelter"),
    ("police", "/find_police"),
    ("health", "/find_health"),
]


def _coordinate(value: Any, bound: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -bound <= number <= bound else None


def _entity(entities: list[dict], name: str) -> Any:
    return next((e.get("value") for e in entities if e.get("entity") == name), None)


def _unit(message: dict[str, Any], tracker: Tracker) -> Unit | None:
    """Where the resident is: this message's `place` entity, a place named in its text,
    or the ward remembered from earlier in the conversation."""
    names = [_entity(message.get("entities") or [], "place")]
    names += [m.unit.name for m in gazetteer().find(message.get("text") or "")]
    names.append(tracker.get_slot("place"))
    for name in names:
        unit = gazetteer().resolve(str(name)) if name else None
        if unit is not None:
            return unit
    return None


class ActionFindPlace(Action):
    def name(self) -> str:
        return "action_find_place"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        kind = INTENT_KIND.get(intent) or tracker.get_slot("service") or DEFAULT_KIND
        entities = message.get("entities") or []
        lat = _coordinate(_entity(entities, "lat"), 90)
        lon = _coordinate(_entity(entities, "lon"), 180)
        if lat is None or lon is None:
            lat = lon = None
        unit = _unit(message, tracker) if lat is None else None
        events = [SlotSet("service", kind)]

        if lat is None and unit is None:
            dispatcher.utter_message(text=directory.format_ask_place(), buttons=[
                {"title": u.name, "payload": "/inform_place" + json.dumps({"place": u.name}, ensure_ascii=False, separators=(",", ":"))}
                for u in directory.area_units()
            ])
            return events

        unit_name = unit.name if unit else None
        found = directory.nearest(lat=lat, lon=lon, unit=unit_name, kind=kind)
        buttons = [{"title": content.text(f"place_button_{k}"), "payload": payload} for k, payload in OTHER_KINDS if k != kind]
        buttons.append({"title": content.text("place_button_menu"), "payload": "/menu"})
        text = directory.format_places(found, kind=kind, unit=unit_name)
        dispatcher.utter_message(text=text + "\n\n" + content.text("place_other_kinds"), buttons=buttons)
        if found:  # counted for the reports: a referral of this kind (no sender, no text)
            dispatcher.utter_message(json_message={"signal": "referral", "kind": kind, "unit": unit_name})
        if unit is not None:
            events.append(SlotSet("place", unit.name))
        return events
