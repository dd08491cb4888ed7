"""A local Zalo Official Account API (aiohttp), and signed webhook events as Zalo sends them.

Server side, as the platform is in 2026 (shared/notes/zalo_2026.md):
- `POST /v3.0/oa/message/cs` (header `access_token`): the body must be
  `{"recipient": {"user_id"}, "message": {"text" ≤ 2,000 characters, "quote_message_id"?}}`
  (a v2 field such as `recipient.message_id` is -201); an access token that was replaced by a
  refresh is -220 "access_token is expired or removed", any other unknown token -216
  "Access token is invalid"; a user who last interacted more than 7 days ago (`interacted`)
  is -230; a message sent between 48 hours and 7 days is accepted and recorded as billed;
- `POST /v2.0/oa/message`: anonymous replies, `{"recipient": {"anonymous_id",
  "conversation_id"}, "message": {"text"}}`, or -240 "MessageV2 API has been shut down"
  when `v2_shut_down` is set;
- `GET /v2.0/oa/getoa`, and the OAuth endpoint `POST /v4/oa/access_token` (form-encoded,
  header `secret_key`, single-use refresh tokens: a used one is refused).
Faults: `fail(path, kind)` with "slow", "drop", "500", "429", or an error code such as -213.

Client side (what Zalo POSTs to the gateway): `text_event`, `location_event`,
`follow_event`, `signed(event)` → (raw body, headers with `X-ZEvent-Signature: mac=…`,
where mac = sha256(app_id + body + timestamp + OA secret key)).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestServer

APP_ID = "4321098765432109876"
APP_SECRET = "zalo-app-secret-for-tests"
OA_SECRET_KEY = "zalo-oa-secret-key-for-tests"
OA_ID = "579745863508352884"
ACCESS_TOKEN = "access-token-1"
REFRESH_TOKEN = "refresh-token-1"


@dataclass
class Fault:
    kind: str  # "slow" | "drop" | "500" | "429" | "<error code>"
    times: int = 1
    delay: float = 0.0


class FakeZalo:
    def __init__(self, access_token: str = ACCESS_TOKEN, refresh_token: str = REFRESH_TOKEN):
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.refresh_delay = 0.0
        self.on_message = None  # called with each accepted message (to observe the client's state then)
        self.server: TestServer | None = None
        self.messages: list[dict] = []  # accepted: recipient, message, access_token, billed
        self.interacted: dict[str, float] = {}  # user id -> epoch seconds of their last interaction
        self.v2_shut_down = False
        self.anonymous_on_v3 = False  # unconfirmed on the real platform: off unless a test says so
        self._expired: set[str] = set()
        self.refreshes: list[dict] = []  # every token request: form + secret_key
        self.calls: list[str] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._changed: asyncio.Condition | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def start(self) -> str:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v2.0/oa/message", self._send_v2)
        app.router.add_get("/v2.0/oa/getoa", self._getoa)
        app.router.add_post("/v4/oa/access_token", self._token)
        self.server = TestServer(app, port=0)
        await self.server.start_server()
        return self.base_url

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail(self, path: str, kind: str, *, times: int = 1, delay: float = 0.0) -> None:
        self.faults[path].append(Fault(kind, times, delay))

    def expire_access_token(self) -> None:
        """The current access token expires (Zalo answers -220 until a refresh)."""
        self._expired.add(self.access_token)
        self.access_token = f"expired-{next(self._ids)}"

    def _token_error(self, request: web.Request) -> web.StreamResponse | None:
        given = request.headers.get("access_token")
        if given == self.access_token:
            return None
        if given in self._expired:
            return web.json_response({"error": -220, "message": "access_token is expired or removed"})
        return web.json_response({"error": -216, "message": "Access token is invalid"})

    async def _fault(self, request: web.Request) -> web.StreamResponse | None:
        faults = self.faults.get(request.path)
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "drop":
            request.transport.abort()
            return web.Response(status=500)
        if fault.kind == "500":
            return web.Response(status=500, text="Internal Server Error")
        if fault.kind == "429":
            return web.json_response({"error": -32, "message": "exceeded rate limit"}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"error": int(fault.kind), "message": "injected error"})

    async def _send(self, request: web.Request) -> web.StreamResponse:
        self.calls.append("message/cs")
        faulty = await self._fault(request)
        faulty = faulty if faulty is not None else self._token_error(request)
        if faulty is not None:
            return faulty
        body = await request.json()
        recipient, message = body.get("recipient") or {}, body.get("message") or {}
        anonymous = self.anonymous_on_v3 and set(recipient) == {"anonymous_id", "conversation_id"}
        if not (set(recipient) == {"user_id"} or anonymous):
            return web.json_response({"error": -201, "message": "recipient is invalid!"})
        if not isinstance(message.get("text"), str) or not 0 < len(message["text"]) <= 2000 or \
                not set(message) <= {"text", "quote_message_id"}:
            return web.json_response({"error": -201, "message": "message is invalid!"})
        user = recipient.get("user_id") or recipient.get("anonymous_id")
        last = self.interacted.get(user, time.time())
        if time.time() - last > 7 * 86400:
            return web.json_response({"error": -230, "message": "User has not interacted with the OA in the past 7 days"})
        return await self._accept(body, request, user, billed=time.time() - last > 48 * 3600)

    async def _send_v2(self, request: web.Request) -> web.StreamResponse:
        self.calls.append("v2/message")
        faulty = await self._fault(request)
        faulty = faulty if faulty is not None else self._token_error(request)
        if faulty is not None:
            return faulty
        if self.v2_shut_down:
            return web.json_response({"error": -240, "message": "MessageV2 API has been shut down, please switch to MessageV3"})
        body = await request.json()
        recipient = body.get("recipient") or {}
        if set(recipient) != {"anonymous_id", "conversation_id"} or not isinstance((body.get("message") or {}).get("text"), str):
            return web.json_response({"error": -201, "message": "recipient is invalid!"})
        return await self._accept(body, request, recipient["anonymous_id"], billed=False)

    async def _accept(self, body: dict, request: web.Request, user: str, billed: bool) -> web.StreamResponse:
        self.messages.append({**body, "access_token": request.headers["access_token"], "billed": billed})
        if self.on_message is not None:
            self.on_message(self.messages[-1])
        await self._notify()
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": f"m{next(self._ids)}", "user_id": user}})

    async def _getoa(self, request: web.Request) -> web.StreamResponse:
        self.calls.append("getoa")
        faulty = await self._fault(request)
        if faulty is not None:
            return faulty
        refused = self._token_error(request)
        if refused is not None:
            return refused
        return web.json_response({"error": 0, "message": "Success", "data": {"oa_id": OA_ID, "name": "Noi tin cay (test)"}})

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post())
        self.refreshes.append({**form, "secret_key": request.headers.get("secret_key")})
        self.calls.append("access_token")
        faulty = await self._fault(request)
        if faulty is not None:
            return faulty
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if (
            request.headers.get("secret_key") != APP_SECRET
            or form.get("app_id") != APP_ID
            or form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
        ):
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token", "error_description": "refresh token is invalid"})
        number = next(self._ids)
        self.access_token, self.refresh_token = f"access-token-r{number}", f"refresh-token-r{number}"
        await self._notify()
        return web.json_response({"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"})

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def wait_messages(self, count: int, timeout: float = 10.0) -> list[dict]:
        assert self._changed is not None
        deadline = time.monotonic() + timeout
        async with self._changed:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the fake Zalo server got {len(self.messages)} messages, expected {count}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        return self.messages


# ---------------------------------------------------------------------- webhook events

_msg_ids = itertools.count(1)


def _now_ms() -> str:
    return str(int(time.time() * 1000))


def text_event(user_id: str, text: str, *, msg_id: str | None = None, timestamp: str | None = None,
               event_name: str = "user_send_text", app_id: str = APP_ID) -> dict:
    return {
        "app_id": app_id,
        "user_id_by_app": "552177279717587730",
        "event_name": event_name,
        "timestamp": timestamp or _now_ms(),
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id or f"msg{next(_msg_ids):012d}"},
    }


def anonymous_event(anonymous_id: str, text: str, conversation_id: str = "conv-1") -> dict:
    event = text_event(anonymous_id, text, event_name="anonymous_send_text")
    event["message"]["conversation_id"] = conversation_id
    return event


def location_event(user_id: str, lat: float, lon: float) -> dict:
    event = text_event(user_id, "", event_name="user_send_location")
    event["message"]["attachments"] = [
        {"type": "location", "payload": {"coordinates": {"latitude": str(lat), "longitude": str(lon)}}}
    ]
    return event


def follow_event(user_id: str, event_name: str = "follow") -> dict:
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": event_name,
        "timestamp": _now_ms(),
        "source": "oa_profile",
        "follower": {"id": user_id},
    }


def signed(event: dict, *, app_id: str = APP_ID, secret: str = OA_SECRET_KEY, body: bytes | None = None) -> tuple[bytes, dict]:
    """The raw body and headers Zalo would POST for `event`."""
    body = body if body is not None else json.dumps(event, ensure_ascii=False).encode("utf-8")
    mac = hashlib.sha256(app_id.encode() + body + str(event["timestamp"]).encode() + secret.encode()).hexdigest()
    return body, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}
