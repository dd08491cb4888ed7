"""Two gateway processes sending through one platform account share its limits through the
machine's Redis: together they stay within the overall rate and each chat's spacing.

Times are real (two processes cannot share a virtual clock), so the assertions leave room
for a loaded machine: a slow machine only spreads the sends further apart."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.outbound.burst import CHATS, EACH, PER_CHAT_INTERVAL, PER_SECOND, burst

pytestmark = pytest.mark.redis


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


async def test_two_processes_together_stay_within_the_overall_and_per_chat_rates(redis_stores):
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.outbound.burst", redis_stores.url, redis_stores.prefix,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert (await asyncio.wait_for(other.stdout.readline(), 120)).strip() == b"ready"

        async def go() -> None:
            other.stdin.write(b"go\n")
            await other.stdin.drain()

        here = await burst(redis_stores(), go)
        there = [tuple(sent) for sent in json.loads(await asyncio.wait_for(other.stdout.readline(), 120))]
    finally:
        if other.returncode is None:
            other.kill()
        await other.wait()
    sends = here + there
    assert len(here) == len(there) == CHATS * EACH
    assert min(t for t, _ in there) < max(t for t, _ in here)  # the two processes sent at the same time
    # Each process alone may send PER_SECOND a second: without sharing, the two together send twice that.
    assert busiest_second([t for t, _ in sends]) <= PER_SECOND * 1.5
    for chat in {chat for _, chat in sends}:
        times = sorted(t for t, c in sends if c == chat)
        assert len(times) == 2 * EACH
        assert min(b - a for a, b in zip(times, times[1:])) >= PER_CHAT_INTERVAL - 0.005


async def test_a_retry_after_for_the_whole_account_holds_back_the_other_gateway_too(redis_stores):
    from bot.outbound import Outbox, RetryLater

    sent: list[tuple[str, float]] = []
    told = asyncio.Event()

    async def limited(chat, item):
        if not told.is_set():
            told.set()
            raise RetryLater(1.0, scope="all")  # the platform: too many requests from this bot
        sent.append((item, time.time()))

    async def send(chat, item):
        sent.append((item, time.time()))

    store, deferred = redis_stores(), asyncio.Event()
    defer = store.defer

    async def recorded_defer(*args) -> None:
        await defer(*args)
        deferred.set()

    store.defer = recorded_defer
    a = Outbox(limited, per_second=1000, per_chat_interval=0, name="telegram", store=store)
    b = Outbox(send, per_second=1000, per_chat_interval=0, name="telegram", store=redis_stores())
    await a.start()
    await b.start()
    try:
        first = a.put("chat-1", "a")
        await told.wait()
        told_at = time.time()
        await deferred.wait()  # gateway A has recorded the platform's answer
        await asyncio.gather(first, b.put("chat-2", "b"))
    finally:
        await a.close()
        await b.close()
    assert all(at >= told_at + 0.9 for _, at in sent) and sorted(item for item, _ in sent) == ["a", "b"]
