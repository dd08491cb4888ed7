"""Web chat channel: the page, and the JSON contract of /api/chat and /api/forget.

Every malformed request gets a 4xx with a Vietnamese `error` and nothing is stored.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from aiohttp import web

from bot import content
from bot.channels.http import BodyRejected, read_body
from bot.channels.messaging import valid_payload
from bot.conversation.core import ConversationCore, Message, RateLimited

STATIC = Path(__file__).with_name("static")
MAX_BODY = 32 * 1024  # bytes; 4,000 Vietnamese characters fit with room to spare
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


class BadRequest(Exception):
    def __init__(self, status: int, message_key: str):
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


def _error(status: int, key: str) -> web.Response:
    return web.json_response({"error": content.text(key)}, status=status, headers=NO_STORE)


async def _read_json(request: web.Request) -> dict:
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
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
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
        if len(text) > 4000:
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


def routes(core: ConversationCore, demo: bool) -> list[web.RouteDef]:
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    banner = f'<p class="demo-banner" role="note">{content.text("demo_banner")}</p>' if demo else ""
    page = index.replace("{{DEMO_BANNER}}", banner)
    page_headers = {**NO_STORE, "Content-Security-Policy": CSP}

    async def chat_page(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", headers=page_headers)

    async def exit_page(_request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "exit.html", headers=page_headers)

    async def chat(request: web.Request) -> web.Response:
        try:
            data = await _read_json(request)
            message = parse_chat(data)
            reply = await core.handle(message)
        except BadRequest as error:
            return _error(error.status, error.message_key)
        except RateLimited:
            return _error(429, "rate_limited")
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large")
        body = {"session_id": data["session_id"], "messages": reply.messages, "escalation": reply.escalation}
        return web.json_response(body, headers=NO_STORE)

    async def updates(request: web.Request) -> web.Response:
        try:
            data = await _read_json(request)
        except BadRequest as error:
            return _error(error.status, error.message_key)
        reply = core.updates("web", data["session_id"])
        body = {"session_id": data["session_id"], "messages": reply.messages, "escalation": reply.escalation}
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
        web.post("/api/forget", forget),
        web.post("/api/updates", updates),
        web.static("/static", STATIC),
    ]
