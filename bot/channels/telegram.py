"""Telegram channel: python-telegram-bot's Application inside the gateway process.

Long polling by default (no public URL needed); webhook mode when TELEGRAM_WEBHOOK_URL is
set: Telegram then POSTs updates to /webhooks/telegram with the secret token, which is
compared in constant time before anything else happens.

Residents are served in private chats only (group updates are dropped before anything is
stored). Text, locations and button presses become core `Message`s; Rasa's buttons become
inline keyboards. Commands: /start (intro), /xoa (erase my data), /dangky and /huy
(campaign opt-in/out), /thoat (quick exit: forget the conversation and delete the recent
messages of this chat). Every send goes through the channel's `Outbox`, so escalation
alerts overtake replies and broadcasts and a 429 delays only the chat it concerns.

Never stored or logged: chat ids, names, usernames, phone numbers, message text. The
ids of recent messages (for /thoat) are kept sealed in the database under the pseudonym,
for less than 48 hours (bot/storage/recent.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import content
from bot.channels.http import BodyRejected, read_body
from bot.channels.messaging import split_text, valid_payload
from bot.config import Settings
from bot.conversation.core import MAX_TEXT_IN, ConversationCore, Message, RateLimited, TurnLocks
from bot.messages import BotMessage, Button
from bot.outbound import Outbox, Priority, RetryLater, TemporaryFailure
from bot.services.desk import OfficerDesk, PassOn, Reply, Take, close_command
from bot.storage import events, recent

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_TEXT = 4096  # one Telegram message
MAX_WEBHOOK_BODY = 256 * 1024
CALLBACK_DATA_BYTES = 64
LONG_PAYLOAD_SECONDS = 7 * 24 * 3600  # how long a button whose payload travels as a short id works
OFFICER_BUTTONS = ("ack:", "pass:")  # callback data of escalation alerts (never a Rasa payload)

PER_SECOND = 28  # overall rate: under the Bot FAQ's ~30 messages/s, leaving room for network jitter
PER_CHAT_INTERVAL = 1.0  # about one message per second in one private chat


@dataclass(frozen=True)
class Outgoing:
    text: str
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    silent: bool = False  # no notification sound (messages the resident did not ask for)
    claim: Callable[[], bool] | None = None  # a campaign message: sent only if this says yes, just before


def _retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def deliver(bot: Bot, chat_id: int, item: Outgoing):
    """Send one message; translate Telegram's answers into what the Outbox understands."""
    try:
        return await bot.send_message(chat_id, item.text, reply_markup=item.markup, disable_notification=item.silent)
    except RetryAfter as error:
        # Telegram does not say which limit was hit; the Outbox keeps us under the overall
        # one, so a 429 is taken to concern this chat only.
        raise RetryLater(_retry_seconds(error), scope="chat") from error
    except (BadRequest, Forbidden, ChatMigrated, InvalidToken):
        raise  # permanent: blocked by the user, bad request... (BadRequest is a NetworkError)
    except NetworkError as error:  # includes TimedOut
        raise TemporaryFailure(type(error).__name__) from error


