"""Channel tests: the real gateway in-process, a fake Rasa, and the fake Telegram / Zalo
servers from tests/fakes driven through the real clients."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.config import settings
from bot.gateway import CHANNELS, create_app
from tests.conftest import database_dump  # noqa: F401  (re-exported for the channel tests)
from tests.e2e.conftest import free_port
from tests.fakes import telegram as tg
from tests.fakes import zalo as zl

MENU = [
    {"title": "Quyền của tôi", "payload": "/ask_rights"},
    {"title": "Tìm nơi an toàn", "payload": "/find_shelter"},
]
ASK_PLACE = [
    {"title": "Phường Hương Trà", "payload": '/inform_place{"place":"Phường Hương Trà"}'},
    {"title": "Xã Bình Điền", "payload": '/inform_place{"place":"Xã Bình Điền"}'},
]


def rasa_like(message: str) -> list[dict]:
    """Answers shaped like the real bot's: text, buttons, custom signals."""
    if message == "/find_shelter":
        return [{"text": "Bạn đang ở phường, xã nào?", "buttons": ASK_PLACE}]
    if message == "/subscribe":
        return [{"text": "Cảm ơn bạn, mình sẽ gửi tin.", "buttons": [{"title": "Hủy đăng ký", "payload": "/unsubscribe"}]}]
    if message == "/unsubscribe":
        return [{"text": "Mình đã hủy đăng ký.", "buttons": []}]
    return [{"recipient_id": "x", "text": "Chào bạn, mình có thể giúp gì?", "buttons": MENU}]


class FakeRasa:
    """Rasa's REST webhook. `delay`: seconds each answer takes; `hold`: an event the answers
    wait for (a test sets it when Rasa may answer)."""

    def __init__(self, answer=rasa_like, delay: float = 0.0, hold: asyncio.Event | None = None):
        self.answer = answer
        self.delay = delay
        self.hold = hold
        self.received: list[dict] = []
        self.server: TestServer | None = None

    async def start(self) -> FakeRasa:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.received.append(body)
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.hold is not None:
                await self.hold.wait()
            return web.json_response(self.answer(body["message"]))

        app = web.Application()
        app.router.add_post("/webhooks/gateway/webhook", webhook)
        app.router.add_get("/", lambda _r: web.Response(text="Hello from Rasa"))
        self.server = TestServer(app, port=free_port())
        await self.server.start_server()
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def messages(self) -> list[str]:
        return [r["message"] for r in self.received]

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch):
    from tests.conftest import _reset_caches

    url = f"sqlite:///{tmp_path / 'channels.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GBVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GBVBOT_SECRET_KEY", "channel-secret-key-0123456789abcdefghij")
    _reset_caches()
    from bot.storage import db

    db.upgrade()
    yield url
    db.engine(url).dispose()
    _reset_caches()


@pytest.fixture
def app_logs():
    """The gateway's own log output (bot.log.setup at DEBUG, as configured in production);
    returns a function giving everything logged so far."""
    from bot import log as logsetup

    root = logging.getLogger()
    names = ("httpx", "httpcore", "telegram", "aiohttp.access", "apscheduler.executors.default", "alembic")
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in names}
    logsetup.setup("DEBUG", "gateway")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    yield stream.getvalue
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
async def rasa():
    fake = await FakeRasa().start()
    yield fake
    await fake.close()


@pytest.fixture
async def telegram_api():
    fake = tg.FakeTelegram()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def zalo_api():
    fake = zl.FakeZalo()
    await fake.start()
    yield fake
    await fake.close()


def telegram_settings(fake: tg.FakeTelegram, **extra) -> dict:
    return {"telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url, **extra}


def zalo_settings(fake: zl.FakeZalo, **extra) -> dict:
    return {
        "zalo_app_id": zl.APP_ID,
        "zalo_app_secret": zl.APP_SECRET,
        "zalo_oa_secret_key": zl.OA_SECRET_KEY,
        "zalo_access_token": zl.ACCESS_TOKEN,
        "zalo_refresh_token": zl.REFRESH_TOKEN,
        "zalo_api_base_url": fake.base_url,
        "zalo_oauth_base_url": fake.base_url,
        **extra,
    }


@asynccontextmanager
async def gateway(rasa_port: int, **overrides):
    """The real gateway app (channels included) on a test server."""
    config = dataclasses.replace(settings(), rasa_port=rasa_port, actions_port=free_port(), **overrides)
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def channel(client: TestClient, kind: type):
    return next(c for c in client.app[CHANNELS] if isinstance(c, kind))


async def until(predicate, timeout: float = 10.0) -> None:
    """Wait for a condition to hold (polls; fails after `timeout`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def table_rows(table: str) -> list:
    from bot.storage.db import session_scope

    with session_scope() as session:
        return session.execute(text(f"SELECT * FROM {table}")).all()
