"""A subscriber's optional choice of phường/xã and campaign topics, made with buttons right
after /dangky (and again whenever they send /dangky). The conversation core answers these
payloads itself, before Rasa:

  /subscription_unit{"unit": "Phường …"}     a unit of the area; without JSON: no unit
  /subscription_topics{"topics": [...]}      the topics chosen so far; without JSON: none
  /subscription_topics{"topics": [...], "done": true}   the resident is finished

Each payload carries the whole choice, so nothing is remembered between taps. "Bỏ qua"
clears the step: no unit or no topic means every campaign for everyone, as before choosing.
The choice is stored with `subscriptions.choose`, under the pseudonym only."""

from __future__ import annotations

import json

from bot import content
from bot.geo.names import gazetteer
from bot.messages import BotMessage, Button
from bot.services.campaigns.spec import TOPICS
from bot.storage import subscriptions

UNIT = "subscription_unit"
TOPICS_CHOSEN = "subscription_topics"
PAYLOADS = frozenset({UNIT, TOPICS_CHOSEN})


def answers(payload: str) -> bool:
    return payload.startswith("/") and payload[1:].partition("{")[0] in PAYLOADS


def units() -> list[str]:
    return [unit.name for unit in gazetteer().units if unit.in_area]


def _payload(name: str, data: dict) -> str:
    return f"/{name}" + json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def ask_unit() -> BotMessage:
    buttons = [Button(name, _payload(UNIT, {"unit": name})) for name in units()]
    return BotMessage(content.text("subscription_ask_unit"), (*buttons, Button(content.text("button_skip"), f"/{UNIT}")))


def ask_topics(chosen: list[str]) -> BotMessage:
    more = [Button(content.text(f"topic_{t}"), _payload(TOPICS_CHOSEN, {"topics": [*chosen, t]}))
            for t in TOPICS if t not in chosen]
    if not chosen:
        return BotMessage(content.text("subscription_ask_topics"),
                          (*more, Button(content.text("button_skip"), f"/{TOPICS_CHOSEN}")))
    labels = ", ".join(content.text(f"topic_{t}") for t in chosen)
    done = Button(content.text("button_done"), _payload(TOPICS_CHOSEN, {"topics": chosen, "done": True}))
    return BotMessage(content.text("subscription_more_topics", topics=labels), (*more, done))


def handle(sender: str, payload: str) -> list[BotMessage]:
    """The answer to one choice payload; a payload that names no unit or topic of ours asks again."""
    name, _, raw = payload[1:].partition("{")
    try:
        data = json.loads("{" + raw) if raw else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [ask_unit() if name == UNIT else ask_topics([])]
    if name == UNIT:
        unit = data.get("unit", "")
        if unit not in ["", *units()]:
            return [ask_unit()]
        if not subscriptions.choose(sender, unit=unit):
            return [BotMessage(content.text("subscription_not_subscribed"))]
        return [ask_topics([])]
    topics = data.get("topics", [])
    if not isinstance(topics, list) or not all(t in TOPICS for t in topics):
        return [ask_topics([])]
    chosen = [t for t in TOPICS if t in topics]
    if not subscriptions.choose(sender, topics=chosen):
        return [BotMessage(content.text("subscription_not_subscribed"))]
    if not chosen or data.get("done") or len(chosen) == len(TOPICS):
        return [BotMessage(content.text("subscription_saved"))]
    return [ask_topics(chosen)]
