"""The one-tap "Câu trả lời này có hữu ích với bạn không?" (indicator 13, docs/indicators.md).

Asked at most once per conversation: at its second informational answer (a topic answer,
recognised by Rasa's response name), in a configurable share of conversations
(`GBVBOT_USEFULNESS_PERCENT`) picked by a hash of the sender's pseudonym and the conversation's
number, so the same conversation always gets the same question. The core never
attaches it to a reply that mentions danger, asks another yes/no question, is urgent or belongs
to an open case (see `ConversationCore._offers_usefulness`).

The answer is the next message only: a tap on "Có"/"Chưa" (`/useful{"a":"yes"}`), or a typed
"có"/"vâng"/"chưa"/"không" (nothing that mentions danger, nothing the triage finds urgent).
Either is counted once, answered with a thanks, and never reaches Rasa; a typed "có" there is not a confirmation of danger (the
question never follows a mention of danger). Any other message closes the question unanswered.
State is in the shared store (bot/storage/shared.py: this process's memory, or Redis shared by
every gateway): losing it (a restart without Redis) forgets an open question, costing a count,
never a reply.
"""

from __future__ import annotations

import hashlib
import json
import re

from bot import content
from bot.messages import BotMessage, Button
from bot.nlu.normalize import fold
from bot.storage.shared import MemoryStore, Store

PAYLOAD = "/useful"
ANSWER_SECONDS = 30 * 60
OFFER_AT = 2  # the question follows the conversation's 2nd informational answer
# Rasa responses that inform (a topic's answer and its "Xem thêm"), not those that comfort,
# ask, or speak of danger to life.
INFORMATIONAL = re.compile(
    r"utter_(topic_(?!self_harm\b)[a-z_]+|what_is_violence|forms_violence|rights|how_to_report|protection_order"
    r"|penalties|legal_aid|child_abuse|sexual_harassment|divorce_custody|help_someone_else|perpetrator_help)(_more)?"
)
# Typed answers (folded). Nothing that speaks of danger: "có nguy hiểm" goes the usual way.
YES = frozenset({"co", "co a", "da co", "vang", "vang a", "da vang", "u", "uh", "ok", "yes", "co huu ich", "huu ich"})
NO = frozenset({"khong", "khong a", "chua", "chua a", "no", "khong huu ich", "chua huu ich", "chua lam"})
COUNT_SECONDS = 7 * 24 * 3600  # a sender's answers are counted while they keep writing
NAMES = ("useful", "useful_open")  # the store's names: answers so far, the open question


def question() -> BotMessage:
    return BotMessage(content.text("useful_ask"), (
        Button(content.text("useful_button_yes"), PAYLOAD + json.dumps({"a": "yes"})),
        Button(content.text("useful_button_no"), PAYLOAD + json.dumps({"a": "no"})),
    ))


def thanks(answer: str | None) -> BotMessage:
    return BotMessage(content.text("useful_thanks_no" if answer == "no" else "useful_thanks"))


def tapped(payload: str) -> str | None:
    """"yes" / "no" from a button's payload, None if malformed."""
    try:
        answer = json.loads(payload[len(PAYLOAD):]).get("a")
    except (ValueError, AttributeError):
        return None
    return answer if answer in ("yes", "no") else None


def typed(text: str) -> str | None:
    """"yes" / "no" from a typed answer, None for anything else."""
    folded = fold(text)
    return "yes" if folded in YES else "no" if folded in NO else None


def informational(answer: list[dict]) -> bool:
    """Every text Rasa sent is an informational answer (and there is at least one)."""
    shown = [item for item in answer if item.get("text")]
    return bool(shown) and all(INFORMATIONAL.fullmatch(str(item.get("utter_action", ""))) for item in shown)


class Usefulness:
    """Per sender, in the shared store: the conversation's number and its informational answers
    so far, and whether an asked question may still be answered (for ANSWER_SECONDS)."""

    def __init__(self, percent: int, store: Store | None = None):
        self.percent = percent
        self.store = store or MemoryStore()

    async def close(self, sender: str) -> bool:
        """The question is answered by the next message or not at all: was one open?"""
        return await self.store.pop("useful_open", sender) is not None

    async def offer(self, sender: str, begins: bool, eligible: bool) -> bool:
        """Count this answer and say whether to ask now (then the question is open)."""
        conversation, count = await self.store.get("useful", sender) or (0, 0)
        if begins or eligible:  # otherwise nothing changed (one round trip fewer with Redis)
            conversation, count = (conversation + 1, 0) if begins else (conversation, count)
            count += eligible
            await self.store.put("useful", sender, (conversation, count), COUNT_SECONDS)
        ask = eligible and count == OFFER_AT and self._sampled(sender, conversation)
        if ask:
            await self.store.put("useful_open", sender, 1, ANSWER_SECONDS)
        return ask

    def _sampled(self, sender: str, conversation: int) -> bool:
        digest = hashlib.sha256(f"{sender}:{conversation}".encode()).digest()
        return int.from_bytes(digest[:2], "big") % 100 < self.percent
