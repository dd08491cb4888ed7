"""Answering what a resident wrote: a letter's topics, after one question if needed.

`action_read_letter` runs for a disclosure or a letter. It keeps what was read (topics,
triage) in the `letter` slot and asks one question first:
- high risk → "Bạn có đang gặp nguy hiểm ngay lúc này không?" (yes escalates: the gateway
  turns a "có" after any mention of danger into `/urgent_danger`; "không" → the answers);
- a first disclosure → "is it safe to talk now?" ("có" → the answers);
- otherwise it answers at once.
`action_followup` (actions/followup.py) handles the yes/no that follows, so the letter is
answered without being written again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

MAX_ANSWERS = 3
# A topic the reader found but that the intent already answers better keeps its own answer.
INTENT_TOPIC = {
    "ask_divorce_custody": "divorce", "ask_protection_order": "protection_order",
    "ask_how_to_report": "report_police", "ask_penalties": "penalties", "ask_legal_aid": "legal_aid",
    "child_abuse": "child_abuse", "sexual_harassment": "harassment", "help_someone_else": "help_other",
    "perpetrator_help": "perpetrator", "emotional_support": "emotional",
}


def answer_topics(dispatcher: CollectingDispatcher, topics: list[str], domain: dict[str, Any]) -> bool:
    """Up to three short topic answers, then what the resident can do next. False if none."""
    known = [t for t in topics if f"utter_topic_{t}" in (domain.get("responses") or {})]
    for topic in known[:MAX_ANSWERS]:
        dispatcher.utter_message(response=f"utter_topic_{topic}")
    if known:
        dispatcher.utter_message(response="utter_letter_next")
    return bool(known)


def _asked_safe_before(tracker: Tracker) -> bool:
    return any(
        e.get("event") == "bot" and (e.get("metadata") or {}).get("utter_action") == "utter_ask_safe_to_talk"
        for e in tracker.events
    )


class ActionReadLetter(Action):
    def name(self) -> str:
        return "action_read_letter"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        message = tracker.latest_message or {}
        info = dict(message.get("letter") or {})
        topics = list(info.get("topics") or [])
        intent_topic = INTENT_TOPIC.get(info.get("classified") or (message.get("intent") or {}).get("name"))
        if intent_topic and intent_topic not in topics:
            topics.insert(0, intent_topic)
        info["topics"] = topics
        if info.get("disclosure"):  # counted for the reports (no sender, no text)
            dispatcher.utter_message(json_message={"signal": "disclosure"})
        if info.get("triage") == "high_risk":
            dispatcher.utter_message(response="utter_letter_heard")
            dispatcher.utter_message(response="utter_ask_danger_other" if info.get("third_party") else "utter_ask_danger")
            return [SlotSet("letter", info), SlotSet("pending", "danger")]
        if not _asked_safe_before(tracker) and (info.get("disclosure") or not topics):
            dispatcher.utter_message(response="utter_letter_heard")
            dispatcher.utter_message(response="utter_ask_safe_to_talk")
            return [SlotSet("letter", info), SlotSet("pending", "safe")]
        dispatcher.utter_message(response="utter_letter_heard" if info.get("disclosure") else "utter_answer_intro")
        if not answer_topics(dispatcher, topics, domain):
            dispatcher.utter_message(response="utter_disclose_options")
        return [SlotSet("letter", info), SlotSet("pending", None)]
