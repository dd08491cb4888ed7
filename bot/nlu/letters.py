"""Reading a letter: what it is about (several topics) and what it asks.

A resident's letter is a story plus one or more questions. `TopicReader` scores every topic of
`TOPICS` on the whole letter and on its question sentences (one-vs-rest logistic regression
over folded word and character n-grams), and returns the topics above a threshold, the
ones the questions ask about first. It is trained on the real-letter corpus
(`nlu_data/letters/`, docs/corpus.md), short written seeds and the intent examples of
`nlu_data/nlu/` (an intent such as `ask_divorce_custody` names its topics in `INTENT_TOPICS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlu.normalize import fold, marked_regex, matchable
from bot.nlu.triage import is_letter, sentences

TOPICS: tuple[str, ...] = (
    "physical", "psychological", "economic", "sexual_violence", "child_abuse", "divorce", "custody",
    "property", "protection_order", "report_police", "penalties", "forensic", "legal_aid", "shelter",
    "harassment", "online_abuse", "trafficking", "forced_marriage", "elder_abuse", "mediation",
    "threats_stalking", "self_harm", "help_other", "perpetrator", "emotional",
)
# Topics that tell of violence done to someone (a disclosure): the bot asks whether it is
# safe to talk before it answers, instead of answering a law question straight away.
DISCLOSURE = frozenset({
    "physical", "psychological", "economic", "sexual_violence", "child_abuse", "trafficking",
    "forced_marriage", "elder_abuse", "threats_stalking", "harassment", "online_abuse",
})
# The topics an intent's examples are about (short messages teach the topic reader too).
INTENT_TOPICS: dict[str, tuple[str, ...]] = {
    "ask_divorce_custody": ("divorce", "custody"),
    "ask_protection_order": ("protection_order",),
    "ask_how_to_report": ("report_police",),
    "ask_penalties": ("penalties",),
    "ask_legal_aid": ("legal_aid",),
    "find_shelter": ("shelter",),
    "child_abuse": ("child_abuse",),
    "sexual_harassment": ("harassment",),
    "help_someone_else": ("help_other",),
    "perpetrator_help": ("perpetrator",),
    "emotional_support": ("emotional",),
    "self_harm": ("self_harm",),
}

_QUESTION = marked_regex(
    r"(\?|\b(có được không|được không|được ko|có không|không ạ|không vậy|phải làm sao|làm sao|làm thế nào|"
    r"thế nào|như thế nào|ra sao|bao nhiêu|ở đâu|có nên|nên làm gì|nên thế nào|xin hỏi|cho (tôi|em|mình|cháu) hỏi|"
    r"xin (luật sư|chuyên gia|mọi người|anh chị|tư vấn)|mong (luật sư|mọi người|chuyên gia|anh chị|được)|"
    r"nhờ (luật sư|mọi người|tư vấn)|giúp (tôi|em|mình|cháu)|có phải|hay không|có bị|có quyền|thủ tục|"
    r"làm gì|phải làm gì|cần làm gì|không biết (phải|nên|có))\b)"
)


@dataclass(frozen=True)
class Reading:
    topics: tuple[str, ...]  # most relevant first, the asked ones before the others
    asked: tuple[str, ...]  # topics the questions ask about
    letter: bool  # a story with a question rather than a short message
    questions: int = 0
    scores: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def disclosure(self) -> bool:
        return bool(DISCLOSURE & set(self.topics))



def question_sentences(text: str) -> list[str]:
    return [s for s in sentences(text) if _QUESTION.search(matchable(s))]


def load_records(directory: Path, splits: tuple[str, ...] = ("train", "seeds")) -> list[dict]:
    """Labelled texts ({"text", "topics", ...}) of the given splits, in file order."""
    records = []
    for split in splits:
        path = directory / f"{split}.jsonl"
        if path.exists():
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records


class TopicReader:
    """Multi-label topic scores for a letter, its question sentences weighed in."""

    def __init__(self, model, threshold: float = 0.2, max_topics: int = 3):
        self.model = model
        self.threshold = threshold
        self.max_topics = max_topics

    @classmethod
    def train(cls, records: list[dict], threshold: float = 0.2, c: float = 4.0, seed: int = 42) -> TopicReader:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.preprocessing import MultiLabelBinarizer

        usable = [r for r in records if r.get("text") and set(r.get("topics") or ()) <= set(TOPICS)]
        texts = [fold(r["text"]) for r in usable]
        labels = MultiLabelBinarizer(classes=list(TOPICS)).fit_transform(
            [[t for t in r["topics"] if t in TOPICS] for r in usable])
        features = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=60000),
        )
        classifier = OneVsRestClassifier(
            LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed))
        model = make_pipeline(features, classifier).fit(texts, labels)
        return cls(model, threshold)

    def scores(self, text: str) -> dict[str, float]:
        row = self.model.predict_proba([fold(text)])[0]
        return {topic: float(p) for topic, p in zip(TOPICS, row)}

    def read(self, text: str) -> Reading:
        letter = is_letter(text)
        whole = self.scores(text)
        questions = question_sentences(text) if letter else []
        asked_scores = self.scores(" ".join(questions)) if questions else {}
        combined = {t: max(whole[t], (whole[t] + asked_scores[t]) / 2) if asked_scores else whole[t] for t in TOPICS}
        ranked = sorted(TOPICS, key=lambda t: -combined[t])
        above = [t for t in ranked if combined[t] >= self.threshold]
        chosen = above[: self.max_topics]
        # What the questions clearly ask (≥ 0.5) is never crowded out by what the story tells at
        # length (a long story of control, then "can I keep the children if I divorce?").
        first = max(above, key=lambda t: asked_scores.get(t, 0), default=None)
        if first and first not in chosen and asked_scores[first] >= 0.5:
            chosen[-1] = first
        if not chosen and letter and combined[ranked[0]] >= self.threshold / 2:
            chosen = ranked[:1]  # a letter is about something: its likeliest topic
        asked = tuple(t for t in sorted(chosen, key=lambda t: -asked_scores.get(t, 0))
                      if asked_scores.get(t, 0) >= self.threshold)
        topics = asked + tuple(t for t in chosen if t not in asked)
        return Reading(topics, asked, letter, len(questions), combined)


# Intents whose examples are about none of the topics: they teach the reader to find nothing
# in "xin chào", "bạn tên gì" or "ok".
NO_TOPIC_INTENTS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "menu", "bot_challenge", "chitchat", "out_of_scope",
    "subscribe", "unsubscribe", "erase_data", "quick_exit", "ask_privacy", "inform_place", "share_location",
    "skip", "stop",
})


def intent_records(examples: list[tuple[str, str]]) -> list[dict]:
    """(intent, text) pairs from the NLU data as topic records (no topic for small talk)."""
    return [{"text": text, "topics": list(INTENT_TOPICS.get(intent, ()))} for intent, text in examples
            if intent in INTENT_TOPICS or intent in NO_TOPIC_INTENTS]
