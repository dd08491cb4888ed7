"""The risk self-check and the request to be contacted by an officer.

Ten yes/no questions adapted from the Lethality Assessment Program and the Danger
Assessment (docs/risk_check.md), one at a time, each skippable; "dừng" stops and forgets.
The answers stay in this conversation's `risk` slot (sealed with the tracker, erased with
it) and reach an officer only if the resident agrees when asking to be contacted. The
result is said in plain words, never as a score.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import content

QUESTIONS = 10
SCREEN_IN = 4  # questions 1–4 (weapon, threat to kill, "might kill me", strangulation): any yes → high
HIGH_IF_OTHERS = 3  # or this many yes among questions 5–10
ANSWER_BUTTONS = [
    {"title": content.text(f"button_{answer}"), "payload": f"/{intent}"}
    for answer, intent in (("yes", "affirm"), ("no", "deny"), ("skip", "skip"), ("stop", "stop"))
]
ANSWERS = {"affirm": "yes", "deny": "no", "skip": "skipped"}


def high_risk(answers: list[str]) -> bool:
    return "yes" in answers[:SCREEN_IN] or answers[SCREEN_IN:].count("yes") >= HIGH_IF_OTHERS


def ask_next(dispatcher: CollectingDispatcher, answers: list[str]) -> list:
    """The next question, or the result and the safety plan once all are answered."""
    if len(answers) < QUESTIONS:
        dispatcher.utter_message(response=f"utter_risk_q{len(answers) + 1}", buttons=ANSWER_BUTTONS)
        return [SlotSet("risk", {"asking": True, "answers": answers}), SlotSet("pending", "risk")]
    dispatcher.utter_message(response="utter_risk_result_high" if high_risk(answers) else "utter_risk_result_lower")
    dispatcher.utter_message(response="utter_safety_plan")
    return [SlotSet("risk", {"asking": False, "answers": answers}), SlotSet("pending", "contact_offer")]


def answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> list:
    """One answer during the check: yes, no, skip, or stop (which forgets the answers)."""
    if intent == "stop":
        dispatcher.utter_message(response="utter_risk_stopped")
        return [SlotSet("risk", None), SlotSet("pending", None)]
    answers = (tracker.get_slot("risk") or {}).get("answers") or []
    return ask_next(dispatcher, [*answers, ANSWERS.get(intent, "skipped")])


def request_contact(dispatcher: CollectingDispatcher, tracker: Tracker, share: bool | None) -> list:
    """Ask whether to share the check's answers (if any, and not asked yet); then signal the
    gateway, which opens a non-urgent case for the officers' queue and says what follows."""
    state = tracker.get_slot("risk") or {}
    answers = state.get("answers") if not state.get("asking") else None
    if answers and share is None:
        dispatcher.utter_message(response="utter_ask_share_risk")
        return [SlotSet("pending", "share")]
    shared = {"answers": answers, "high": high_risk(answers)} if answers and share else None
    dispatcher.utter_message(json_message={"signal": "contact_request", "risk": shared})
    dispatcher.utter_message(response="utter_contact_noted_shared" if shared else "utter_contact_noted")
    return [SlotSet("pending", None)]


class ActionRiskCheck(Action):
    def name(self) -> str:
        return "action_risk_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        dispatcher.utter_message(response="utter_risk_intro")
        return ask_next(dispatcher, [])


class ActionRequestContact(Action):
    """"Nhờ cán bộ liên hệ" (a button or typed words)."""

    def name(self) -> str:
        return "action_request_contact"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        return request_contact(dispatcher, tracker, share=None)
