"""Low-confidence turns: offer the closest topics as buttons instead of a dead end."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot import content

# What each intent is called on a button (bot/content/texts.yml, suggest_<intent>).
# Intents without a title are never suggested.
TOPIC_TITLES: dict[str, str] = {
    name.removeprefix("suggest_"): title for name, title in content.texts().items()
    if name.startswith("suggest_") and name != "suggest_all"
}
FALLBACK_TOPICS = ["find_shelter", "ask_rights", "ask_how_to_report"]


def closest_topics(ranking: list[dict[str, Any]], limit: int = 3) -> list[str]:
    topics = [r["name"] for r in ranking if r.get("name") in TOPIC_TITLES][:limit]
    for topic in FALLBACK_TOPICS:
        if len(topics) >= limit:
            break
        if topic not in topics:
            topics.append(topic)
    return topics


class ActionSuggestTopics(Action):
    def name(self) -> str:
        return "action_suggest_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        ranking = tracker.latest_message.get("intent_ranking") or []
        buttons = [{"title": TOPIC_TITLES[t], "payload": f"/{t}"} for t in closest_topics(ranking)]
        buttons.append({"title": content.text("suggest_all"), "payload": "/menu"})
        dispatcher.utter_message(text=content.text("not_sure"), buttons=buttons)
        return [UserUtteranceReverted()]
