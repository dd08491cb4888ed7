"""The conversation core: every channel hands it a `Message` and sends back its `Reply`.

Order of work for one message: pseudonymise the sender, honour the safe word, triage the
whole text (bot/nlu/triage.py), ask Rasa, then merge: the emergency answer comes first when
the triage saw danger now and Rasa did not; when Rasa is down the resident still gets
113/115/111. Signals that Rasa responses carry as `custom` payloads ({"signal": ...})
are consumed here and never shown.

A reply that mentions danger ("… nguy hiểm …") and asks no other yes/no question makes the
resident's next "có" (or "vâng", "dạ có", the /affirm button…) a confirmation of danger: it is
escalated exactly as the "Tôi đang gặp nguy hiểm" button, even if Rasa is down.

Now and then an informational answer is followed by "Câu trả lời này có hữu ích với bạn
không?" (bot/conversation/usefulness.py); its answer (a tap, or a typed có/chưa/không right
after it) is counted and thanked here, never sent to Rasa, never read as danger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot import content
from bot.conversation import usefulness
from bot.conversation.rasa_client import RasaClient, RasaUnavailable
from bot.messages import BotMessage, Button
from bot.nlu import triage
from bot.nlu.normalize import fold, nfc
from bot.services import campaigns, checkin, quiz
from bot.services.campaigns import choice
from bot.services.escalation import Escalation
from bot.storage import activity, conversations, residents, subscriptions
from bot.storage.crypto import pseudonym
from bot.storage.shared import MemoryStore, Store

log = logging.getLogger(__name__)

SAFE_WORDS = frozenset({"thoat", "thoat nhanh", "/thoat", "stop"})
END_RELAY = frozenset({"ket thuc", "/ketthuc", "ketthuc"})
URGENT_SIGNALS = {"urgent": "danger_to_life", "self_harm": "self_harm"}
# Yes, as residents type it (folded). "có" after a mention of danger confirms the danger.
AFFIRMATIONS = frozenset({
    "co", "co a", "da co", "vang", "vang a", "da", "da vang", "dung", "dung roi", "dung vay", "u", "uh", "um",
    "yes", "ok", "co dang", "co toi dang", "co em dang", "co nguy hiem", "co dang nguy hiem", "phai", "dung the",
})
_DANGER_MENTION = re.compile(r"\bnguy hiem\b")
DANGER_CONFIRM_SECONDS = 30 * 60
TURN_SECONDS = 30.0  # longest turn (Rasa's timeout, the first alerts' wait) held across gateways
PUSH_CHANNELS = ("telegram", "zalo")  # can message a resident unasked (campaigns)
# Button payloads the core answers before Rasa: a campaign button (its tap is counted, then
# the topic it names opens), the quiz, the resident's check-in (bot/services/checkin.py), a
# subscriber's choice of unit and topics, and the usefulness question.
CORE_PAYLOADS = frozenset({"campaign", "quiz", "quiz_answer", "check_in", "useful"}) | choice.PAYLOADS
YES_NO_PAYLOADS = frozenset({"/affirm", "/deny", "/urgent_danger", "/report_danger"})
# What Rasa may signal on a reply that can still be followed by the usefulness question.
INFORMATIONAL_SIGNALS = frozenset({"referral"})


LOCATION_DECIMALS = 3  # about 110 m: enough to find the nearest help, not a house


# The longest text a resident may send in one message: a whole letter (real letters to advice
# columns run to a few thousand words; parsing 16,000 characters takes ≈ 0.3 s).
MAX_TEXT_IN = 16_000


@dataclass(frozen=True)
class Message:
    channel: str  # "web" | "telegram" | "zalo"
    platform_id: str  # the channel's own id for the resident (never stored)
    text: str | None = None
    payload: str | None = None  # a button payload such as "/find_shelter"
    location: tuple[float, float] | None = None  # rounded on arrival, before anything stores it

    def __post_init__(self) -> None:
        if self.location is not None:
            lat, lon = self.location
            object.__setattr__(self, "location", (round(lat, LOCATION_DECIMALS), round(lon, LOCATION_DECIMALS)))


@dataclass
class Reply:
    messages: list[BotMessage] = field(default_factory=list)
    escalation: dict | None = None
    erased: bool = False
    signals: frozenset[str] = frozenset()  # what Rasa signalled ("urgent", "subscribe", ...)
    signal_data: dict[str, dict] = field(default_factory=dict)  # the payload a signal came with


class RateLimited(Exception):
    """The sender sent more than the configured number of messages per minute."""


class SharedFloodGuard:
    """A sliding window per key (a sender, a client address): at most `limit` per `window`
    seconds, kept in the shared store (bot/storage/shared.py), so that every gateway counts
    together. Times are wall-clock seconds (the same on every gateway)."""

    def __init__(self, store: Store, name: str, limit: int, window: float = 60.0):
        self.store, self.name, self.limit, self.window = store, name, limit, window

    async def check(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if await self.store.hit(self.name, key, self.window, self.limit, now) >= self.limit:
            raise RateLimited()

    async def count(self, key: str, now: float | None = None) -> int:
        return await self.store.count(self.name, key, self.window, time.time() if now is None else now)


def _ask_danger() -> BotMessage:
    return BotMessage(
        content.text("ask_danger"),
        (Button(content.text("button_danger_yes"), "/urgent_danger"), Button(content.text("button_no"), "/deny")),
    )


def _affirms(message: Message, text: str | None) -> bool:
    return message.payload == "/affirm" or (text is not None and fold(text) in AFFIRMATIONS)


def _mentions_danger(reply: Reply) -> bool:
    """The reply speaks of danger and asks no other yes/no question."""
    asks_other = any(b.payload == "/affirm" for m in reply.messages for b in m.buttons)
    return not asks_other and any(_DANGER_MENTION.search(fold(m.text)) for m in reply.messages)


def _campaign_tap(message: Message) -> Message:
    """A campaign's button: count the tap, then open the topic it names (menu if unknown)."""
    payload = "/menu"
    try:
        data = json.loads(message.payload[len("/campaign"):])
        campaign = campaigns.get(int(data["c"]))
        if campaign is not None:
            payload = json.loads(campaign.buttons)[int(data["b"])]["payload"]
            campaigns.tap(campaign.id)
    except (ValueError, KeyError, IndexError, TypeError):
        pass
    return Message(message.channel, message.platform_id, payload=payload)


