"""Two gateways (two conversation cores and escalation services, each with its own Redis
connections) on one database and the machine's Redis behave as one: a resident's messages
may land on either."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.channels.web import AddressLimits
from bot.config import settings
from bot.conversation.core import ConversationCore, Message, RateLimited
from bot.gateway import create_app
from bot.services import escalation as escalation_module
from bot.services.escalation import Escalation
from bot.storage.db import session_scope
from bot.storage.models import CaseEvent
from bot.storage.shared import RedisStore
from tests.conversation.test_core import DOMAIN, WEEKDAY_MORNING, ScriptedRasa, _as_rasa
from tests.e2e.conftest import free_port
from tests.services.test_escalation import Clock, RecordingSender
from tests.test_gateway import fake_rasa, sqlite_db  # noqa: F401  (fixture)

pytestmark = pytest.mark.redis
URGENT = [{"text": "Hãy gọi ngay 113…", "custom": {"signal": "urgent"}}]


def gateway(store, *answers, rate_per_minute=100, cases_per_window=10):
    """One gateway's core and escalation service on `store`."""
    service = Escalation(RecordingSender(), timedelta(minutes=3), lambda *_: None, Clock(WEEKDAY_MORNING),
                         cases_per_window=cases_per_window, store=store)
    return ConversationCore(ScriptedRasa(*answers), rate_per_minute, service)


async def test_the_flood_limit_counts_a_senders_messages_on_both_gateways(db_url, redis_stores):
    a, b = gateway(redis_stores(), rate_per_minute=3), gateway(redis_stores(), rate_per_minute=3)
    for core in (a, b, a):
        await core.handle(Message("telegram", "resident-1", text="xin chào"))
    with pytest.raises(RateLimited):
        await b.handle(Message("telegram", "resident-1", text="xin chào"))
    await b.handle(Message("telegram", "resident-2", text="xin chào"))  # someone else is not limited


async def test_yes_after_a_danger_mention_on_one_gateway_escalates_on_the_other(db_url, staff, redis_stores):
    a = gateway(redis_stores(), _as_rasa(DOMAIN["responses"]["utter_ask_danger_other"][0]))
    b = gateway(redis_stores(), URGENT)
    await a.handle(Message("telegram", "relative", text="em gái tôi hay bị chồng đánh"))
    answer = await b.handle(Message("telegram", "relative", text="vâng"))
    await b.escalation.drain()
    assert b.rasa.received == ["/report_danger"] and answer.escalation is not None  # a third party's danger
    assert b.escalation.sender.alerts  # an officer was alerted
    again = await a.handle(Message("telegram", "relative", text="vâng"))  # the mention was used up
    assert a.rasa.received[-1] == "vâng" and again.escalation is not None  # A sees B's open case


async def test_an_officers_message_to_a_web_resident_is_shown_once_by_whichever_gateway_polls(db_url, staff, redis_stores):
    a, b = gateway(redis_stores(), URGENT), gateway(redis_stores())
    opened = await a.handle(Message("web", "resident-3", text="cứu tôi, chồng tôi đang đánh tôi"))
    await a.escalation.drain()
    case_id = opened.escalation["case_id"]
    assert await a.escalation.acknowledge(case_id, staff["desk"]) == "assigned"
    assert await a.escalation.relay_to_resident(case_id, staff["desk"], "Chị đang ở đâu? Tôi gọi lại được không?")
    client = redis.Redis.from_url(redis_stores.url)
    stored = b"".join(client.dump(key) or b"" for key in redis_stores.keys())
    client.close()
    assert "Chị đang ở đâu".encode() not in stored  # sealed
    shown = await b.updates("web", "resident-3")
    assert any("Chị đang ở đâu?" in m.text for m in shown.messages) and shown.escalation["case_id"] == case_id
    assert (await a.updates("web", "resident-3")).messages == []
    assert (await b.updates("web", "resident-3")).messages == []


async def test_the_cap_on_new_cases_counts_cases_opened_on_both_gateways(db_url, staff, redis_stores):
    a = gateway(redis_stores(), cases_per_window=2).escalation
    b = gateway(redis_stores(), cases_per_window=2).escalation
    for number, service in enumerate((a, b)):
        await service.report(sender=f"t-{number}", channel="telegram", category="danger_to_life", reply_to=str(number))
    held = await b.report(sender="t-9", channel="telegram", category="danger_to_life", reply_to="9", evidence=False)
    await a.drain()
    await b.drain()
    with session_scope() as session:
        kinds = {(e.case_id, e.kind) for e in session.scalars(select(CaseEvent))}
    assert (held.case_id, "held_in_flood") in kinds
    assert not any(kind == "held_in_flood" for case_id, kind in kinds if case_id != held.case_id)


