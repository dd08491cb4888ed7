"""The gateway: the one public HTTP surface (web chat, messaging webhooks, health, case API,
the officers' web console at /console/).

Rasa and the action server listen on loopback behind it; channels hand messages to the
conversation core, which talks to Rasa through one client. The scheduler (escalation
timers, retention) and the campaign engine run on the gateway's event loop, so alerts and
campaign messages leave through the channels' priority queues.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import web
from sqlalchemy import text

from bot import admin, console, scheduler
from bot.channels import web as web_channel
from bot.channels.http import refuse_compressed_bodies
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.config import Settings
from bot.conversation.core import ConversationCore
from bot.conversation.rasa_client import RasaClient
from bot.messages import Button
from bot.services import escalation, reminders
from bot.services.campaigns import CampaignEngine
from bot.storage.db import session_scope
from bot.storage.shared import open_store

log = logging.getLogger(__name__)
CHANNELS = web.AppKey("channels", list)


def _db_up() -> bool:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" for a health probe
        return False


class ChannelAlerts:
    """The escalation service's AlertSender: officer alerts go out on Telegram; messages to
    a resident go back on the channel the resident wrote from (web: shown on the next turn)."""

    def __init__(self, channels: dict):
        self.channels = channels

    async def send_alert(self, chat: str, text: str, buttons: tuple[Button, ...]) -> str | None:
        telegram = self.channels.get("telegram")
        return await telegram.send_alert(chat, text, buttons) if telegram else None

    async def edit_alert(self, ref: str, text: str) -> None:
        telegram = self.channels.get("telegram")
        if telegram:
            await telegram.edit_alert(ref, text)

    async def send_to_resident(self, channel: str, reply_to: str, text: str, buttons: tuple[Button, ...] = ()) -> bool:
        target = self.channels.get(channel)
        return await target.send_to_resident(reply_to, text, buttons) if target else False


def create_app(settings: Settings) -> web.Application:
    rasa = RasaClient(settings.rasa_url, settings.actions_url)
    jobs = scheduler.build(settings)
    by_name: dict = {}
    store = open_store(settings.redis_url)  # state several gateways share (memory without REDIS_URL)
    service = escalation.Escalation(
        ChannelAlerts(by_name), timedelta(seconds=settings.ack_timeout), scheduler.ladder_timer(jobs),
        cases_per_window=settings.cases_per_5_minutes, store=store,
    )
    core = ConversationCore(rasa, settings.rate_per_minute, service, settings.usefulness_percent)
    app = web.Application(client_max_size=web_channel.MAX_BODY, middlewares=[refuse_compressed_bodies])

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

    # Messaging channels start only when configured: no token, no network.
    channels: list[TelegramChannel | ZaloChannel] = []
    if settings.telegram_enabled:
        by_name["telegram"] = TelegramChannel(core, settings, escalation=service)
    if settings.zalo_enabled:
        by_name["zalo"] = ZaloChannel(core, settings)
    channels.extend(by_name.values())
    app[CHANNELS] = channels
    engine = CampaignEngine(by_name)

    async def on_startup(_app: web.Application) -> None:
        await rasa.start()
        for channel in channels:
            await channel.start()
        escalation.install(service)
        reminders.install(service.sender)
        jobs.start()
        await engine.start()

    async def on_cleanup(_app: web.Application) -> None:
        await engine.stop()
        jobs.shutdown(wait=False)
        escalation.install(None)
        reminders.install(None)
        for channel in reversed(channels):
            await channel.stop()
        await rasa.close()
        await store.close()

    limits = web_channel.AddressLimits(settings.rate_per_address, settings.new_sessions_per_address, store)
    app.add_routes(web_channel.routes(core, settings.demo, limits, settings.trusted_proxies,
                                      settings.follow_links))
    for channel in channels:
        app.add_routes(channel.routes())
    app.add_routes([web.get("/healthz", healthz), *admin.routes(settings, service), *console.routes(settings, service)])
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM. Request bodies are never decompressed (auto_decompress off),
    and no access log is written (it would hold residents' addresses)."""

    async def main() -> None:
        runner = web.AppRunner(create_app(settings), access_log=None, auto_decompress=False, handle_signals=True)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("gateway listening on %s:%d (mode=%s)", settings.host, settings.port, settings.mode)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except (web.GracefulExit, KeyboardInterrupt):
        pass
