"""Low-confidence turns: offer the closest topics as buttons instead of a dead end."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

# What each intent is called on a button. Intents missing here are never suggested.
TOPIC_TITLES: dict[str, str] = {
    "ask_what_is_violence": "Bạo lực gia đình là gì?",
    "ask_forms_violence": "Những hành vi nào là bạo lực?",
    "ask_rights": "Quyền của tôi",
    "ask_how_to_report": "Báo cho ai, ở đâu?",
    "ask_protection_order": "Cấm người gây bạo lực lại gần",
    "ask_penalties": "Mức phạt theo pháp luật",
    "ask_legal_aid": "Trợ giúp pháp lý miễn phí",
    "find_shelter": "Tìm nơi tạm lánh, địa chỉ tin cậy",
    "find_police": "Tìm công an gần tôi",
    "find_health": "Tìm cơ sở y tế",
    "child_abuse": "Trẻ em bị bạo lực, xâm hại",
    "sexual_harassment": "Bị quấy rối tình dục",
    "ask_divorce_custody": "Ly hôn, quyền nuôi con",
    "help_someone_else": "Giúp người thân, bạn bè",
    "perpetrator_help": "Tôi muốn kiểm soát cơn giận",
    "disclose_abuse": "Kể chuyện của tôi",
    "emotional_support": "Tôi đang rất buồn, sợ hãi",
    "urgent_danger": "Tôi đang gặp nguy hiểm",
    "self_harm": "Tôi đang nghĩ đến việc làm hại bản thân",
    "ask_privacy": "Trò chuyện có bí mật không?",
    "quick_exit": "Cách thoát nhanh, xóa dấu vết",
    "erase_data": "Xóa dữ liệu của tôi",
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
        buttons.append({"title": "Xem tất cả chủ đề", "payload": "/menu"})
        dispatcher.utter_message(
            text="Mình chưa chắc đã hiểu đúng ý bạn. Bạn muốn hỏi về điều nào dưới đây?\n\n"
            "Nếu bạn đang gặp nguy hiểm, hãy gọi ngay 113.",
            buttons=buttons,
        )
        return [UserUtteranceReverted()]
