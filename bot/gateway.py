"""The gateway: the one public HTTP surface (web chat, health, admin API).

Rasa and the action server listen on loopback behind it; channels hand messages to the
conversation core, which talks to Rasa through one client.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from sqlalchemy import select, text

from bot.channels import web as web_channel
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.config import Settings
from bot.conversation.core import ConversationCore
from bot.conversation.rasa_client import RasaClient
from bot.storage.db import session_scope
from bot.storage.models import Case

log = logging.getLogger(__name__)
CHANNELS = web.AppKey("channels", list)


def _db_up() -> bool:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" for a health probe
        return False


def create_app(settings: Settings) -> web.Application:
    rasa = RasaClient(settings.rasa_url, settings.actions_url)
    core = ConversationCore(rasa, settings.rate_per_minute)
    app = web.Application(client_max_size=web_channel.MAX_BODY)

    async def healthz(_request: web.Request) -> web.Response:
        rasa_up, actions_up = await rasa.rasa_health(), await rasa.actions_health()
        return web.json_response(
            {
                "status": "ok",
                "rasa": "up" if rasa_up else "down",
                "actions": "up" if actions_up else "down",
                "db": "up" if _db_up() else "down",
            },
            headers=web_channel.NO_STORE,
        )

    async def cases(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if not settings.admin_token or not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return web.json_response({"error": "unauthorized"}, status=401)
        status = request.query.get("status", "open")
        if status not in ("open", "all"):
            return web.json_response({"error": "status must be 'open' or 'all'"}, status=400)
        query = select(Case).order_by(Case.created_at.desc())
        if status == "open":
            query = query.where(Case.status != "closed")
        with session_scope() as session:
            rows = session.scalars(query).all()
        return web.json_response(
            [
                {
                    "id": c.id, "status": c.status, "severity": c.severity, "category": c.category,
                    "created_at": c.created_at.isoformat(), "channel": c.channel, "ward": c.ward,
                }
                for c in rows
            ],
            headers=web_channel.NO_STORE,
        )

    # Messaging channels start only when configured: no token, no network.
    channels: list[TelegramChannel | ZaloChannel] = []
    if settings.telegram_enabled:
        channels.append(TelegramChannel(core, settings))
    if settings.zalo_enabled:
        channels.append(ZaloChannel(core, settings))
    app[CHANNELS] = channels

    async def on_startup(_app: web.Application) -> None:
        await rasa.start()
        for channel in channels:
            await channel.start()

    async def on_cleanup(_app: web.Application) -> None:
        for channel in reversed(channels):
            await channel.stop()
        await rasa.close()

    app.add_routes(web_channel.routes(core, settings.demo))
    for channel in channels:
        app.add_routes(channel.routes())
    app.add_routes([web.get("/healthz", healthz), web.get("/api/cases", cases)])
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def serve(settings: Settings) -> None:
    log.info("gateway listening on %s:%d (mode=%s)", settings.host, settings.port, settings.mode)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None, print=None)
