"""LetterReader settles the dialogue act: the classifier's urgent intent alone never raises an
alarm on a letter; the triage's danger now always does."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import LetterReader
from tests.nlu.test_triage import UNMARKED_PAST_LETTERS


def read(text: str, intent: str, confidence: float = 0.9) -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                            "intent_ranking": [{"name": intent, "confidence": confidence}]})
    LetterReader({}, None, None, reader=None).process([message])
    return message


@pytest.mark.parametrize("intent", ["urgent_danger", "self_harm", "report_danger"])
@pytest.mark.parametrize("text", UNMARKED_PAST_LETTERS)
def test_an_unmarked_story_the_classifier_calls_urgent_is_asked_about_not_escalated(text, intent):
    message = read(text, intent)
    assert message.get("intent")["name"] == "disclose_abuse"
    assert message.get("letter")["triage"] == "high_risk"
    assert message.get("letter")["classified"] == intent


@pytest.mark.parametrize("text", ["no dang danh toi", "cuu toi", "anh ta cam dao dang o ngoai cua"])
def test_a_short_unmarked_cry_is_urgent_whatever_the_classifier_said(text):
    message = read(text, "greet")
    assert message.get("intent")["name"] == "urgent_danger"
    assert message.get("letter")["triage"] == "danger_now"
