"""Zalo Official Account channel: the webhook in, customer-service messages out.

`POST /webhooks/zalo` checks `X-ZEvent-Signature: mac=<hex>`, where hex is
sha256(app_id + raw body + timestamp + OA secret key), in constant time before anything
else, answers 200 at once (Zalo wants an answer within 2 s) and handles the event in the
background: `user_send_text`, `anonymous_send_text`, `user_send_location`, `follow`,
`unfollow`; other events are acknowledged and ignored. A replayed `msg_id` is handled once.

Zalo text messages have no buttons: Rasa's buttons become numbered options and a reply
that is just a number is read as the matching button. Replies use the v3 consultation
message (`message/cs`), quoting the resident's message (`message.quote_message_id`).
Anonymous residents (`anonymous_send_text`) are answered on `/v2.0/oa/message` with their
anonymous id and conversation id (kept only in memory and, for a case, sealed); if Zalo
refuses (-240, v2 shut down) the reply is tried once on v3 with a line telling the resident
to follow the OA or use Telegram or the web page.

The reply window (2026 rules, configurable): free within 48 hours of the resident's last
message (no cap since 01/01/2026), billed from 48 hours to 7 days (counted as `billed`),
refused after 7 days (never sent). What cannot be sent is counted per reason in `undelivered`
(no content) and logged; `gbvbot zalo check` reports it. Campaigns cannot use consultation
messages (personal promotion messages end 01/03/2026): on Zalo they are an article broadcast
or a pre-approved template, which `CAMPAIGN_DELIVERY` states for the campaign engine.
Typed commands: /xoa (erase my data), /dangky and /huy, also without the slash (campaign opt-in/out).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from aiohttp import web

from bot import content
from bot.channels.http import BodyRejected, read_body
from bot.channels.messaging import split_text
from bot.channels.zalo_api import REASONS, V2_SHUT_DOWN, RateLimitedFailure, TokenError, ZaloClient, ZaloError
from bot.config import Settings
from bot.conversation.core import MAX_TEXT_IN, ConversationCore, Message, RateLimited, TurnLocks
from bot.messages import BotMessage, Button
from bot.outbound import Outbox, Priority, TemporaryFailure
from bot.storage import delivery, events, tokens

log = logging.getLogger(__name__)

CHANNEL = "zalo"
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_BODY = 128 * 1024  # an event carrying MAX_TEXT_IN characters, JSON-escaped, fits
MAX_TEXT = 2000  # one Zalo text message
STALE_SECONDS = 24 * 3600  # older signed events are refused: the replay memory lasts 48 h
PER_SECOND = 20
PER_CHAT_INTERVAL = 0.2
MESSAGE_EVENTS = {"user_send_text", "anonymous_send_text", "user_send_location"}
FOLLOW_EVENTS = {"follow", "unfollow"}
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")
COMMANDS = {"/xoa": None, "/dangky": "/subscribe", "/huy": "/unsubscribe", "dangky": "/subscribe", "huy": "/unsubscribe"}
# In the shared store (bot/storage/shared.py), per resident (pseudonym), so that a reply is
# understood and counted whatever gateway gets it: the payloads of the numbered options last
# offered, the replies sent since the resident's last message (within the free window), and
# whether an anonymous resident was told about -240.
OPTIONS, SENT, TOLD = "zalo_options", "zalo_sent", "zalo_told"
ANONYMOUS = "anon:"  # a resident's platform id "anon:<anonymous id>:<conversation id>"
CAMPAIGN_DELIVERY = "article_broadcast_or_template"  # what a Zalo OA may send to followers (docs/channels.md)


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's webhook MAC: plain SHA-256 of the concatenation, on the raw body bytes."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()).hexdigest()


class Undeliverable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ZaloText:
    resident: str  # the user id, or "anon:<anonymous id>:<conversation id>"
    text: str
    last_interaction: float  # epoch seconds of the resident's last message
    quote: str | None = None  # the resident's message this answers
    claim: Callable[[], bool] | None = None  # a campaign message: sent only if this says yes, just before


def _reason(error: BaseException) -> str:
    if isinstance(error, Undeliverable):
        return error.reason
    if isinstance(error, TokenError):
        return "token"
    if isinstance(error, ZaloError):
        return REASONS.get(error.code, f"error:{error.code}")
    if isinstance(error, RateLimitedFailure):
        return "rate_limited"
    if isinstance(error, (TemporaryFailure, asyncio.TimeoutError)):
        return "unreachable"
    return type(error).__name__


def anonymous_ids(resident: str) -> tuple[str, str] | None:
    if not resident.startswith(ANONYMOUS):
        return None
    anonymous_id, _, conversation_id = resident[len(ANONYMOUS):].partition(":")
    return anonymous_id, conversation_id


def _coordinate(value, bound: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and -bound <= number <= bound else None


class ZaloChannel:
    def __init__(self, core: ConversationCore, settings: Settings):
        assert settings.zalo_app_id and settings.zalo_oa_secret_key
        self.core = core
        self.app_id = settings.zalo_app_id
        self._oa_secret_key = settings.zalo_oa_secret_key
        self.client = ZaloClient(settings)
        self.outbox = Outbox(
            self._send, per_second=PER_SECOND, per_chat_interval=PER_CHAT_INTERVAL, store=core.store, name="zalo",
            on_failure=self._undelivered,
        )
        self.free_seconds = settings.zalo_free_hours * 3600
        self.free_messages = settings.zalo_free_messages
        self.reply_seconds = settings.zalo_reply_days * 86400
        self.store = core.store
        self._app_secret = settings.zalo_app_secret
        self.v2_shut_down = False  # learnt from a -240: anonymous replies go to v3
        self.turns = TurnLocks()
        self.rejected = 0  # webhook requests refused (signature, app id, stale, unreadable)
        self._tasks: set[asyncio.Task] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/zalo", self.webhook)]

    async def start(self) -> None:
        await self.client.start()
        await self.outbox.start()
        log.info("zalo channel ready (webhook /webhooks/zalo)")

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outbox.close()
        await self.client.close()

    # ------------------------------------------------------------------ inbound

    def _reject(self, status: int, why: str) -> web.Response:
        self.rejected += 1
        log.warning("zalo webhook: rejected (%s; %d so far)", why, self.rejected)
        return web.Response(status=status)

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /webhooks/zalo: verify, acknowledge, then handle in the background."""
        try:
            body = await read_body(request, MAX_BODY)
        except BodyRejected as rejected:
            return self._reject(rejected.status, "body too large or compressed")
        header = request.headers.get(SIGNATURE_HEADER, "")
        mac = header[4:].strip().lower() if header.startswith("mac=") else ""
        try:
            event = json.loads(body.decode("utf-8"))
            timestamp = str(event["timestamp"])
            if not timestamp.isdigit():
                raise ValueError
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            return self._reject(400, "unreadable body")
        expected = signature(self.app_id, body, timestamp, self._oa_secret_key)
        if not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode()):
            return self._reject(401, self._why_signature_fails(body, timestamp, mac))
        if str(event.get("app_id")) != self.app_id:
            return self._reject(401, "event for another app")
        if abs(time.time() - int(timestamp) / 1000) > STALE_SECONDS:
            return self._reject(401, "stale event")
        task = asyncio.create_task(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=200)

    def _why_signature_fails(self, body: bytes, timestamp: str, mac: str) -> str:
        """Which secret Zalo used is not confirmed (docs/channels.md): name the likely cause."""
        if not mac:
            return "bad signature: no 'mac=' value in X-ZEvent-Signature"
        if self._app_secret and hmac.compare_digest(
                mac.encode("ascii", "replace"), signature(self.app_id, body, timestamp, self._app_secret).encode()):
            return ("bad signature: it matches ZALO_APP_SECRET, not ZALO_OA_SECRET_KEY; if this OA signs with the "
                    "app secret, set ZALO_OA_SECRET_KEY to the same value")
        return ("bad signature: check ZALO_OA_SECRET_KEY is the OA Secret Key shown on the app's Webhook page "
                "(gbvbot zalo check explains how to test it)")

    async def _handle(self, event: dict) -> None:
        name = event.get("event_name")
        if name not in MESSAGE_EVENTS | FOLLOW_EVENTS:
            return  # acknowledged and ignored (seen/received receipts, stickers, images...)
        try:
            await self._handle_event(name, event)
        except Exception as error:
            frames = traceback.extract_tb(error.__traceback__)
            where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
            log.error("zalo: %s event failed (%s at %s)", name, type(error).__name__, where)

    async def _handle_event(self, name: str, event: dict) -> None:
        person = event.get("follower" if name in FOLLOW_EVENTS else "sender")
        user = str(person.get("id", "")) if isinstance(person, dict) else ""
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        msg_id = str(message.get("msg_id", ""))
        if not USER_ID.fullmatch(user) or (name in MESSAGE_EVENTS and not USER_ID.fullmatch(msg_id)):
            log.warning("zalo: %s event without a usable sender or message id ignored", name)
            return
        event_id = f"msg:{msg_id}" if name in MESSAGE_EVENTS else f"{name}:{user}:{event['timestamp']}"
        if not events.first_time(CHANNEL, event_id):
            log.info("zalo: replayed event ignored")
            return
        resident = user
        if name == "anonymous_send_text":
            conversation = str(message.get("conversation_id", ""))
            if not USER_ID.fullmatch(conversation):
                log.warning("zalo: anonymous message without a usable conversation id ignored")
                return
            resident = f"{ANONYMOUS}{user}:{conversation}"
        sender = self.core.sender_of(Message(CHANNEL, resident))
        if name == "unfollow":
            await self._forget(resident, sender)
            log.info("zalo: unfollow, resident data erased")
            return

        received = int(event["timestamp"]) / 1000
        delivery.touch_window(sender, datetime.fromtimestamp(received, timezone.utc))
        await self.store.forget(sender, SENT)

        async def queue(messages: list[BotMessage]) -> None:
            await self._queue(sender, resident, received, msg_id or None, messages)

        async with self.turns.hold(sender):
            if name == "follow":
                await queue([BotMessage(content.text("zalo_intro"))])
                return
            incoming = await self._message(name, resident, message, sender)
            if incoming is None:
                await queue([BotMessage(content.text("unsupported"))])
                return
            if incoming.text is not None and len(incoming.text) > MAX_TEXT_IN:
                await queue([BotMessage(content.text("text_too_long"))])
                return
            command = (incoming.text or "").strip().lower()
            if command == "/xoa":
                await self._forget(resident, sender)
                log.info("zalo: resident data erased on request")
                await queue([BotMessage(content.text("zalo_erased"))])
                return
            if command in COMMANDS:
                incoming = Message(CHANNEL, resident, payload=COMMANDS[command])
            try:
                reply = await self.core.handle(incoming)
            except RateLimited:
                await queue([BotMessage(content.text("rate_limited"))])
                return
            if reply.erased:
                await self.store.forget(sender, OPTIONS, SENT, TOLD)
            await queue(reply.messages)

    async def _forget(self, resident: str, sender: str) -> None:
        await self.core.forget(CHANNEL, resident)
        await self.store.forget(sender, OPTIONS, SENT, TOLD)

    async def _message(self, name: str, resident: str, message: dict, sender: str) -> Message | None:
        if name == "user_send_location":
            for attachment in message.get("attachments") or []:
                coordinates = ((attachment or {}).get("payload") or {}).get("coordinates") or {}
                lat = _coordinate(coordinates.get("latitude"), 90)
                lon = _coordinate(coordinates.get("longitude"), 180)
                if lat is not None and lon is not None:
                    return Message(CHANNEL, resident, location=(lat, lon))
            return None
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return None
        number = NUMBER.fullmatch(text)
        options = await self.store.get(OPTIONS, sender) or []
        if number and 1 <= int(number.group(1)) <= len(options):
            return Message(CHANNEL, resident, payload=options[int(number.group(1)) - 1])
        return Message(CHANNEL, resident, text=text)

    # ------------------------------------------------------------------ outbound

    async def _queue(self, sender: str, resident: str, last_interaction: float, quote: str | None,
               messages: list[BotMessage]) -> None:
        """Numbered options for buttons (numbering runs across the whole reply), then the queue."""
        payloads: list[str] = []
        texts: list[str] = []
        for message in messages:
            lines = [message.text]
            if message.buttons:
                lines.append("")
                for button in message.buttons:
                    payloads.append(button.payload)
                    lines.append(f"{len(payloads)}. {button.title}")
            texts.append("\n".join(lines))
        if payloads:
            texts[-1] += "\n\n" + content.text("numbered_hint")
            await self.store.put(OPTIONS, sender, payloads, self.free_seconds)
        else:
            await self.store.pop(OPTIONS, sender)
        for text in texts:
            for piece in split_text(text, MAX_TEXT):
                self.outbox.put(sender, ZaloText(resident, piece, last_interaction, quote), Priority.REPLY)

    async def send_to_resident(self, reply_to: str, text: str, buttons: tuple[Button, ...] = ()) -> bool:
        """A message about their case to a resident (reply_to: the resident's platform id), at
        alert priority; only until day 7 after the resident's last message (else counted).
        Buttons become numbered options, as in replies."""
        sender = self.core.sender_of(Message(CHANNEL, reply_to))
        closes = delivery.window_closes_at(sender, hours=self.reply_seconds // 3600)
        if closes is None or closes.timestamp() <= time.time():
            self._undelivered(sender, None, Undeliverable("after_7_days"))
            return False
        last = closes.timestamp() - self.reply_seconds
        if buttons:
            text = "\n".join([text, ""] + [f"{n}. {b.title}" for n, b in enumerate(buttons, 1)])
            text += "\n\n" + content.text("numbered_hint")
            await self.store.put(OPTIONS, sender, [b.payload for b in buttons], self.free_seconds)
        futures = [
            self.outbox.put(sender, ZaloText(reply_to, piece, last), Priority.ALERT)
            for piece in split_text(text, MAX_TEXT)
        ]
        await asyncio.wait(futures)
        return all(not f.cancelled() and f.exception() is None for f in futures)

    def broadcast(self, sender: str, resident: str, message: BotMessage, claim: Callable[[], bool]) -> asyncio.Future:
        """A campaign message, as a consultation message, only within the resident's free
        48-hour window and its message cap (Zalo's rules for an OA): otherwise the future
        fails with reason `zalo_window` / `zalo_quota`, counted on the campaign. The text
        already carries the buttons as numbered options (campaigns.render)."""
        return asyncio.ensure_future(self._broadcast(sender, resident, message, claim))

    async def _broadcast(self, sender: str, resident: str, message: BotMessage, claim: Callable[[], bool]) -> str | None:
        closes = delivery.window_closes_at(sender, hours=self.reply_seconds // 3600)
        last = None if closes is None else closes.timestamp() - self.reply_seconds
        if last is None or time.time() - last > self.free_seconds:
            raise Undeliverable("zalo_window")
        if self.free_messages and await self._sent(sender) >= self.free_messages:
            raise Undeliverable("zalo_quota")
        if message.buttons:
            await self.store.put(OPTIONS, sender, [b.payload for b in message.buttons], self.free_seconds)
        return await self.outbox.put(sender, ZaloText(resident, message.text, last, claim=claim), Priority.BROADCAST)

    async def _sent(self, sender: str) -> int:
        """Messages sent to the resident, by any gateway, since their last message (it forgets
        the count), within the free window."""
        return await self.store.count(SENT, sender, self.free_seconds, time.time())

    @staticmethod
    def failure_reason(error: BaseException) -> str:
        return _reason(error)

    async def _send(self, sender: str, item: ZaloText) -> str | None:
        """One message, inside Zalo's window: free, billed (counted), or never after day 7."""
        if item.claim is not None and not item.claim():
            return None
        age = time.time() - item.last_interaction
        if age > self.reply_seconds:
            raise Undeliverable("after_7_days")
        sent = await self._sent(sender)
        billed = age > self.free_seconds or (self.free_messages and sent >= self.free_messages)
        anonymous = anonymous_ids(item.resident)
        if anonymous is None:
            message_id = await self.client.send_text(item.resident, item.text, item.quote)
        else:
            message_id = await self._send_anonymous(sender, anonymous, item.text)
        await self.store.hit(SENT, sender, self.free_seconds, None, time.time())
        if billed:
            delivery.record_undelivered(CHANNEL, "sent_billed")
        return message_id

    async def _send_anonymous(self, sender: str, ids: tuple[str, str], text: str) -> str:
        """v2 as Zalo's SDKs do; once Zalo says v2 is shut down (-240), v3, and the resident
        is told once, in that reply, how to get answers for sure."""
        if not self.v2_shut_down:
            try:
                return await self.client.send_anonymous(*ids, text)
            except ZaloError as error:
                if error.code != V2_SHUT_DOWN:
                    raise
                self.v2_shut_down = True
                log.warning("zalo: v2 messaging is shut down (-240): anonymous replies now try v3")
        if await self.store.put_new(TOLD, sender, True, self.reply_seconds):
            text = f"{content.text('zalo_anonymous_notice')}\n\n{text}"
        return await self.client.send_anonymous(*ids, text, v3=True)

    def _undelivered(self, _sender: str, _item: ZaloText | None, error: BaseException) -> None:
        reason = _reason(error)
        today = delivery.record_undelivered(CHANNEL, reason)
        log.warning("zalo: message not delivered: reason=%s (%d today)", reason, today)


async def check(settings: Settings) -> tuple[bool, list[str]]:
    """`gbvbot zalo check`: is the access token valid (refreshing it if needed), and what
    could not be delivered lately?"""
    if not settings.zalo_enabled:
        return False, ["ZALO_APP_ID is not set: the Zalo channel is off."]
    client = ZaloClient(settings)
    ok, lines = True, []
    try:
        await client.start()
        info = await client.oa_info()
        lines.append(f"access token valid: Official Account {info.get('name', '?')!r} (oa_id {info.get('oa_id', '?')})")
        if client.refreshes:
            lines.append("the access token had expired: it was refreshed and the new single-use refresh token is stored")
    except ZaloError as error:
        ok = False
        lines.append(f"Zalo refused: error {error.code} {error.message}".rstrip())
        if isinstance(error, TokenError):
            lines.append("re-authorise the Official Account and set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN again")
    except TemporaryFailure as error:
        ok = False
        lines.append(f"cannot reach {settings.zalo_api_base_url} or {settings.zalo_oauth_base_url} ({error})")
    finally:
        await client.close()
    stored = tokens.load(CHANNEL)
    if stored is not None:
        expires = stored.expires_at.strftime("%Y-%m-%d %H:%M UTC") if stored.expires_at else "unknown"
        lines.append(f"stored tokens: version {stored.version}, updated {stored.updated_at:%Y-%m-%d %H:%M} UTC, access token expires {expires}")
    counts = delivery.undelivered_counts(CHANNEL, days=30)
    billed = counts.pop("sent_billed", 0)
    lines.append(f"messages sent in the billed part of the window (48 h to 7 days), last 30 days: {billed}")
    lines.append("webhook signature: Zalo's formula is sha256(app_id + body + timestamp + secret); which secret "
                 "(the OA Secret Key on the Webhook page, or the app secret) is not confirmed. To test: send the OA "
                 "one message from a Zalo account; if the gateway logs 'bad signature: it matches ZALO_APP_SECRET', "
                 "set ZALO_OA_SECRET_KEY to the app secret; if it logs nothing, the configured key is right.")
    if counts:
        detail = ", ".join(f"{reason}: {count}" for reason, count in counts.items())
        lines.append(f"undelivered messages, last 30 days: {sum(counts.values())} ({detail})")
    else:
        lines.append("undelivered messages, last 30 days: none")
    return ok, lines
