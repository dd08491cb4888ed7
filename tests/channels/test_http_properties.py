"""Property: whatever arrives on any route (malformed JSON, wrong types, oversized, compressed
or split bodies, odd Unicode), the gateway answers 2xx or 4xx — never 5xx — and a refused
request stores nothing.

One real gateway (with the Telegram and Zalo channels on, their APIs faked) runs in a
background thread; hypothesis sends it requests over real HTTP.
"""

from __future__ import annotations

import dataclasses
import gzip
import http.client
import json

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import settings as config
from bot.gateway import create_app
from tests.channels.conftest import FakeRasa, telegram_settings, zalo_settings
from tests.conftest import database_dump
from tests.e2e.conftest import free_port
from tests.fakes import InThread
from tests.fakes import telegram as tg
from tests.fakes import zalo as zl

SECRET = "property-webhook-secret-0123456789abcdef"
ADMIN = "property-admin-token-0123"
ROUTES = [
    ("POST", "/api/chat"), ("POST", "/api/session"), ("POST", "/api/forget"), ("POST", "/api/updates"),
    ("POST", "/api/cases/ABCD1234/ack"), ("POST", "/api/cases/ABCD1234/close"), ("GET", "/api/cases"),
    ("GET", "/api/cases/ABCD1234"), ("POST", "/webhooks/telegram"), ("POST", "/webhooks/zalo"),
    ("GET", "/"), ("GET", "/healthz"),
    ("POST", "/console/login"), ("POST", "/console/logout"), ("POST", "/console/cases/ABCD1234/close"),
    ("GET", "/console/cases/ABCD1234"), ("GET", "/console/login"), ("POST", "/console/reports"), ("GET", "/console/reports"),
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["session_id", "text", "payload", "location", "outcome", "note", "update_id", "event_name"])
BODIES = st.one_of(
    st.binary(max_size=300),  # anything at all
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),  # odd Unicode, even lone surrogates
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=5).map(lambda d: json.dumps(d).encode()),
    st.builds(lambda n: b'{"session_id": "s", "text": "' + b"a" * n + b'"}', st.integers(30_000, 80_000)),  # oversized
)


class Gateway:
    """The real gateway app on a real port, for InThread."""

    def __init__(self, rasa_port: int, telegram: tg.FakeTelegram, zalo: zl.FakeZalo):
        self.port = free_port()
        self.config = dataclasses.replace(
            config(), rasa_port=rasa_port, actions_port=free_port(), admin_token=ADMIN,
            **telegram_settings(telegram, telegram_webhook_url="https://x.example.vn/webhooks/telegram",
                                telegram_webhook_secret=SECRET),
            **zalo_settings(zalo),
        )
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(create_app(self.config), auto_decompress=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        await self.runner.cleanup()


class Services:
    async def start(self) -> None:
        self.rasa = await FakeRasa().start()
        self.telegram = tg.FakeTelegram()
        await self.telegram.start()
        self.zalo = zl.FakeZalo()
        await self.zalo.start()

    async def close(self) -> None:
        await self.zalo.close()
        await self.telegram.close()
        await self.rasa.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.conftest import _reset_caches

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("properties")
    url = f"sqlite:///{tmp / 'p.sqlite3'}"
    mp.setenv("DATABASE_URL", url)
    mp.setenv("GBVBOT_VAR_DIR", str(tmp))
    mp.setenv("GBVBOT_SECRET_KEY", "property-secret-key-0123456789abcdefghij")
    _reset_caches()
    from bot.storage import db

    db.upgrade()
    with InThread(Services()) as services:
        fakes = services.fake
        with InThread(Gateway(fakes.rasa.port, fakes.telegram, fakes.zalo)) as gateway:
            yield gateway.fake.port, url
    mp.undo()
    _reset_caches()


def send(port: int, method: str, path: str, body: bytes, headers: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if headers.pop("_split", False) and body:  # the body in two pieces, chunked
            connection.putrequest(method, path)
            for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
                connection.putheader(name, value)
            connection.endheaders()
            for piece in (body[: len(body) // 2], body[len(body) // 2:]):
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        else:
            connection.request(method, path, body=body if method == "POST" else None, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    body=BODIES,
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", None]),
    compressed=st.booleans(),
    split=st.booleans(),
    authorised=st.booleans(),
)
def test_no_request_gets_a_server_error_and_a_refused_one_stores_nothing(
        live, route, body, content_type, compressed, split, authorised):
    port, url = live
    method, path = route
    headers: dict = {}
    if content_type:
        headers["Content-Type"] = content_type
    if compressed:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    if authorised:
        headers["Authorization"] = f"Bearer {ADMIN}"
        headers["X-Telegram-Bot-Api-Secret-Token"] = SECRET
    headers["_split"] = split
    before = database_dump(url)
    status = send(port, method, path, body, headers)
    assert status < 500, (method, path, status)
    if status >= 400 and not path.startswith(("/api/cases", "/console")):  # both audit refusals on purpose
        assert database_dump(url) == before, (method, path, status)
