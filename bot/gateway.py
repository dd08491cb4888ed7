"""The gateway: the one public HTTP surface (web chat, messaging webhooks, health, case API,
the officers' web console at /console/).

Rasa and the action server listen on loopback behind it; channels hand messages to the
conversation core, which talks to Rasa through one client. The scheduler (escalation
timers, retention) and the campaign engine run on the gateway's event loop, so alerts and
campaign messages leave through the channels' priority queues. With several gateways on one
database they run on the leader only (bot/scheduler.py, `Leadership`), as does Telegram polling.
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
    rasa = RasaClient(settings.rasa_urls, settings.actions_url)
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
        servers, actions_up = await rasa.rasa_servers_health(), await rasa.actions_health()
        return web.json_response(
            {
                "status": "ok",
                "rasa": "up" if any(servers) else "down",
                "rasa_servers": ["up" if up else "down" for up in servers],
                "actions": "up" if actions_up else "down",
                "db": "up" if _db_up() else "down",
                "scheduler": "leader" if leadership.leading else "follower",
            },
            headers=web_channel.NO_STORE,
        )

    # Messaging channels start only when configured: no token, no network.
    channels: list[TelegramChannel | ZaloChannel] = []
    if settings.telegram_enabled:
        by_name["telegram"] = TelegramChannel(core, settings, escalation=service, poll=False)
    if settings.zalo_enabled:
        by_name["zalo"] = ZaloChannel(core, settings)
    channels.extend(by_name.values())
    app[CHANNELS] = channels
    campaigns: list[CampaignEngine] = []  # the running engine, while this gateway leads

    async def elected() -> None:
        jobs.resume()
        campaigns.append(CampaignEngine(by_name))
        await campaigns[-1].start()
        if "telegram" in by_name:
            await by_name["telegram"].lead(True)

    async def deposed() -> None:
        jobs.pause()
        if "telegram" in by_name:
            await by_name["telegram"].lead(False)
        while campaigns:
            await campaigns.pop().stop()

    leadership = scheduler.Leadership(settings.database_url, elected, deposed, tick=jobs.wakeup)
    leading: list[asyncio.Task] = []

    async def on_startup(_app: web.Application) -> None:
        await rasa.start()
        for channel in channels:
            await channel.start()
        escalation.install(service)
        reminders.install(service.sender)
        jobs.start(paused=True)  # writes jobs to the shared store; runs them only while leading
        leading.append(asyncio.create_task(leadership.run(), name="leadership"))

    async def on_cleanup(_app: web.Application) -> None:
        for task in leading:
            task.cancel()
        await asyncio.gather(*leading, return_exceptions=True)
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
    app.add_routes([web.get("/healthz", healthz), *admin.routes(settings, service, store),
                    *console.routes(settings, service, store)])
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM. Request bodies are never decompressed (auto_decompress off),
    and no access log is written (it would hold residents' addresses)."""

    async def main() -> None:
        runner = web.AppRunner(create_app(settings), access_log=None, auto_decompress=False, handle_signals=True)
        await runner.setup()
        # Several gateways share the public port (SO_REUSEPORT: the kernel spreads connections).
        await web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.gateways > 1).start()
        log.info("gateway listening on %s:%d (mode=%s)", settings.host, settings.port, settings.mode)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except (web.GracefulExit, KeyboardInterrupt):
        pass
