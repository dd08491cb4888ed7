"""The shared store behaves the same in memory and on the machine's Redis, keeps no id or
text in the clear, lets every key expire, and falls back to memory when Redis is down."""

from __future__ import annotations

import time

import pytest
import redis

from bot.storage.shared import MemoryStore, RedisStore


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request):
    return MemoryStore() if request.param == "memory" else request.getfixturevalue("redis_stores")()


async def test_a_value_is_read_until_popped_and_then_gone(store):
    await store.put("danger", "w-sender", {"third_party": True}, 60)
    assert await store.get("danger", "w-sender") == {"third_party": True}
    assert await store.pop("danger", "w-sender") == {"third_party": True}
    assert await store.pop("danger", "w-sender") is None and await store.get("danger", "w-sender") is None


async def test_appended_blobs_are_read_once_in_order(store):
    for blob in (b"\x00one", b"two", b"three"):
        await store.append("outbox", "w-sender", blob, 60)
    assert await store.take_all("outbox", "w-sender") == [b"\x00one", b"two", b"three"]
    assert await store.take_all("outbox", "w-sender") == []


async def test_a_window_counts_up_to_its_limit_and_slides(store):
    now = time.time()
    assert [await store.hit("flood", "w-sender", 60, 3, now + i) for i in range(5)] == [0, 1, 2, 3, 3]
    assert await store.count("flood", "w-sender", 60, now + 5) == 3
    assert await store.hit("flood", "w-sender", 60, 3, now + 61) == 2  # the first one slid out
    assert [await store.hit("cases", "all", 60, None, now) for _ in range(4)] == [0, 1, 2, 3]  # no limit


async def test_forget_drops_what_is_named(store):
    await store.put("danger", "w-sender", 1, 60)
    await store.append("outbox", "w-sender", b"x", 60)
    await store.put("danger", "w-other", 1, 60)
    await store.forget("w-sender", "danger", "outbox")
    assert await store.get("danger", "w-sender") is None and await store.take_all("outbox", "w-sender") == []
    assert await store.get("danger", "w-other") == 1


async def test_put_new_puts_only_where_nothing_is_yet(store):
    assert await store.put_new("flood_summary", "scheduled", 1, 60)
    assert not await store.put_new("flood_summary", "scheduled", 2, 60)
    assert await store.pop("flood_summary", "scheduled") == 1
    assert await store.put_new("flood_summary", "scheduled", 3, 60)  # free again once popped


@pytest.mark.redis
async def test_what_one_gateway_puts_new_the_other_cannot(redis_stores):
    a, b = redis_stores(), redis_stores()
    assert await a.put_new("told", "z-sender", True, 60)
    assert not await b.put_new("told", "z-sender", True, 60)
    assert await b.get("told", "z-sender") is True


async def test_a_value_expires():
    clock = [0.0]
    store = MemoryStore(clock=lambda: clock[0])
    await store.put("useful_open", "w-sender", 1, 60)
    await store.append("outbox", "w-sender", b"x", 60)
    clock[0] = 61
    assert await store.get("useful_open", "w-sender") is None and await store.take_all("outbox", "w-sender") == []


@pytest.mark.redis
async def test_redis_keys_are_hashes_and_every_key_expires(redis_stores):
    store = redis_stores()
    async with store.lock("turn", "203.0.113.7", 30):
        await store.put("danger", "203.0.113.7", {"third_party": False}, 60)
        await store.append("outbox", "203.0.113.7", b"sealed", 60)
        await store.hit("address", "203.0.113.7", 60, 10, time.time())
        await store.reserve({("outbound-telegram", "*"): 0.05, ("outbound-telegram", "123456789"): 1.0})
        keys = redis_stores.keys()
        assert len(keys) == 6
        client = redis.Redis.from_url(redis_stores.url)
        for key in keys:
            assert b"203.0.113.7" not in key and b"123456789" not in key
            assert 0 < client.pttl(key) <= 61_000
        client.close()


async def test_redis_down_falls_back_to_this_process_memory(caplog):
    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        await store.put("danger", "w-sender", {"third_party": False}, 60)
        assert await store.pop("danger", "w-sender") == {"third_party": False}
        assert await store.put_new("told", "w-sender", True, 60) and not await store.put_new("told", "w-sender", True, 60)
        assert [await store.hit("flood", "w-sender", 60, 1, time.time()) for _ in range(2)] == [0, 1]
        assert await store.reserve({("outbound-telegram", "*"): 1.0}) == 0.0
        async with store.lock("turn", "w-sender", 30):
            pass
    finally:
        await store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "redis unavailable" in warnings[0] and "w-sender" not in warnings[0]
