"""The conversation core: every channel hands it a `Message` and sends back its `Reply`.

Order of work for one message: pseudonymise the sender, honour the safe word, run the
safety net on the whole text, ask Rasa, then merge: the emergency answer comes first when
the safety net saw danger and Rasa did not; when Rasa is down the resident still gets
113/115/111. Signals that Rasa responses carry as `custom` payloads ({"signal": ...})
are consumed here and never shown.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from bot import content
from bot.conversation import safety
from bot.conversation.rasa_client import RasaClient, RasaUnavailable
from bot.nlu.normalize import fold, nfc
from bot.services.escalation import Escalation
from bot.storage import residents
from bot.storage.crypto import pseudonym

log = logging.getLogger(__name__)

SAFE_WORDS = frozenset({"thoat", "thoat nhanh", "/thoat", "stop"})
END_RELAY = frozenset({"ket thuc", "/ketthuc", "ketthuc"})
URGENT_SIGNALS = {"urgent": "danger_to_life", "self_harm": "self_harm"}


@dataclass(frozen=True)
class Message:
    channel: str  # "web" | "telegram" | "zalo"
    platform_id: str  # the channel's own id for the resident (never stored)
    text: str | None = None
    payload: str | None = None  # a button payload such as "/find_shelter"
    location: tuple[float, float] | None = None


@dataclass
class Reply:
    messages: list[dict] = field(default_factory=list)
    escalation: dict | None = None
    erased: bool = False
    signals: frozenset[str] = frozenset()  # what Rasa signalled ("urgent", "subscribe", ...)


class RateLimited(Exception):
    """The sender sent more than the configured number of messages per minute."""


class FloodGuard:
    """Sliding one-minute window per sender."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._seen: dict[str, deque] = defaultdict(deque)

    def check(self, sender: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        window = self._seen[sender]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            raise RateLimited()
        window.append(now)
        if len(self._seen) > 50_000:  # forget idle senders
            for key in [k for k, w in self._seen.items() if not w or now - w[-1] > 60]:
                del self._seen[key]


def _bot_message(text: str, buttons: list[dict] | None = None) -> dict:
    return {"text": text, "buttons": buttons or []}


def _ask_danger() -> dict:
    return _bot_message(
        content.text("ask_danger"),
        [
            {"title": "Có, tôi đang nguy hiểm", "payload": "/urgent_danger"},
            {"title": "Không", "payload": "/deny"},
        ],
    )


class ConversationCore:
    def __init__(self, rasa: RasaClient, rate_per_minute: int, escalation: Escalation | None = None):
        self.rasa = rasa
        self.flood = FloodGuard(rate_per_minute)
        self.escalation = escalation

    def sender_of(self, message: Message) -> str:
        return pseudonym(message.channel, message.platform_id)

    async def handle(self, message: Message) -> Reply:
        sender = self.sender_of(message)
        self.flood.check(sender)
        text = nfc(message.text).strip() if message.text else None

        if text is not None and fold(text) in SAFE_WORDS:
            residents.forget(sender)
            log.info("safe word channel=%s", message.channel)
            return Reply([_bot_message(content.text("safe_word_reply"))], erased=True)

        if text is not None and self.escalation and fold(text) in END_RELAY and self.escalation.end_relay(sender):
            return Reply([_bot_message(content.text("relay_ended"))])

        assessment = safety.assess(text) if text else safety.NONE
        started = time.monotonic()
        try:
            answer = await self.rasa.send(sender, self._rasa_text(message, text), message.channel)
        except RasaUnavailable as error:
            answer = None
            log.warning("rasa unavailable (%s) channel=%s", error, message.channel)

        shown, signals = self._split(answer or [])
        if not shown:  # Rasa down, or an action failed (action server down)
            shown = [_bot_message(content.text("emergency" if assessment.urgent else "degraded"))]
            if assessment.urgent:
                shown.append(_bot_message(content.text("degraded")))
            signals.add("urgent" if assessment.urgent else "degraded")
        elif assessment.urgent and not signals & URGENT_SIGNALS.keys():
            shown.insert(0, _bot_message(content.text("emergency")))
        if assessment.level == "ask" and not signals & {*URGENT_SIGNALS, "asked_safety"}:
            shown.append(_ask_danger())

        reply = Reply(shown, signals=frozenset(signals))
        if self.escalation:
            await self._escalate(message, sender, text, assessment, signals, reply)
        if "erase" in signals:
            residents.forget(sender)
            reply.erased = True
        log.info(
            "turn channel=%s kind=%s safety=%s signals=%s ms=%d",
            message.channel,
            "text" if text else "payload" if message.payload else "location",
            assessment.category or assessment.level,
            ",".join(sorted(signals)) or "-",
            (time.monotonic() - started) * 1000,
        )
        return reply

    async def _escalate(self, message, sender, text, assessment, signals, reply: Reply) -> None:
        """Open or join a case when the message is urgent; keep an open case informed."""
        escalation = self.escalation
        category = assessment.category if assessment.urgent else next(
            (URGENT_SIGNALS[s] for s in URGENT_SIGNALS if s in signals), None)
        if category:
            report = await escalation.report(
                sender=sender, channel=message.channel, category=category,
                reply_to=message.platform_id, text=text,
            )
            reply.escalation = report.as_json()
            if report.created:
                key = "escalation_alerting" if report.reachable else "escalation_unreached"
                reply.messages.insert(1 if reply.messages else 0, _bot_message(content.text(key)))
                return
        else:
            case = escalation.open_case(sender)
            if case is None:
                return
            reply.escalation = {"case_id": case.id, "status": case.status}
            escalation.note_place(sender, text=text, location=message.location)
        if text:
            await escalation.resident_message(sender, text)
        if message.channel == "web":
            for note in reversed(escalation.pending_for_web(sender)):
                reply.messages.insert(0, _bot_message(note))

    def updates(self, channel: str, platform_id: str) -> Reply:
        """What reached a web resident since their last turn (an officer's relayed messages)
        and the state of their case; the chat page polls this while a case is open."""
        sender = pseudonym(channel, platform_id)
        case = self.escalation.open_case(sender) if self.escalation else None
        if case is None:
            return Reply([])
        notes = self.escalation.pending_for_web(sender)
        return Reply([_bot_message(n) for n in notes], escalation={"case_id": case.id, "status": case.status})

    def forget(self, channel: str, platform_id: str) -> bool:
        """Erase-my-data: everything stored about this resident."""
        return residents.forget(pseudonym(channel, platform_id))

    @staticmethod
    def _rasa_text(message: Message, text: str | None) -> str:
        if message.location is not None:
            lat, lon = message.location
            return "/share_location" + json.dumps({"lat": lat, "lon": lon})
        if message.payload is not None:
            return message.payload
        # A leading "/" would be read by Rasa as an intent name: residents never mean that.
        return (text or "").lstrip("/") or "?"

    @staticmethod
    def _split(answer: list[dict]) -> tuple[list[dict], set[str]]:
        shown: list[dict] = []
        signals: set[str] = set()
        for item in answer:
            custom = item.get("custom")
            if isinstance(custom, dict) and "signal" in custom:
                signals.add(str(custom["signal"]))
            if item.get("text"):
                buttons = [
                    {"title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in item.get("buttons") or []
                ]
                shown.append(_bot_message(item["text"], buttons))
        return shown, signals