async def test_a_flood_on_both_gateways_gets_one_summary_per_window_counting_every_held_case(db_url, staff, redis_stores,
                                                                                          monkeypatch):
    monkeypatch.setattr(escalation_module, "FLOOD_WINDOW", timedelta(seconds=1))
    a = gateway(redis_stores(), cases_per_window=1).escalation
    b = gateway(redis_stores(), cases_per_window=1).escalation
    b.sender = a.sender  # the same officers' phones

    async def button_pressed(service, number):  # no text rated danger: held during a flood
        await service.report(sender=f"flood-{number}", channel="web", category="danger_to_life",
                             reply_to=str(number), evidence=False)

    def summaries() -> list[str]:
        return [text for _chat, text, _buttons in a.sender.alerts if "ca mới trong" in text]

    await button_pressed(a, 0)  # under the cap: alerted
    await button_pressed(a, 1)  # held: the first summary goes out at once
    await a.drain()
    first = summaries()
    assert first and all(text.startswith("⚠️ 1 ca mới") for text in first)
    for service, number in ((b, 2), (a, 3), (b, 4)):
        await button_pressed(service, number)
    await asyncio.sleep(0.5)
    assert summaries() == first  # nothing more within the window, from either gateway
    await asyncio.gather(a.drain(), b.drain())
    later = summaries()[len(first):]
    assert len(later) == len(first) and all(text.startswith("⚠️ 3 ca mới") for text in later)


class HeldRasa(ScriptedRasa):
    """Answers only when the test lets it."""

    def __init__(self, *answers):
        super().__init__(*answers)
        self.asked, self.go = asyncio.Event(), asyncio.Event()

    async def send(self, sender, message, channel):
        self.asked.set()
        await self.go.wait()
        return await super().send(sender, message, channel)


async def test_one_residents_turns_never_overlap_across_gateways_and_erasure_waits(db_url, redis_stores):
    a, b = gateway(redis_stores()), gateway(redis_stores(), [{"text": "Chào bạn."}])
    a.rasa = HeldRasa([{"text": "Chào bạn."}])
    first = asyncio.create_task(a.handle(Message("web", "resident-4", text="xin chào")))
    await a.rasa.asked.wait()  # A's turn is in flight
    second = asyncio.create_task(b.handle(Message("web", "resident-4", text="chào")))
    erased = asyncio.create_task(b.forget("web", "resident-4"))
    other = await b.handle(Message("web", "resident-5", text="chào"))  # another resident is not held up
    await asyncio.sleep(0.3)
    assert other.messages and b.rasa.received == ["chào"] and not second.done() and not erased.done()
    a.rasa.go.set()
    await asyncio.gather(first, second, erased)
    assert b.rasa.received == ["chào", "chào"]


async def test_web_address_limits_count_on_both_gateways(redis_stores):
    a, b = AddressLimits(2, 2, redis_stores()), AddressLimits(2, 2, redis_stores())
    await a.check("203.0.113.7")
    await b.check("203.0.113.7")
    with pytest.raises(RateLimited):
        await a.check("203.0.113.7")
    a, b = AddressLimits(100, 2, a.store), AddressLimits(100, 2, b.store)
    await a.check("198.51.100.1", "session-1")
    await b.check("198.51.100.1", "session-1")  # the same session seen on the other gateway: not new
    await b.check("198.51.100.1", "session-2")
    with pytest.raises(RateLimited):
        await a.check("198.51.100.1", "session-3")
    with pytest.raises(RateLimited):
        await b.check("198.51.100.1", "session-3")  # refused, so still new


async def test_a_new_web_session_seen_by_two_gateways_at_once_counts_once(redis_stores):
    for n in range(20):
        a, b = AddressLimits(100, 2, redis_stores()), AddressLimits(100, 2, redis_stores())
        address = f"192.0.2.{n}"
        await asyncio.gather(a.check(address, "same"), b.check(address, "same"))
        await a.check(address, "another")  # the second new session of two allowed


async def test_with_redis_killed_an_urgent_message_is_still_answered_and_escalated(db_url, staff, caplog):
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        store = RedisStore(f"redis://127.0.0.1:{port}/0")
        core = gateway(store, [{"text": "Chào bạn."}], URGENT)
        await core.handle(Message("telegram", "resident-6", text="xin chào"))
        assert redis.Redis(port=port).dbsize() > 0  # the turn used Redis
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        answer = await core.handle(Message("telegram", "resident-6", text="cứu tôi, chồng tôi đang đánh tôi"))
        await core.escalation.drain()
        await store.close()
    finally:
        server.kill()
        server.wait()
    assert answer.escalation is not None and answer.messages[0].text.startswith("Hãy gọi ngay 113")
    assert core.escalation.sender.alerts
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.storage.shared"]
    assert warnings and not any("resident-6" in w or core.sender_of(Message("telegram", "resident-6")) in w
                                for w in warnings)


async def test_two_gateway_apps_with_redis_url_share_a_senders_flood_window(sqlite_db, redis_stores, monkeypatch):  # noqa: F811
    from bot import gateway as gateway_module

    monkeypatch.setattr(gateway_module, "open_store", lambda url: redis_stores() if url == redis_stores.url else None)
    server, _ = await fake_rasa([{"text": "Chào bạn"}])
    config = dataclasses.replace(settings(), rasa_port=server.port, actions_port=free_port(), admin_token="a" * 20,
                                 redis_url=redis_stores.url, rate_per_minute=2)
    a, b = TestClient(TestServer(create_app(config))), TestClient(TestServer(create_app(config)))
    try:
        await a.start_server()
        await b.start_server()
        statuses = [(await gateway.post("/api/chat", json={"session_id": "abc", "text": "xin chào"})).status
                    for gateway in (a, b, a)]
    finally:
        await a.close()
        await b.close()
        await server.close()
    assert statuses == [200, 200, 429]
