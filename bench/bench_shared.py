"""What sharing state across gateways costs a turn: the conversation core answers plain web
turns (Rasa replaced by an in-process stub, SQLite in a temporary directory) with the state
in memory and in the machine's Redis (GBVBOT_BENCH_REDIS_URL, default 127.0.0.1:6379/0,
keys under a prefix of their own, deleted afterwards), and with two cores on one Redis (two
"gateways", a resident's turns alternating between them). One resident alone: per-turn p50
and p95; 20 residents at once, 25 turns each: turns/s. Plain script: prints figures,
asserts nothing. First, the Redis calls of one turn on their own."""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

RESIDENTS, TURNS = 20, 25
REDIS_URL = os.environ.get("GBVBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class StubRasa:
    async def send(self, sender: str, message: str, channel: str) -> list[dict]:
        return [{"text": "Mình nghe bạn.", "utter_action": "utter_listen"}]


async def run(cores: list, residents: int) -> tuple[list[float], float]:
    from bot.conversation.core import Message

    took: list[float] = []

    async def resident(number: int) -> None:
        for turn in range(TURNS):
            core = cores[(number + turn) % len(cores)]  # every other turn on the other gateway
            started = time.perf_counter()
            await core.handle(Message("web", f"bench-{number}", text="chồng em hay chửi em"))
            took.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(resident(n) for n in range(residents)))
    return took, time.perf_counter() - started


async def store_ops(store) -> None:
    """The store calls of one plain web turn without a case, alone: p50 and p95."""
    took = []
    for number in range(300):
        sender, started = f"bench-{number % 20}", time.perf_counter()
        await store.hit("flood", sender, 60, 10_000, time.time())
        async with store.lock("turn", sender, 30):
            for name in ("useful_open", "asked", "danger"):
                await store.pop(name, sender)
            await store.get("useful", sender)
            await store.take_all("outbox", sender)
        took.append(time.perf_counter() - started)
    took.sort()
    print(f"{'redis calls of a turn':<22} 1 resident: p50 {took[150] * 1000:5.2f} ms  p95 {took[285] * 1000:5.2f} ms")


async def report(label: str, cores: list) -> None:
    alone, _ = await run(cores, 1)
    alone.sort()
    took, elapsed = await run(cores, RESIDENTS)
    print(f"{label:<22} 1 resident: p50 {statistics.median(alone) * 1000:5.2f} ms  p95 {alone[int(len(alone) * 0.95)] * 1000:5.2f} ms"
          f"   {RESIDENTS} residents: {len(took) / elapsed:4.0f} turns/s")


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-shared-"))
    os.environ.update(DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}", GBVBOT_VAR_DIR=str(tmp),
                      GBVBOT_SECRET_KEY=os.environ.get("GBVBOT_SECRET_KEY", "bench-secret-key-0123456789abcdefghij"))
    import redis

    from bot.conversation.core import ConversationCore
    from bot.storage import db
    from bot.storage.shared import MemoryStore, RedisStore

    db.upgrade()
    prefix = f"gbvbot_bench_{secrets.token_hex(4)}"
    stores = [RedisStore(REDIS_URL, prefix), RedisStore(REDIS_URL, prefix)]
    try:
        await stores[0].redis.ping()
    except Exception as error:
        print(f"shared state: Redis at {REDIS_URL} unreachable ({type(error).__name__}); memory only")
        stores = []
    print(f"shared state: {TURNS} turns per resident, Rasa stubbed, SQLite")
    await run([ConversationCore(StubRasa(), 10_000, store=MemoryStore())], RESIDENTS)  # warm-up
    await report("memory, one gateway", [ConversationCore(StubRasa(), 10_000, store=MemoryStore())])
    if stores:
        await store_ops(stores[0])
        await report("redis, one gateway", [ConversationCore(StubRasa(), 10_000, store=stores[0])])
        await report("redis, two gateways", [ConversationCore(StubRasa(), 10_000, store=s) for s in stores])
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        for store in stores:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
