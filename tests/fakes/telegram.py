"""A local Telegram Bot API server (aiohttp) for python-telegram-bot to talk to.

Point PTB at it with `base_url(fake.base_url)`. Methods: getMe, getUpdates (long polling
with offset/timeout), sendMessage, editMessageReplyMarkup, editMessageText, answerCallbackQuery,
deleteMessage, setWebhook, deleteWebhook, getWebhookInfo — form-encoded or JSON requests,
`{"ok": ..., "result" | "error_code", "description", "parameters"}` answers, as the Bot API.

Tests act as residents (`text`, `command`, `location`, `press`, `sticker` queue updates for
getUpdates, or build updates to POST to a webhook), read what the bot did (`sent`,
`calls`, `deleted`), and inject faults with `fail(method, kind, ...)`: "429" (with
retry_after), "slow", "drop" (connection closed without an answer), "500", "403".
With `per_second_limit` / `per_chat_interval` it enforces Telegram's flood limits on
sendMessage, answering 429 with retry_after beyond them, and counts every breach.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "123456789:TEST-token-for-the-fake-server_0123"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Noi tin cay", "username": "noitincay_test_bot"}
INT_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "max_connections"}
JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "reply_parameters", "link_preview_options"}


@dataclass
class Fault:
    kind: str  # "429" | "slow" | "drop" | "500" | "403"
    times: int = 1
    retry_after: int = 1
    delay: float = 0.0
    chat_id: int | None = None


def _ok(result) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, **parameters) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


class FakeTelegram:
    def __init__(self, token: str = TOKEN, *, per_second_limit: int | None = None, per_chat_interval: float | None = None):
        self.token = token
        self.per_second_limit = per_second_limit
        self.per_chat_interval = per_chat_interval
        self.server: TestServer | None = None
        self.calls: list[tuple[str, dict]] = []
        self.sent: list[dict] = []  # accepted sendMessage: chat_id, text, reply_markup, message_id, at
        self.deleted: list[tuple[int, int]] = []
        self.edited: list[tuple[int, int, dict | str | None]] = []
        self.answered: list[str] = []
        self.webhook: dict = {"url": "", "secret_token": None, "allowed_updates": None}
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.overall_breaches = 0  # 429s answered because of the overall limit
        self.chat_breaches = 0  # 429s answered because of the per-chat limit
        self._updates: list[dict] = []
        self._next_update = 5000
        self._next_message: dict[int, int] = defaultdict(lambda: 100)
        self._window: deque[float] = deque()
        self._last_in_chat: dict[int, float] = {}
        self._changed: asyncio.Condition | None = None

    # ------------------------------------------------------------------ server

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/bot"

    async def start(self) -> str:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self.server = TestServer(app, port=0)
        await self.server.start_server()
        return self.base_url

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        params = {}
        for key, value in (await request.post()).items():
            if key in INT_FIELDS:
                value = int(value)
            elif key in JSON_FIELDS:
                value = json.loads(value)
            params[key] = value
        return params

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await self._params(request)
        self.calls.append((method, params))
        fault = self._take_fault(method, params)
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "drop":
                request.transport.abort()
                return web.Response(status=500)  # never reaches the client
            elif fault.kind == "429":
                return _error(429, f"Too Many Requests: retry after {fault.retry_after}", retry_after=fault.retry_after)
            elif fault.kind == "500":
                return _error(500, "Internal Server Error")
            elif fault.kind == "403":
                return _error(403, "Forbidden: bot was blocked by the user")
            elif fault.kind == "400":
                return _error(400, "Bad Request: message can't be deleted for everyone")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return await handler(params)

    def _take_fault(self, method: str, params: dict) -> Fault | None:
        for fault in self.faults.get(method, []):
            if fault.chat_id is None or fault.chat_id == params.get("chat_id"):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults[method].remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ Bot API methods

    async def _m_getMe(self, _params: dict) -> web.Response:
        return _ok(BOT_USER)

    async def _m_getUpdates(self, params: dict) -> web.Response:
        offset = params.get("offset", 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout", 0))
        assert self._changed is not None
        async with self._changed:
            while not self._updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
        allowed = params.get("allowed_updates")
        updates = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
        return _ok(updates[: int(params.get("limit", 100))])

    async def _m_sendMessage(self, params: dict) -> web.Response:
        chat_id = params["chat_id"]
        now = time.monotonic()
        if self.per_second_limit is not None:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.per_second_limit:
                self.overall_breaches += 1
                return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        if self.per_chat_interval is not None:
            last = self._last_in_chat.get(chat_id)
            if last is not None and now - last < self.per_chat_interval:
                self.chat_breaches += 1
                return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        self._window.append(now)
        self._last_in_chat[chat_id] = now
        self._next_message[chat_id] += 1
        message = {
            "message_id": self._next_message[chat_id],
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.sent.append({**params, "reply_markup": markup, "message_id": message["message_id"], "at": now})
        await self._notify()
        return _ok(message)

    async def _m_editMessageReplyMarkup(self, params: dict) -> web.Response:
        self.edited.append((params.get("chat_id"), params.get("message_id"), params.get("reply_markup")))
        await self._notify()
        return _ok(True)

    async def _m_editMessageText(self, params: dict) -> web.Response:
        self.edited.append((params.get("chat_id"), params.get("message_id"), params.get("text")))
        await self._notify()
        return _ok(True)

    async def _m_answerCallbackQuery(self, params: dict) -> web.Response:
        self.answered.append(params["callback_query_id"])
        await self._notify()
        return _ok(True)

    async def _m_deleteMessage(self, params: dict) -> web.Response:
        self.deleted.append((params["chat_id"], params["message_id"]))
        await self._notify()
        return _ok(True)

    async def _m_setWebhook(self, params: dict) -> web.Response:
        self.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        await self._notify()
        return _ok(True)

    async def _m_deleteWebhook(self, params: dict) -> web.Response:
        self.webhook = {"url": "", "secret_token": None, "allowed_updates": None}
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return _ok(True)

    async def _m_getWebhookInfo(self, _params: dict) -> web.Response:
        return _ok({"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": 0})

    # ------------------------------------------------------------------ what residents do

    def update(self, **content) -> dict:
        """A whole update (for a webhook POST); not queued."""
        self._next_update += 1
        return {"update_id": self._next_update, **content}

    def message_update(self, chat_id: int, *, text: str | None = None, chat_type: str = "private", **extra) -> dict:
        self._next_message[chat_id] += 1
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Lan"
        else:
            chat["title"] = "Nhóm"
        message = {
            "message_id": self._next_message[chat_id],
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": abs(chat_id) if chat_type == "private" else 777, "is_bot": False, "first_name": "Lan", "username": "lan_hue"},
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.update(message=message)

    def press_update(self, chat_id: int, message_id: int, data: str) -> dict:
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
            "from": BOT_USER,
            "text": "…",
        }
        query = {
            "id": f"cb{self._next_update}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Lan"},
            "chat_instance": "42",
            "message": message,
            "data": data,
        }
        return self.update(callback_query=query)

    async def push(self, update: dict) -> dict:
        """Queue an update for getUpdates."""
        self._updates.append(update)
        await self._notify()
        return update

    async def text(self, chat_id: int, text: str, chat_type: str = "private") -> dict:
        return await self.push(self.message_update(chat_id, text=text, chat_type=chat_type))

    async def command(self, chat_id: int, command: str) -> dict:
        return await self.text(chat_id, command)

    async def location(self, chat_id: int, lat: float, lon: float) -> dict:
        return await self.push(self.message_update(chat_id, location={"latitude": lat, "longitude": lon}))

    async def sticker(self, chat_id: int) -> dict:
        sticker = {"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return await self.push(self.message_update(chat_id, sticker=sticker))

    async def press(self, chat_id: int, message_id: int, data: str) -> dict:
        return await self.push(self.press_update(chat_id, message_id, data))

    # ------------------------------------------------------------------ faults and waiting

    def fail(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1, delay: float = 0.0, chat_id: int | None = None) -> None:
        self.faults[method].append(Fault(kind, times, retry_after, delay, chat_id))

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate, timeout: float = 10.0) -> None:
        assert self._changed is not None
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the fake Telegram server did not see what was expected in time")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def wait_sent(self, count: int, chat_id: int | None = None, timeout: float = 10.0) -> list[dict]:
        def mine() -> list[dict]:
            return [m for m in self.sent if chat_id is None or m["chat_id"] == chat_id]

        await self.wait_until(lambda: len(mine()) >= count, timeout)
        return mine()

    def methods(self) -> list[str]:
        return [method for method, _params in self.calls]