def _where(error: BaseException) -> str:
    """file:line of an exception, for logs that must not carry its message (it may hold text)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"


class TelegramChannel:
    def __init__(self, core: ConversationCore, settings: Settings, *, poll_timeout: int = 30, escalation=None,
                 poll: bool = True):
        assert settings.telegram_bot_token is not None
        self.core = core
        self.escalation = escalation  # bot.services.escalation.Escalation: officer alerts and buttons
        self.desk = OfficerDesk(escalation) if escalation else None
        self.settings = settings
        self.webhook_mode = settings.telegram_webhook_url is not None
        self.poll_timeout = poll_timeout
        self.poll = poll  # polling mode: only one process may poll (the leading gateway; see lead())
        self._polling = asyncio.Lock()
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token)
            .base_url(settings.telegram_api_base_url)
            .concurrent_updates(True)  # TurnLocks keep one chat's messages in order
            .job_queue(None)
            .get_updates_read_timeout(poll_timeout + 10)
        )
        if self.webhook_mode:
            builder = builder.updater(None)
        self.app = builder.build()
        self._add_handlers()
        self.outbox = Outbox(
            self._send, per_second=PER_SECOND, per_chat_interval=PER_CHAT_INTERVAL, store=core.store, name="telegram",
            on_failure=lambda _chat, _item, error: log.warning("telegram: message dropped (%s)", type(error).__name__),
        )
        self.turns = TurnLocks()
        self.rejected = 0  # webhook requests with a wrong secret token
        self.ready = False
        self._starter: asyncio.Task | None = None

    # ------------------------------------------------------------------ life cycle

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/telegram", self.webhook)] if self.webhook_mode else []

    async def start(self) -> None:
        await self.outbox.start()
        self._starter = asyncio.create_task(self._connect(), name="telegram-connect")

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
            await asyncio.gather(self._starter, return_exceptions=True)
        self.ready = False
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.outbox.close()
        await self.app.shutdown()

    async def _connect(self) -> None:
        """Reach Telegram (retrying while it is unreachable), then poll or set the webhook."""
        delay = 1.0
        while True:
            try:
                await self.app.initialize()  # getMe
                break
            except InvalidToken:
                log.error("telegram: TELEGRAM_BOT_TOKEN was rejected by Telegram; the channel is off")
                return
            except NetworkError as error:
                log.warning("telegram: cannot reach the Bot API (%s); retrying in %.0f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        try:
            await self.app.start()
            self.ready = True
            if self.webhook_mode:
                await self._set_webhook()
            else:
                await self._poll_if_leading()
        except Exception as error:
            log.error("telegram: the channel could not start (%s at %s)", type(error).__name__, _where(error))
            return
        log.info("telegram channel ready (%s)", "webhook" if self.webhook_mode else
                 "polling" if self.poll else "sending only; another gateway polls")

    async def lead(self, leading: bool) -> None:
        """Polling mode: start polling when this gateway becomes the leader, stop when it no
        longer is (Telegram allows one getUpdates caller per bot). Webhook mode: nothing."""
        self.poll = leading
        if self.ready and not self.webhook_mode:
            await self._poll_if_leading()

    async def _poll_if_leading(self) -> None:
        updater = self.app.updater
        assert updater is not None
        async with self._polling:
            if self.poll and not updater.running:
                await updater.start_polling(
                    timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1,
                    error_callback=lambda error: log.warning("telegram: polling failed (%s)", type(error).__name__),
                )
            elif not self.poll and updater.running:
                await updater.stop()

    async def _set_webhook(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.app.bot.set_webhook(
                    self.settings.telegram_webhook_url, secret_token=self.settings.telegram_webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                return
            except BadRequest as error:  # Telegram refused the URL: say why (the URL is not secret)
                log.error("telegram: setWebhook refused: %s", error.message)
                return
            except NetworkError as error:
                log.warning("telegram: setWebhook failed (%s); retrying in %.0f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # ------------------------------------------------------------------ inbound

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /webhooks/telegram: the secret token first, then the update."""
        expected = (self.settings.telegram_webhook_secret or "").encode()
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not expected or not hmac.compare_digest(given, expected):
            self.rejected += 1
            log.warning("telegram webhook: rejected a request with a wrong secret token (%d so far)", self.rejected)
            return web.Response(status=403)
        if not self.ready:
            return web.Response(status=503)  # Telegram retries later
        try:
            body = await read_body(request, MAX_WEBHOOK_BODY)
        except BodyRejected as rejected:
            return web.Response(status=rejected.status)
        try:
            data = json.loads(body.decode("utf-8"))
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except Exception:  # malformed JSON or not an Update: nothing was processed
            update = None
        if update is None:
            return web.Response(status=400)
        await self.app.update_queue.put(update)
        return web.Response(status=200)

    def _add_handlers(self) -> None:
        private = filters.ChatType.PRIVATE
        self.app.add_handler(TypeHandler(Update, self._screen), group=-1)
        for command, callback in (
            ("start", self._start), ("xoa", self._erase), ("dangky", self._subscribe),
            ("huy", self._unsubscribe), ("thoat", self._quick_exit), ("dong", self._close_case),
        ):
            self.app.add_handler(CommandHandler(command, callback, filters=private))
        self.app.add_handler(MessageHandler(private & filters.TEXT, self._text))
        self.app.add_handler(MessageHandler(private & filters.LOCATION, self._location))
        self.app.add_handler(MessageHandler(private, self._unsupported))
        self.app.add_handler(CallbackQueryHandler(self._button))
        self.app.add_error_handler(self._error)

    async def _screen(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Group -1: only private chats, and every update at most once."""
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            raise ApplicationHandlerStop
        if not events.first_time(CHANNEL, str(update.update_id)):
            log.info("telegram: replayed update ignored")
            raise ApplicationHandlerStop

    async def _error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("telegram: handler failed (%s at %s)", type(error).__name__, _where(error) if error else "?")

    async def _text(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        if message.reply_to_message is not None and await self._officer_reply(update):
            return
        if len(message.text) > MAX_TEXT_IN:
            await self._queue(message.chat_id, [BotMessage(content.text("text_too_long"))])
            return
        await self._turn(message.chat_id, Message(CHANNEL, str(message.chat_id), text=message.text))

    async def _location(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        lat, lon = message.location.latitude, message.location.longitude
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            return
        await self._turn(message.chat_id, Message(CHANNEL, str(message.chat_id), location=(lat, lon)))

    async def _unsupported(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        await self._queue(message.chat_id, [BotMessage(content.text("unsupported"))])

    async def _button(self, update: Update, _context) -> None:
        query = update.callback_query
        chat_id = update.effective_chat.id
        data = query.data or ""
        payload = await self.core.store.get("long_payload", data) if data.startswith("#") else data
        if data.startswith(OFFICER_BUTTONS):
            await self._officer_button(update, data)
            return
        await self._quietly(query.answer())
        if query.message is not None:
            await self._quietly(query.edit_message_reply_markup(reply_markup=None))
        if not valid_payload(payload):
            await self._queue(chat_id, [BotMessage(content.text("button_expired"))])
            return
        await self._turn(chat_id, Message(CHANNEL, str(chat_id), payload=payload))

    async def _start(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        await self._queue(message.chat_id, [BotMessage(content.text("telegram_intro"))])
        await self._turn(message.chat_id, Message(CHANNEL, str(message.chat_id), payload="/greet"))

    async def _erase(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        async with self.turns.hold(message.chat_id):
            await self.core.forget(CHANNEL, str(message.chat_id))
            log.info("telegram: resident data erased on request")
            await self._queue(message.chat_id, [BotMessage(content.text("telegram_erased"))])

    async def _subscribe(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        await self._turn(message.chat_id, Message(CHANNEL, str(message.chat_id), payload="/subscribe"))

    async def _unsubscribe(self, update: Update, _context) -> None:
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        await self._turn(message.chat_id, Message(CHANNEL, str(message.chat_id), payload="/unsubscribe"))

    async def _quick_exit(self, update: Update, _context) -> None:
        """/thoat: forget the conversation and delete this chat's recent messages, silently;
        only if some could not be deleted, a neutral line says so (and how to delete the chat)."""
        message = update.effective_message
        self._remember(message.chat_id, message.message_id)
        async with self.turns.hold(message.chat_id):
            await self.core.forget(CHANNEL, str(message.chat_id))
            failed = await self._delete_recent(message.chat_id)
        if failed:
            notice = content.text("telegram_not_deleted").format(count=failed)
            await self._deliver_now(message.chat_id, Outgoing(notice, silent=True), Priority.REPLY)
        log.info("telegram: quick exit (%d messages not deleted)", failed)

    # ------------------------------------------------------------------ officers

    def _officer(self, update: Update):
        """The registered officer behind this update, or None (commands are theirs only)."""
        from bot.services import roster

        user = update.effective_user
        return roster.officer_by_telegram(user.id) if user is not None and self.escalation else None

    async def _officer_button(self, update: Update, data: str) -> None:
        """«Nhận xử lý» (ack:ID) and «Chuyển người khác» (pass:ID) under an alert."""
        query = update.callback_query
        officer = self._officer(update)
        if officer is None:
            await self._quietly(query.answer(content.text("officer_only"), show_alert=True))
            return
        action, _, case_id = data.partition(":")
        answer = await self.desk.handle(officer.id, Take(case_id) if action == "ack" else PassOn(case_id))
        await self._quietly(query.answer(answer.notice))
        if query.message is None:
            return
        if answer.taken:
            text = f"{query.message.text}\n\n{content.text('officer_assigned').format(case_id=case_id)}"
            await self._quietly(query.edit_message_text(text))
        elif answer.settled:
            await self._quietly(query.edit_message_reply_markup(reply_markup=None))

    async def _officer_reply(self, update: Update) -> bool:
        """An officer replying to one of the bot's messages about a case writes to the resident."""
        message = update.effective_message
        officer = self._officer(update)
        if officer is None:
            return False
        ref = f"{message.chat_id}:{message.reply_to_message.message_id}"
        answer = await self.desk.handle(officer.id, Reply(ref, message.text))
        if answer.handled:
            await self._queue(message.chat_id, [BotMessage(answer.notice)])
        return answer.handled

    async def _close_case(self, update: Update, context) -> None:
        """/dong ID outcome [note]: close a case (registered officers only)."""
        message = update.effective_message
        officer = self._officer(update)
        if officer is None:
            await self._queue(message.chat_id, [BotMessage(content.text("officer_only"))])
            return
        event = close_command(context.args or [])
        notice = event if isinstance(event, str) else (await self.desk.handle(officer.id, event)).notice
        await self._queue(message.chat_id, [BotMessage(notice)], Priority.ALERT)

    # ------------------------------------------------------------------ conversation

    async def _turn(self, chat_id: int, message: Message) -> None:
        async with self.turns.hold(chat_id):
            try:
                reply = await self.core.handle(message)
            except RateLimited:
                await self._queue(chat_id, [BotMessage(content.text("rate_limited"))])
                return
            if reply.erased:  # the safe word, or erase-my-data confirmed
                await self._delete_recent(chat_id)
            await self._queue(chat_id, reply.messages)

    async def _queue(self, chat_id: int, messages: list[BotMessage], priority: Priority = Priority.REPLY) -> None:
        for message in messages:
            pieces = split_text(message.text, MAX_TEXT)
            for number, piece in enumerate(pieces, 1):
                markup = await self._keyboard(message.buttons) if number == len(pieces) else None
                self.outbox.put(chat_id, Outgoing(piece, markup), priority)
            if any(b.payload.startswith("/inform_place") for b in message.buttons):
                # Rasa asks where the resident is: offer the phone's location as well.
                keyboard = ReplyKeyboardMarkup(
                    [[KeyboardButton(content.text("location_button"), request_location=True)]],
                    resize_keyboard=True, one_time_keyboard=True,
                )
                self.outbox.put(chat_id, Outgoing(content.text("location_prompt"), keyboard), priority)

    async def _keyboard(self, buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
        if not buttons:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.title, callback_data=await self._callback_data(b.payload))] for b in buttons]
        )

    async def _callback_data(self, payload: str) -> str:
        """Telegram allows 64 bytes of callback data: longer payloads travel as a short id,
        kept a week in the shared store, so a tap is understood by whichever gateway gets it."""
        if len(payload.encode()) <= CALLBACK_DATA_BYTES:
            return payload
        digest = hashlib.sha256(payload.encode()).digest()
        key = "#" + base64.urlsafe_b64encode(digest[:12]).decode()
        await self.core.store.put("long_payload", key, payload, LONG_PAYLOAD_SECONDS)
        return key

    # ------------------------------------------------------------------ outbound

    async def send_alert(self, chat: str, text: str, buttons: tuple[Button, ...]) -> str | None:
        """An escalation alert to an officer's chat, ahead of every reply and broadcast.
        Returns a reference ("chat:message") for `edit_alert`, or None if it could not be delivered."""
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in buttons]) if buttons else None
        sent = await self._deliver_now(int(chat), Outgoing(text, markup), Priority.ALERT)
        return None if sent is None else f"{sent.chat_id}:{sent.message_id}"

    async def edit_alert(self, ref: str, text: str) -> None:
        """Replace an alert's text (its buttons go with it)."""
        chat, _, message_id = ref.partition(":")
        await self._quietly(self.app.bot.edit_message_text(text, chat_id=int(chat), message_id=int(message_id)))

    async def send_to_resident(self, reply_to: str, text: str, buttons: tuple[Button, ...] = ()) -> bool:
        """A message about their case to a resident (reply_to: the chat id), at alert priority,
        without notification sound; buttons under the last piece."""
        pieces = split_text(text, MAX_TEXT)
        for number, piece in enumerate(pieces, 1):
            markup = await self._keyboard(buttons) if number == len(pieces) else None
            if await self._deliver_now(int(reply_to), Outgoing(piece, markup, silent=True), Priority.ALERT) is None:
                return False
        return True

    async def _deliver_now(self, chat_id: int, item: Outgoing, priority: Priority):
        """Queue and wait for delivery; None if it failed or was dropped (the Outbox logs failures)."""
        future = self.outbox.put(chat_id, item, priority)
        await asyncio.wait([future])
        return None if future.cancelled() or future.exception() is not None else future.result()

    def broadcast(self, _sender: str, chat: str, message: BotMessage, claim: Callable[[], bool]) -> asyncio.Future:
        """A campaign message, silently, behind every alert and reply; the future gives None
        if `claim` said no when its turn came (bot/services/campaigns/engine.py)."""

        async def queue():
            markup = await self._keyboard(message.buttons)
            return await self.outbox.put(int(chat), Outgoing(message.text, markup, silent=True, claim=claim),
                                         Priority.BROADCAST)

        return asyncio.ensure_future(queue())

    @staticmethod
    def failure_reason(error: BaseException) -> str:
        """A campaign delivery's failure, as counted per campaign (403: the resident blocked the bot)."""
        if isinstance(error, Forbidden):
            return "blocked"
        if isinstance(error, BadRequest):
            return "refused"
        if isinstance(error, (TemporaryFailure, asyncio.TimeoutError)):
            return "unreachable"
        return type(error).__name__.lower()[:32]

    async def _send(self, chat_id: int, item: Outgoing):
        if item.claim is not None and not item.claim():
            return None
        sent = await deliver(self.app.bot, chat_id, item)
        self._remember(chat_id, sent.message_id)
        return sent

    def _remember(self, chat_id: int, message_id: int) -> None:
        """Keep (sealed, under the pseudonym) the id of a message of this chat for /thoat."""
        recent.remember(self.core.sender_of(Message(CHANNEL, str(chat_id))), message_id)

    async def _delete_recent(self, chat_id: int) -> int:
        """Delete this chat's messages (the bot's and the resident's) younger than 47 hours,
        also after a restart; returns how many could not be deleted."""
        self.outbox.cancel(chat_id)
        ids = recent.take(self.core.sender_of(Message(CHANNEL, str(chat_id))))
        failed = 0
        for start in range(0, len(ids), 10):
            results = await asyncio.gather(
                *(self.app.bot.delete_message(chat_id, i) for i in ids[start:start + 10]), return_exceptions=True)
            failed += sum(isinstance(r, BaseException) for r in results)
        return failed

    @staticmethod
    async def _quietly(call) -> None:
        """For calls whose failure changes nothing for the resident (answering a button, deleting)."""
        try:
            await call
        except TelegramError as error:
            log.info("telegram: %s ignored", type(error).__name__)