class TurnLocks:
    """One resident's messages are answered one after another, in arrival order (asyncio
    locks are FIFO), while different residents are answered concurrently. With a shared
    store the turn also holds that store's lock for the key (at most `TURN_SECONDS`), so two
    gateways never run one resident's turns at once (across gateways, not in arrival order)."""

    def __init__(self, store: Store | None = None) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}
        self.store = store

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                if self.store is None:
                    yield
                else:
                    async with self.store.lock("turn", str(key), TURN_SECONDS):
                        yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class ConversationCore:
    def __init__(self, rasa: RasaClient, rate_per_minute: int, escalation: Escalation | None = None,
                 usefulness_percent: int = 100, store: Store | None = None):
        self.rasa = rasa
        # What several gateways share (bot/storage/shared.py): the escalation service's store if
        # it has one. Per sender: the flood window, the open usefulness question, and a flag
        # (third party or not) that the last reply mentioned danger (30 min).
        self.store = store or (escalation.store if escalation else MemoryStore())
        self.usefulness = usefulness.Usefulness(usefulness_percent, self.store)
        self.flood = SharedFloodGuard(self.store, "flood", rate_per_minute)
        self.escalation = escalation
        # One resident's turns and erasures run one after another, on every gateway: a quick
        # exit waits for the turn in flight, so nothing is stored after it.
        self.turns = TurnLocks(self.store if self.store.shared else None)

    def sender_of(self, message: Message) -> str:
        return pseudonym(message.channel, message.platform_id)

    async def handle(self, message: Message) -> Reply:
        """One turn. Whatever fails after the triage (the database, an alert), the resident
        still gets an answer: the emergency text if the message is urgent, 113/115/111 otherwise."""
        sender = self.sender_of(message)
        await self.flood.check(sender)
        async with self.turns.hold(sender):
            return await self._handle(message, sender)

    async def _handle(self, message: Message, sender: str) -> Reply:
        asked = await self.usefulness.close(sender)
        if message.payload and message.payload.partition("{")[0] == usefulness.PAYLOAD:
            answer = usefulness.tapped(message.payload)
            return self._usefulness_answer(message.channel, answer if asked else None, answer)
        if message.payload and message.payload.startswith("/campaign{"):
            message = _campaign_tap(message)
        if message.payload and message.payload.startswith(("/quiz{", "/quiz_answer{")):
            return Reply(quiz.handle(sender, message.payload))
        if message.payload and message.payload.startswith(checkin.PAYLOAD + "{"):
            return Reply([BotMessage(await checkin.tapped(self.escalation, sender, message.payload))])
        if message.payload and choice.answers(message.payload):
            return Reply(choice.handle(sender, message.payload))
        text = nfc(message.text).strip() if message.text else None
        if text is not None and fold(text) in SAFE_WORDS:
            return await self._safe_word(message, sender)
        assessment = triage.assess(text) if text else triage.NONE
        consent_asked = await self.escalation.asked(sender) if self.escalation else None
        if consent_asked and text and not assessment.urgent:  # an answer to the check-in question just asked
            thanks = await checkin.typed(self.escalation, sender, consent_asked, text)
            if thanks:
                await self.store.pop("danger", sender)  # "có" here is consent, not danger
                return Reply([BotMessage(thanks)])
        typed = usefulness.typed(text) if asked and text and not assessment.urgent else None
        if typed:
            return self._usefulness_answer(message.channel, typed, typed)
        rasa_text = self._rasa_text(message, text)
        mentioned = await self.store.pop("danger", sender)
        if mentioned is not None and _affirms(message, text):
            third_party = mentioned["third_party"]
            assessment = triage.Assessment(triage.DANGER_NOW, "danger_to_life", "confirmed", third_party)
            rasa_text = "/report_danger" if third_party else "/urgent_danger"
        try:
            return await self._turn(message, sender, text, rasa_text, assessment)
        except Exception as error:  # never a 500 to someone who may be in danger
            log.error("turn failed after the triage (%s) channel=%s safety=%s",
                      type(error).__name__, message.channel, assessment.rule or assessment.level)
            if assessment.urgent:
                return Reply([BotMessage(content.text("emergency")), BotMessage(content.text("degraded"))],
                             signals=frozenset({"urgent", "degraded"}))
            return Reply([BotMessage(content.text("degraded"))], signals=frozenset({"degraded"}))

    async def _safe_word(self, message: Message, sender: str) -> Reply:
        """"thoát": erase and answer neutrally, even if the erasure fails (it is logged)."""
        try:
            await self._erase(sender)
        except Exception as error:
            log.error("safe word: erasing failed (%s) channel=%s", type(error).__name__, message.channel)
        log.info("safe word channel=%s", message.channel)
        return Reply([BotMessage(content.text("safe_word_reply"))], erased=True)

    async def _turn(self, message: Message, sender: str, text: str | None, rasa_text: str,
                    assessment: triage.Assessment) -> Reply:
        if text is not None and self.escalation and fold(text) in END_RELAY and self.escalation.end_relay(sender):
            return Reply([BotMessage(content.text("relay_ended"))])

        started = time.monotonic()
        begins = self._begins(sender)
        try:
            answer = await self.rasa.send(sender, rasa_text, message.channel)
        except RasaUnavailable as error:
            answer = None
            log.warning("rasa unavailable (%s) channel=%s", error, message.channel)

        shown, signals, data = self._split(answer or [])
        if not shown:  # Rasa down, or an action failed (action server down)
            shown = [BotMessage(content.text("emergency" if assessment.urgent else "degraded"))]
            if assessment.urgent:
                shown.append(BotMessage(content.text("degraded")))
            signals.add("urgent" if assessment.urgent else "degraded")
        elif assessment.urgent and not signals & URGENT_SIGNALS.keys():
            shown.insert(0, BotMessage(content.text("emergency")))
        if assessment.asks and not signals & URGENT_SIGNALS.keys() and not _mentions_danger(Reply(shown)):
            shown.append(_ask_danger())

        reply = Reply(shown, signals=frozenset(signals), signal_data=data)
        if self.escalation:
            await self._escalate(message, sender, text, assessment, signals, reply)
        elif "contact_request" in signals:
            reply.messages.append(BotMessage(content.text("contact_unavailable")))
        if _mentions_danger(reply) and not signals & URGENT_SIGNALS.keys():
            await self.store.put("danger", sender, {"third_party": assessment.third_party}, DANGER_CONFIRM_SECONDS)
        if await self.usefulness.offer(sender, begins, self._offers_usefulness(answer, assessment, signals, reply)):
            reply.messages.append(usefulness.question())
        if self._subscription(message, sender, signals):
            reply.messages.append(choice.ask_unit())
        self._count(message.channel, begins, signals, data)
        if "erase" in signals:
            await self._erase(sender)
            reply.erased = True
        log.info(
            "turn channel=%s kind=%s safety=%s signals=%s ms=%d",
            message.channel,
            "text" if text else "payload" if message.payload else "location",
            assessment.rule or assessment.level,
            ",".join(sorted(signals)) or "-",
            (time.monotonic() - started) * 1000,
        )
        return reply

    @staticmethod
    def _offers_usefulness(answer: list[dict] | None, assessment: triage.Assessment, signals: set[str],
                           reply: Reply) -> bool:
        """Only after a plain informational answer: not urgent, no case, no other yes/no, no danger."""
        return (
            usefulness.informational(answer or [])
            and not assessment.urgent and not assessment.asks
            and signals <= INFORMATIONAL_SIGNALS
            and reply.escalation is None
            and not _mentions_danger(reply)
            and not any(b.payload in YES_NO_PAYLOADS for m in reply.messages for b in m.buttons)
        )

    @staticmethod
    def _usefulness_answer(channel: str, counted: str | None, answer: str | None) -> Reply:
        """Count the answer to an open usefulness question (kind useful_yes/useful_no, no sender,
        no text), and thank; a stale or repeated tap is thanked, not counted."""
        if counted:
            try:
                activity.record(channel, activity.USEFUL + counted)
            except Exception as error:
                log.warning("activity not counted (%s) channel=%s", type(error).__name__, channel)
        log.info("usefulness channel=%s counted=%s", channel, counted or "-")
        return Reply([usefulness.thanks(answer)])

    @staticmethod
    def _subscription(message: Message, sender: str, signals: set[str]) -> bool:
        """Campaign messages: the resident opts in or out (button, command or Rasa's signal).
        Only channels that can send unasked keep a subscription (not the web page). True when
        the resident is now subscribed: the reply then offers the choice of unit and topics."""
        change = next((c for c in ("unsubscribe", "subscribe") if message.payload == f"/{c}" or c in signals), None)
        if change == "subscribe" and message.channel in PUSH_CHANNELS:
            subscriptions.subscribe(sender, message.channel, message.platform_id)
            return True
        if change == "unsubscribe":
            subscriptions.unsubscribe(sender)
        return False

    @staticmethod
    def _begins(sender: str) -> bool:
        try:
            return conversations.begins_conversation(sender)
        except Exception as error:  # a count may be lost, never the turn
            log.warning("conversation start unknown (%s)", type(error).__name__)
            return False

    @staticmethod
    def _count(channel: str, begins: bool, signals: set[str], data: dict[str, dict]) -> None:
        """Anonymous counters for the reports (bot/storage/activity.py): a conversation began,
        a disclosure was read, a referral of a kind was given (Rasa's `disclosure` and
        `referral` signals). A failure costs a count, never the reply."""
        try:
            if begins:
                activity.record(channel, activity.CONVERSATION)
            if "disclosure" in signals:
                activity.record(channel, activity.DISCLOSURE)
            if "referral" in signals:
                referral = data["referral"]
                activity.record(channel, activity.REFERRAL + str(referral.get("kind")), referral.get("unit"))
        except Exception as error:
            log.warning("activity not counted (%s) channel=%s", type(error).__name__, channel)

    async def _escalate(self, message, sender, text, assessment, signals, reply: Reply) -> None:
        """Open or join a case when the message is urgent, or queue a request for contact;
        keep an open case informed."""
        escalation = self.escalation
        category = assessment.category if assessment.urgent else next(
            (URGENT_SIGNALS[s] for s in URGENT_SIGNALS if s in signals), None)
        if category:
            request = dict(sender=sender, channel=message.channel, category=category,
                           reply_to=message.platform_id, text=text, third_party=assessment.third_party,
                           evidence=assessment.urgent and assessment.rule != "confirmed")
            try:
                report = await escalation.report(**request)
            except Exception:  # the database: the resident gets 113 now, the officers later
                escalation.report_later(**request)
                raise
            reply.escalation = report.as_json()
            if report.created:
                key = "escalation_unreached" if not report.reachable else (
                    "escalation_alerting_other" if assessment.third_party else "escalation_alerting")
                reply.messages.insert(1 if reply.messages else 0, BotMessage(content.text(key)))
                return
        elif "contact_request" in signals:
            report = await escalation.request_contact(
                sender=sender, channel=message.channel, reply_to=message.platform_id, text=text,
                shared=reply.signal_data.get("contact_request", {}).get("risk"),
            )
            reply.escalation = report.as_json()
            reply.messages.append(BotMessage(content.text("contact_queued" if report.reachable else "contact_unavailable")))
            return
        else:
            case = escalation.open_case(sender)
            if case is None:
                if message.channel == "web":  # a check-in question after the case was closed
                    reply.messages[:0] = await escalation.pending_for_web(sender)
                return
            reply.escalation = {"case_id": case.id, "status": case.status}
            escalation.note_place(sender, text=text, location=message.location)
        if text:
            await escalation.resident_message(sender, text)
        if message.channel == "web":
            reply.messages[:0] = await escalation.pending_for_web(sender)

    async def updates(self, channel: str, platform_id: str) -> Reply:
        """What reached a web resident since their last turn (an officer's relayed messages,
        a check-in question) and the state of their case; the chat page polls this."""
        if self.escalation is None:
            return Reply([])
        sender = pseudonym(channel, platform_id)
        case = self.escalation.open_case(sender)
        notes = await self.escalation.pending_for_web(sender)
        return Reply(notes, escalation={"case_id": case.id, "status": case.status} if case else None)

    async def forget(self, channel: str, platform_id: str) -> bool:
        """Erase-my-data and quick exit: everything stored about this resident, after the turn
        in flight (if any) has finished."""
        sender = pseudonym(channel, platform_id)
        async with self.turns.hold(sender):
            return await self._erase(sender)

    async def _erase(self, sender: str) -> bool:
        """The resident left: their data goes, and an open case stops talking to them."""
        await self.store.forget(sender, "danger", *usefulness.NAMES)
        if self.escalation:
            await self.escalation.resident_left(sender)
        return residents.forget(sender)

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
    def _split(answer: list[dict]) -> tuple[list[BotMessage], set[str], dict[str, dict]]:
        """Rasa's JSON answer → what is shown, the signals and their data."""
        shown: list[BotMessage] = []
        signals: set[str] = set()
        data: dict[str, dict] = {}
        for item in answer:
            custom = item.get("custom")
            if isinstance(custom, dict) and "signal" in custom:
                signals.add(str(custom["signal"]))
                data[str(custom["signal"])] = custom
            if item.get("text"):
                buttons = tuple(Button(b.get("title", ""), b.get("payload", "")) for b in item.get("buttons") or [])
                shown.append(BotMessage(item["text"], buttons))
        return shown, signals, data
