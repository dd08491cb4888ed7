"""`action_followup`: every yes, no, "bỏ qua" and "dừng" goes here, and the `pending` slot
says what question it answers (set by the action that asked it):

| pending | yes | no |
|---|---|---|
| `danger` (are you in danger now?) | the emergency answer | the letter's answers |
| `safe` (is it safe to talk?) | the letter's answers | how to leave safely |
| `risk` (a self-check question) | next question | next question |
| `share` (send the answers to the officer?) | contact, answers shared | contact, not shared |
| `contact_offer` (after the self-check) | ask about sharing | the menu |

A "có" after a reply that mentioned danger never reaches this table: the gateway turns it
into `/urgent_danger` first (bot/conversation/core.py), so that also works with Rasa down.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import risk_check
from actions.letters import answer_topics


class ActionFollowup(Action):
    def name(self) -> str:
        return "action_followup"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        pending = tracker.get_slot("pending")
        yes = intent == "affirm"
        if pending == "risk" and intent in ("affirm", "deny", "skip", "stop"):
            return risk_check.answer(dispatcher, tracker, intent)
        if pending == "share" and intent in ("affirm", "deny"):
            return risk_check.request_contact(dispatcher, tracker, share=yes)
        if pending == "contact_offer" and yes:
            return risk_check.request_contact(dispatcher, tracker, share=None)
        if pending == "danger" and yes:
            dispatcher.utter_message(response="utter_urgent")
        elif pending == "safe" and intent == "deny":
            dispatcher.utter_message(response="utter_safe_to_talk_no")
        elif pending in ("danger", "safe") and intent in ("affirm", "deny"):
            dispatcher.utter_message(response="utter_answer_intro")
            topics = list((tracker.get_slot("letter") or {}).get("topics") or [])
            if not answer_topics(dispatcher, topics, domain):
                dispatcher.utter_message(response="utter_safe_to_talk_yes")
        elif yes:
            dispatcher.utter_message(response="utter_affirm_no_context")
        else:
            dispatcher.utter_message(response="utter_menu")
        return [SlotSet("pending", None)]
