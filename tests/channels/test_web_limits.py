"""The web chat against floods: client addresses behind a trusted proxy, limits per address,
server-signed session ids, JSON only and same-origin only on /api/*."""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid

from aiohttp.test_utils import make_mocked_request

from bot.channels import web as web_channel
from bot.config import settings
from tests.e2e.conftest import free_port
from tests.test_gateway import fake_rasa, gateway, sqlite_db  # noqa: F401  (fixture)

PROXY = (ipaddress.ip_network("127.0.0.1/32"),)


def request_from(peer: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/api/chat", headers=headers)
    return request.clone(remote=peer)


def test_forwarded_for_is_believed_only_from_the_trusted_proxy():
    assert web_channel.client_address(request_from("127.0.0.1", "203.0.113.7"), PROXY) == "203.0.113.7"
    assert web_channel.client_address(request_from("198.51.100.9", "203.0.113.7"), PROXY) == "198.51.100.9"
    assert web_channel.client_address(request_from("127.0.0.1", "203.0.113.7"), ()) == "127.0.0.1"
    # the client may write its own X-Forwarded-For: only the hop the proxy added counts
    assert web_channel.client_address(request_from("127.0.0.1", "10.9.9.9, 203.0.113.7"), PROXY) == "203.0.113.7"


def test_a_signed_session_id_verifies_and_a_forged_one_does_not(sqlite_db):  # noqa: F811
    issued = web_channel.issue_session()
    assert web_channel.SESSION_ID.fullmatch(issued) and web_channel.signed(issued) is True
    forged = issued[:-4] + ("AAAA" if not issued.endswith("AAAA") else "BBBB")
    assert web_channel.signed(forged) is False
    assert web_channel.signed(uuid.uuid4().hex) is None  # an id this server did not issue


async def limited_gateway(rasa_port: int, **overrides):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.gateway import create_app

    config = dataclasses.replace(settings(), rasa_port=rasa_port, actions_port=free_port(), admin_token="a" * 20,
                                 **{"trusted_proxies": PROXY, **overrides})
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    return client


async def test_one_address_cannot_open_sessions_without_end_but_others_still_can(sqlite_db):  # noqa: F811
    server, _ = await fake_rasa([{"text": "Chào bạn"}])
    client = await limited_gateway(server.port, new_sessions_per_address=5)
    try:
        statuses = []
        for _ in range(8):
            response = await client.post("/api/chat", json={"session_id": uuid.uuid4().hex, "payload": "/greet"},
                                         headers={"X-Forwarded-For": "203.0.113.7"})
            statuses.append(response.status)
        other = await client.post("/api/chat", json={"session_id": uuid.uuid4().hex, "payload": "/greet"},
                                  headers={"X-Forwarded-For": "203.0.113.8"})
    finally:
        await client.close()
        await server.close()
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    assert other.status == 200


async def test_one_address_is_limited_in_messages_per_minute(sqlite_db):  # noqa: F811
    server, _ = await fake_rasa([{"text": "Chào bạn"}])
    client = await limited_gateway(server.port, rate_per_address=4)
    try:
        session = web_channel.issue_session()
        statuses = [(await client.post("/api/chat", json={"session_id": session, "text": "xin chào"},
                                       headers={"X-Forwarded-For": "203.0.113.9"})).status for _ in range(6)]
    finally:
        await client.close()
        await server.close()
    assert statuses == [200] * 4 + [429] * 2


async def test_api_takes_only_json_from_this_site_and_issues_signed_sessions(sqlite_db):  # noqa: F811
    server, _ = await fake_rasa([{"text": "Chào bạn"}])
    client = await gateway(server.port)
    try:
        form = await client.post("/api/chat", data="session_id=abc&text=hi",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        elsewhere = await client.post("/api/chat", json={"session_id": "abc", "text": "hi"},
                                      headers={"Origin": "https://evil.example"})
        here = await client.post("/api/chat", json={"session_id": "abc", "text": "hi"},
                                 headers={"Origin": f"http://{client.host}:{client.port}"})
        issued = await (await client.post("/api/session", json={})).json()
        forged = await client.post("/api/chat", json={"session_id": issued["session_id"][:-2] + "zz", "text": "hi"})
        page = await (await client.get("/")).text()
    finally:
        await client.close()
        await server.close()
    assert form.status == 415 and elsewhere.status == 403 and here.status == 200
    assert web_channel.signed(issued["session_id"]) is True
    assert forged.status == 400
    meta = page.split('name="gbvbot-session" content="')[1].split('"')[0]
    assert web_channel.signed(meta) is True


async def test_loopback_without_a_proxy_is_not_address_limited(sqlite_db):  # noqa: F811
    """Development, tests and a local evaluation talk to the gateway directly on loopback."""
    server, _ = await fake_rasa([{"text": "Chào bạn"}])
    client = await limited_gateway(server.port, new_sessions_per_address=2, trusted_proxies=())
    try:
        statuses = [(await client.post("/api/chat", json={"session_id": uuid.uuid4().hex, "payload": "/greet"})).status
                    for _ in range(6)]
    finally:
        await client.close()
        await server.close()
    assert statuses == [200] * 6
