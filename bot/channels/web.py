"""Web chat channel: the page, and the JSON contract of /api/chat and /api/forget.

Every malformed request gets a 4xx with a Vietnamese `error` and nothing is stored.

Against floods: /api/* takes only JSON and, when a browser says where it comes from
(Origin), only from this site; every client address (behind a trusted proxy: from
X-Forwarded-For) has its own message and new-session limits; session ids are issued and
signed by the server (`/api/session`, and the page carries one). An id the server did not
sign is still accepted (clients written for the first contract), within the same limits.
Direct loopback requests with no proxy in front (development, tests, a local evaluation)
are not address-limited. The limits are counted in the shared store (bot/storage/shared.py),
so several gateways behind one address count together.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import ipaddress
import json
import math
import re
import secrets
from pathlib import Path

from aiohttp import web

from bot import content
from bot.channels.http import BodyRejected, read_body
from bot.channels.messaging import valid_payload
from bot.conversation.core import MAX_TEXT_IN, ConversationCore, Message, RateLimited, SharedFloodGuard
from bot.storage.crypto import derive_key
from bot.storage.shared import MemoryStore, Store

STATIC = Path(__file__).with_name("static")
MAX_BODY = 128 * 1024  # bytes; MAX_TEXT_IN Vietnamese characters fit, even JSON-escaped
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


SIGNED_PREFIX = "v1"


def issue_session() -> str:
    """A new session id signed by the server: "v1" + 22 random + 16 MAC characters."""
    nonce = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
    return SIGNED_PREFIX + nonce + _mac(nonce)


def _mac(nonce: str) -> str:
    digest = hmac.new(derive_key("web-session"), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def signed(session_id: str) -> bool | None:
    """True: issued by this server; False: looks issued but forged; None: not a signed id."""
    if len(session_id) != 40 or not session_id.startswith(SIGNED_PREFIX):
        return None
    return hmac.compare_digest(session_id[24:], _mac(session_id[2:24]))


def client_address(request: web.Request, trusted: tuple) -> str:
    """The client's address: the peer, or behind a trusted proxy the last X-Forwarded-For
    hop that is not itself a trusted proxy. The header is ignored from anyone else."""
    peer = request.remote or ""

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if not is_trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return peer


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class AddressLimits:
    """Per client address: messages per minute, and new session ids per ten minutes."""

    def __init__(self, per_minute: int, new_sessions: int, store: Store | None = None):
        self.store = store or MemoryStore()
        self.messages = SharedFloodGuard(self.store, "address", per_minute)
        self.sessions = SharedFloodGuard(self.store, "sessions", new_sessions, window=600)

    async def check(self, address: str, session_id: str | None = None, now: float | None = None) -> None:
        await self.messages.check(address, now)
        seen = f"{address} {session_id}"
        # A session is new once, whichever gateway sees it first (put_new is atomic); a new
        # session refused is not remembered, so it is refused again.
        if session_id is not None and await self.store.put_new("session_seen", seen, 1, self.sessions.window):
            try:
                await self.sessions.check(address, now)
            except RateLimited:
                await self.store.pop("session_seen", seen)
                raise


class BadRequest(Exception):
    def __init__(self, status: int, message_key: str):
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


def _error(status: int, key: str) -> web.Response:
    return web.json_response({"error": content.text(key)}, status=status, headers=NO_STORE)


def _same_origin(request: web.Request) -> bool:
    """A browser's request from another site is refused; scripts send no Origin at all."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == request.host


async def _read_json(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise BadRequest(415, "bad_request")
    if not _same_origin(request):
        raise BadRequest(403, "bad_request")
    try:
        body = await read_body(request, MAX_BODY)
    except BodyRejected as rejected:
        raise BadRequest(rejected.status, "too_large" if rejected.status == 413 else "bad_request") from None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "bad_request") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "bad_request")
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id) or signed(session_id) is False:
        raise BadRequest(400, "bad_request")
    return data


