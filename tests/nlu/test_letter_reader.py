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


class ScriptedModel:
    """predict_proba by text: the whole letter scores the story's topics, its question the asked ones."""

    def __init__(self, by_start: dict[str, dict[str, float]]):
        self.by_start = by_start

    def predict_proba(self, texts):
        from bot.nlu.letters import TOPICS

        scores = next(s for start, s in self.by_start.items() if texts[0].startswith(start))
        return [[scores.get(topic, 0.0) for topic in TOPICS]]


LETTER = ("Nam thu nhat sau khi cuoi chong em giu het tien luong cua em va chui bo em moi ngay. "
          "Em da chiu dung suot nhieu nam, khoc mot minh moi dem ma khong dam ke voi ai. "
          "Xin hoi neu ly hon em co duoc nuoi con khong?")


def test_what_a_letter_clearly_asks_is_answered_before_what_its_story_tells_at_length():
    from bot.nlu.letters import TopicReader

    story = {"economic": 0.9, "psychological": 0.9, "emotional": 0.6, "custody": 0.3}
    reader = TopicReader(ScriptedModel({"nam thu nhat": story, "xin hoi": {"custody": 0.85, "emotional": 0.1}}))
    reading = reader.read(LETTER)
    assert reading.topics[0] == "custody" and reading.asked == ("custody",)
    assert len(reading.topics) == 3 and "economic" in reading.topics


def test_a_weakly_asked_topic_does_not_crowd_out_the_story():
    from bot.nlu.letters import TopicReader

    story = {"economic": 0.9, "psychological": 0.9, "physical": 0.8, "emotional": 0.3}
    reader = TopicReader(ScriptedModel({"nam thu nhat": story, "xin hoi": {"emotional": 0.35}}))
    assert set(reader.read(LETTER).topics) == {"economic", "psychological", "physical"}


def test_a_likely_trafficking_story_is_asked_about_even_when_three_other_topics_fill_the_answer():
    from bot.nlu.letters import TopicReader

    scores = {"emotional": 0.7, "physical": 0.4, "shelter": 0.33, "trafficking": 0.3}
    reader = TopicReader(ScriptedModel({"": scores}))
    message = Message(data={"text": LETTER, "intent": {"name": "disclose_abuse", "confidence": 0.9},
                            "intent_ranking": [{"name": "disclose_abuse", "confidence": 0.9}]})
    LetterReader({}, None, None, reader=reader).process([message])
    assert "trafficking" not in message.get("letter")["topics"]
    assert message.get("letter")["triage"] == "high_risk"  # the bot asks whether the danger is now


def test_a_story_with_no_likely_trafficking_is_not_asked_about_for_it():
    from bot.nlu.letters import TopicReader

    reader = TopicReader(ScriptedModel({"": {"emotional": 0.7, "physical": 0.4, "shelter": 0.33, "trafficking": 0.1}}))
    message = Message(data={"text": LETTER, "intent": {"name": "disclose_abuse", "confidence": 0.9},
                            "intent_ranking": [{"name": "disclose_abuse", "confidence": 0.9}]})
    LetterReader({}, None, None, reader=reader).process([message])
    assert message.get("letter")["triage"] == "none"
