"""One gateway's share of a broadcast, for tests/outbound/test_shared_rates.py: an outbox on
the shared store sends `EACH` messages to each of `CHATS` chats through a fake platform that
records when each send began. Run as a module it is the other gateway's process: it says
"ready", waits for "go" on stdin, and prints its send times as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.outbound import Outbox
from bot.storage.shared import MemoryStore, RedisStore

PER_SECOND, PER_CHAT_INTERVAL = 20, 0.25
CHATS, EACH = 8, 6


async def burst(store: MemoryStore | RedisStore, ready=None) -> list[tuple[float, str]]:
    sent: list[tuple[float, str]] = []

    async def send(chat, item):
        sent.append((time.time(), chat))
        await asyncio.sleep(0.002)  # the platform's answer

    outbox = Outbox(send, per_second=PER_SECOND, per_chat_interval=PER_CHAT_INTERVAL, name="telegram", store=store)
    await outbox.start()
    if ready is not None:
        await ready()
    await asyncio.gather(*[outbox.put(f"chat-{chat}", n) for n in range(EACH) for chat in range(CHATS)])
    await outbox.close()
    return sent


async def _main(url: str, prefix: str) -> None:
    store = RedisStore(url, prefix)

    async def ready() -> None:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    sent = await burst(store, ready)
    await store.close()
    print(json.dumps(sent), flush=True)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2]))