def parse_chat(data: dict) -> Message:
    """Validate one /api/chat body (exactly one of text, payload, location)."""
    given = [k for k in ("text", "payload", "location") if data.get(k) is not None]
    if len(given) != 1:
        raise BadRequest(400, "bad_request")
    session_id = data["session_id"]
    if "text" in given:
        text = data["text"]
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(400, "bad_request")
        if len(text) > MAX_TEXT_IN:
            raise BadRequest(400, "text_too_long")
        return Message("web", session_id, text=text)
    if "payload" in given:
        payload = data["payload"]
        if not valid_payload(payload):
            raise BadRequest(400, "bad_request")
        return Message("web", session_id, payload=payload)
    location = data["location"]
    try:
        lat, lon = location["lat"], location["lon"]
        if isinstance(lat, bool) or isinstance(lon, bool):
            raise TypeError
        lat, lon = float(lat), float(lon)
    except (TypeError, KeyError, ValueError):
        raise BadRequest(400, "bad_request") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRequest(400, "bad_request")
    return Message("web", session_id, location=(lat, lon))


def page_html(demo: bool, follow: dict[str, str]) -> str:
    """The chat page: the demo banner in demo mode, and links to the messaging apps where
    campaign messages can be received (`follow`: app name → URL), only those configured."""
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    banner = f'<p class="demo-banner" role="note">{content.text("demo_banner")}</p>' if demo else ""
    links = ", ".join(f'<a href="{html.escape(url)}" rel="noopener noreferrer" target="_blank">{html.escape(name)}</a>'
                      for name, url in follow.items())
    note = f'<p class="follow-note">{content.text("web_follow")} {links}</p>' if links else ""
    return index.replace("{{DEMO_BANNER}}", banner).replace("{{FOLLOW}}", note)


def routes(core: ConversationCore, demo: bool, limits: AddressLimits | None = None,
           trusted: tuple = (), follow: dict[str, str] | None = None) -> list[web.RouteDef]:
    page = page_html(demo, follow or {})
    page_headers = {**NO_STORE, "Content-Security-Policy": CSP}
    limits = limits or AddressLimits(120, 30, core.store)

    async def limit(request: web.Request, session_id: str | None = None, new_session: bool = False) -> None:
        """RateLimited when this client address sends too much or opens too many sessions."""
        address = client_address(request, trusted)
        if _loopback(address) and not trusted:
            return
        await limits.check(address, session_id if session_id and not signed(session_id) else None)
        if new_session:
            await limits.sessions.check(address)

    async def chat_page(request: web.Request) -> web.Response:
        try:
            await limit(request)
        except RateLimited:
            return _error(429, "rate_limited")
        return web.Response(text=page.replace("{{SESSION}}", issue_session()), content_type="text/html",
                            headers=page_headers)

    async def session(request: web.Request) -> web.Response:
        """A new signed session id (the page's "start again")."""
        if request.content_type != "application/json":
            return _error(415, "bad_request")
        if not _same_origin(request):
            return _error(403, "bad_request")
        try:
            await limit(request, new_session=True)
        except RateLimited:
            return _error(429, "rate_limited")
        return web.json_response({"session_id": issue_session()}, headers=NO_STORE)

    async def exit_page(_request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "exit.html", headers=page_headers)

    async def chat(request: web.Request) -> web.Response:
        try:
            data = await _read_json(request)
            await limit(request, data["session_id"])
            message = parse_chat(data)
            reply = await core.handle(message)
        except BadRequest as error:
            return _error(error.status, error.message_key)
        except RateLimited:
            return _error(429, "rate_limited")
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large")
        body = {"session_id": data["session_id"], "messages": [m.as_json() for m in reply.messages], "escalation": reply.escalation}
        return web.json_response(body, headers=NO_STORE)

    async def updates(request: web.Request) -> web.Response:
        try:
            data = await _read_json(request)
        except BadRequest as error:
            return _error(error.status, error.message_key)
        try:
            await limit(request)
        except RateLimited:
            return _error(429, "rate_limited")
        reply = await core.updates("web", data["session_id"])
        body = {"session_id": data["session_id"], "messages": [m.as_json() for m in reply.messages], "escalation": reply.escalation}
        return web.json_response(body, headers=NO_STORE)

    async def forget(request: web.Request) -> web.Response:
        try:
            data = await _read_json(request)
        except BadRequest as error:
            return _error(error.status, error.message_key)
        await core.forget("web", data["session_id"])
        return web.Response(status=204, headers=NO_STORE)

    return [
        web.get("/", chat_page),
        web.get("/exit", exit_page),
        web.post("/api/chat", chat),
        web.post("/api/session", session),
        web.post("/api/forget", forget),
        web.post("/api/updates", updates),
        web.static("/static", STATIC),
    ]
