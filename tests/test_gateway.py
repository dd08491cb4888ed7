"""The gateway without the real Rasa: degraded mode, merging the safety net with Rasa's
answer, and the HTTP contract. Rasa is either absent (closed port) or a small fake that
speaks its REST webhook format."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import settings
from bot.gateway import create_app
from tests.e2e.conftest import free_port

EMERGENCY_NUMBERS = ("113", "115", "111")


async def gateway(rasa_port: int) -> TestClient:
    import dataclasses

    config = dataclasses.replace(settings(), rasa_port=rasa_port, actions_port=free_port(), admin_token="a" * 20)
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    return client


async def fake_rasa(answer: list[dict]) -> tuple[TestServer, list[dict]]:
    received: list[dict] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/webhooks/gateway/webhook", webhook)
    app.router.add_get("/", lambda _r: web.Response(text="Hello from Rasa"))
    server = TestServer(app, port=free_port())
    await server.start_server()
    return server, received


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch):
    from tests.conftest import _reset_caches

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'g.sqlite3'}")
    monkeypatch.setenv("GBVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("GBVBOT_SECRET_KEY", "unit-secret-key-0123456789abcdefghij")
    _reset_caches()
    from bot.storage import db

    db.upgrade()
    yield
    _reset_caches()


async def test_rasa_down_still_answers_with_emergency_numbers(sqlite_db):
    """(How long that answer takes is a figure printed by `make bench`, bench/bench_timings.py.)"""
    client = await gateway(free_port())
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "xin chào"})
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 200
    text = body["messages"][0]["text"]
    assert all(n in text for n in EMERGENCY_NUMBERS)
    assert "hạn chế" in text


async def test_rasa_down_and_danger_gives_the_emergency_answer_first(sqlite_db):
    client = await gateway(free_port())
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "cuu toi voi no dang cam dao"})
        body = await response.json()
    finally:
        await client.close()
    assert body["messages"][0]["text"].startswith("Hãy gọi ngay 113")


async def test_safety_net_adds_the_emergency_answer_when_rasa_missed_it(sqlite_db):
    server, received = await fake_rasa([{"recipient_id": "x", "text": "Chào bạn"}])
    client = await gateway(server.port)
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "ck đg bóp cổ e"})
        body = await response.json()
    finally:
        await client.close()
        await server.close()
    texts = [m["text"] for m in body["messages"]]
    assert texts[0].startswith("Hãy gọi ngay 113") and texts[-1] == "Chào bạn"
    # no officer is registered: the case is opened and the resident told plainly to call 113
    assert body["escalation"]["status"] == "unreached"
    assert any(t.startswith("Mình chưa liên lạc được người trực") for t in texts)
    assert received[0]["sender"] != "abc" and len(received[0]["sender"]) == 40  # pseudonym


async def test_no_duplicate_emergency_answer_when_rasa_recognised_it(sqlite_db):
    server, _ = await fake_rasa([{"text": "Gọi 113 ngay"}, {"custom": {"signal": "urgent"}}])
    client = await gateway(server.port)
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "cứu tôi với"})
        body = await response.json()
    finally:
        await client.close()
        await server.close()
    assert [m["text"] for m in body["messages"]][0] == "Gọi 113 ngay"
    assert not any(m["text"].startswith("Hãy gọi ngay 113") for m in body["messages"])
    assert body["escalation"] is not None


async def test_unclear_violence_asks_whether_the_person_is_in_danger(sqlite_db):
    server, _ = await fake_rasa([{"text": "Mình nghe bạn."}])
    client = await gateway(server.port)
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "hôm qua nó đánh tôi"})
        body = await response.json()
    finally:
        await client.close()
        await server.close()
    last = body["messages"][-1]
    assert "nguy hiểm" in last["text"]
    assert [b["payload"] for b in last["buttons"]] == ["/urgent_danger", "/deny"]


async def test_typed_slash_text_is_not_read_as_an_intent(sqlite_db):
    server, received = await fake_rasa([{"text": "ok"}])
    client = await gateway(server.port)
    try:
        await client.post("/api/chat", json={"session_id": "abc", "text": "/urgent_danger{\"x\":1}"})
        await client.post("/api/chat", json={"session_id": "abc", "location": {"lat": 16.5, "lon": 107.5}})
    finally:
        await client.close()
        await server.close()
    assert not received[0]["message"].startswith("/")
    assert received[1]["message"] == '/share_location{"lat": 16.5, "lon": 107.5}'


async def test_safe_word_erases_and_answers_neutrally(sqlite_db):
    server, received = await fake_rasa([{"text": "ok"}])
    client = await gateway(server.port)
    try:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "THOÁT"})
        body = await response.json()
    finally:
        await client.close()
        await server.close()
    assert body["messages"][0]["text"] == "Đã dừng."
    assert received == []


async def test_health_reports_rasa_down(sqlite_db):
    client = await gateway(free_port())
    try:
        response = await client.get("/healthz")
        body = await response.json()
    finally:
        await client.close()
    assert body == {"status": "ok", "rasa": "down", "rasa_servers": ["down"], "actions": "down", "db": "up",
                    "scheduler": "leader"}  # SQLite: the one gateway leads


async def test_page_is_vietnamese_uncached_and_shows_the_demo_banner(sqlite_db):
    client = await gateway(free_port())
    try:
        response = await client.get("/")
        html = await response.text()
    finally:
        await client.close()
    assert response.headers["Cache-Control"] == "no-store"
    assert 'lang="vi"' in html and "Thoát nhanh" in html
    assert "Bản thử nghiệm" in html and "{{DEMO_BANNER}}" not in html


async def test_a_compressed_body_is_refused_before_it_is_read(sqlite_db):
    import gzip

    client = await gateway(free_port())
    try:
        bomb = gzip.compress(b'{"session_id": "abc", "text": "' + b" " * 5_000_000 + b'"}')
        assert len(bomb) < 10_000  # 5 MB once inflated
        for path in ("/api/chat", "/api/forget", "/api/updates", "/webhooks/telegram", "/api/cases/X/close"):
            response = await client.post(path, data=bomb, headers={
                "Content-Type": "application/json", "Content-Encoding": "gzip", "Connection": "close"})
            assert response.status == 415, path
    finally:
        await client.close()


async def test_a_body_that_arrives_in_pieces_is_read_whole(sqlite_db):
    server, _received = await fake_rasa([{"text": "Chào bạn"}])
    client = await gateway(server.port)

    async def pieces():
        for piece in (b'{"session_id": "pieces", ', b'"text": "xin ', b'ch\xc3\xa0o"}'):
            yield piece

    try:
        response = await client.post("/api/chat", data=pieces(), headers={"Content-Type": "application/json"})
        body = await response.json()
    finally:
        await client.close()
        await server.close()
    assert response.status == 200 and body["messages"][0]["text"] == "Chào bạn"