async def check(settings: Settings) -> tuple[bool, list[str]]:
    """`gbvbot telegram check`: is the token accepted, and is the webhook what we configured?"""
    if not settings.telegram_enabled:
        return False, ["TELEGRAM_BOT_TOKEN is not set: the Telegram channel is off."]
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    lines: list[str] = []
    try:
        async with bot:
            me = bot.bot
            lines.append(f"token accepted: bot @{me.username} (id {me.id})")
            info = await bot.get_webhook_info()
    except InvalidToken:
        return False, ["TELEGRAM_BOT_TOKEN was rejected by Telegram (401 Unauthorized): copy the token from @BotFather again."]
    except NetworkError as error:
        return False, [f"cannot reach {settings.telegram_api_base_url} ({type(error).__name__}): check the network or TELEGRAM_API_BASE_URL."]
    except TelegramError as error:
        return False, [f"Telegram answered with an error: {error.message}"]
    ok = True
    if settings.telegram_webhook_url:
        lines.append(f"mode: webhook at {settings.telegram_webhook_url}")
        if info.url != settings.telegram_webhook_url:
            ok = False
            lines.append(f"the webhook Telegram knows is {info.url or 'not set'}: start the gateway to set it")
    else:
        lines.append("mode: polling (TELEGRAM_WEBHOOK_URL is not set)")
        if info.url:
            lines.append(f"a webhook is still set at Telegram ({info.url}): the gateway removes it when it starts polling")
    if info.pending_update_count:
        lines.append(f"updates waiting at Telegram: {info.pending_update_count}")
    if info.last_error_message:
        lines.append(f"Telegram's last webhook delivery error: {info.last_error_message}")
    return ok, lines


async def check_officers(settings: Settings, officers: list) -> list[tuple[object, str | None]]:
    """`gbvbot officers check`: send every officer a short test message, silently. Returns
    (officer, None) when it arrived, else (officer, why it cannot be alerted). An officer who
    never opened the bot and pressed Start cannot be written to (Telegram answers 403)."""
    from bot.services import roster

    results: list[tuple[object, str | None]] = []
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    async with bot:
        for officer in officers:
            if not officer.telegram_chat:
                results.append((officer, "no Telegram id registered"))
                continue
            chat = int(roster._sealer().open(officer.telegram_chat).decode())
            try:
                await bot.send_message(chat, content.text("officer_check"), disable_notification=True)
                results.append((officer, None))
            except Forbidden:
                results.append((officer, "has not opened the bot and pressed Start (or blocked it): Telegram refuses"))
            except BadRequest as error:
                results.append((officer, f"Telegram refused: {error.message}"))
            except NetworkError as error:
                results.append((officer, f"could not reach Telegram ({type(error).__name__})"))
    return results
