"""Dev-only stand-in for the gateway, to work on the web page without Rasa.

Serves the static files the way the real gateway does (/, /static/*, /exit) and a fake
/api/chat that echoes the text with two buttons. Not used by the test suite.

    .venv/bin/python tests/e2e/fake_api.py --port 18099 [--demo] [--delay 0.5] [--cacheable]

--cacheable drops Cache-Control: no-store from the page, so Chrome may keep it in the
back/forward cache (to try the page's `pageshow` handling).

Special inputs: "lỗi 429" / "lỗi 400" answer with that error; "lỗi 500" answers 500
without JSON; "khẩn" adds an escalation. GET /_fake/log lists the calls received.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parents[2] / "bot" / "channels" / "static"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
BANNER = '<p class="demo-banner" role="note">Bản thử nghiệm: thông tin chỉ để minh họa.</p>'
CALLS = web.AppKey("calls", list)
BUTTONS = [
    {"title": "Quyền của tôi", "payload": "/ask_rights"},
    {"title": "Tìm nơi an toàn", "payload": "/find_shelter"},
]


def make_app(demo: bool = False, delay: float = 0.0, cacheable: bool = False) -> web.Application:
    app = web.Application()
    app[CALLS] = []
    page_headers = {**HEADERS, "Content-Security-Policy": CSP}
    if cacheable:
        del page_headers["Cache-Control"]

    async def index(_request: web.Request) -> web.Response:
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        page = page.replace("{{DEMO_BANNER}}", BANNER if demo else "")
        return web.Response(text=page, content_type="text/html", headers=page_headers)

    async def exit_page(_request: web.Request) -> web.Response:
        return web.FileResponse(STATIC / "exit.html", headers=page_headers)

    async def chat(request: web.Request) -> web.Response:
        data = await request.json()
        app[CALLS].append({"path": "/api/chat", **data})
        if delay:
            await asyncio.sleep(delay)
        text = data.get("text")
        if text == "lỗi 429":
            return web.json_response({"error": "Bạn gửi nhanh quá, vui lòng chờ một chút."}, status=429)
        if text == "lỗi 400":
            return web.json_response({"error": "Tin nhắn không hợp lệ."}, status=400)
        if text == "lỗi 500":
            return web.Response(status=500, text="boom")
        if text is not None:
            reply = (
                f"Bạn vừa viết: {text}\n"
                "Gọi 113 hoặc 0234 3 822 000 nếu cần. Điều 113 không phải số điện thoại.\n"
                "Bản đồ: https://www.openstreetmap.org/?mlat=16.4637&mlon=107.5909#map=17/16.4637/107.5909."
            )
        elif data.get("payload"):
            reply = f"Bạn đã chọn {data['payload']}."
        else:
            loc = data.get("location") or {}
            reply = f"Đã nhận vị trí {loc.get('lat')}, {loc.get('lon')}."
        escalation = {"case_id": "c-1", "status": "Đã báo cho cán bộ trực"} if text and "khẩn" in text else None
        body = {
            "session_id": data["session_id"],
            "messages": [{"text": reply, "buttons": BUTTONS}],
            "escalation": escalation,
        }
        return web.json_response(body, headers=HEADERS)

    async def forget(request: web.Request) -> web.Response:
        data = await request.json()
        app[CALLS].append({"path": "/api/forget", **data})
        return web.Response(status=204, headers=HEADERS)

    async def log(_request: web.Request) -> web.Response:
        return web.json_response(app[CALLS])

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.add_routes(
        [
            web.get("/", index),
            web.get("/exit", exit_page),
            web.post("/api/chat", chat),
            web.post("/api/forget", forget),
            web.get("/healthz", healthz),
            web.get("/_fake/log", log),
            web.static("/static", STATIC),
        ]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18099)
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--cacheable", action="store_true")
    args = parser.parse_args()
    web.run_app(make_app(args.demo, args.delay, args.cacheable), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
