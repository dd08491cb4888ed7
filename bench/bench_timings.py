"""Wall-clock figures the unit tests no longer assert (they check the same behaviour in
virtual time or by waiting on events, so a slow or busy machine cannot fail them):

- the outbound queue on the real event loop: how late its timers fire, the rate and
  spacing it actually achieves, how long a retry-after and slow sends hold things up;
- the gateway in-process (SQLite in a temporary directory, fake Rasa / Telegram / Zalo
  from tests/): the degraded answer while Rasa is down, the Zalo webhook's
  acknowledgement while Rasa is slow, a Telegram 429 for one chat.

Plain script: prints figures next to what the queue's settings call for, asserts nothing.

    python -m bench.bench_timings
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.outbound import Outbox, Priority, RetryLater  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class Recorder:
    """A `send` that answers after `delay` seconds and records (chat, item, time.monotonic())."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.sent: list[tuple] = []
        self.raise_next: dict = {}

    async def __call__(self, chat, item):
        errors = self.raise_next.get(chat)
        if errors:
            raise errors.pop(0)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append((chat, item, time.monotonic()))

    def at(self, item) -> float:
        return next(at for _chat, sent, at in self.sent if sent == item)


async def outbox(send, **settings) -> Outbox:
    queue = Outbox(send, **{"per_second": 1000, "per_chat_interval": 0.0, **settings})
    await queue.start()
    return queue


async def queue_figures() -> None:
    print("outbound queue on asyncio's event loop (time.monotonic), no network:")

    send = Recorder()
    queue = await outbox(send, per_second=20)
    for number in range(40):
        queue.put(f"resident{number}", f"broadcast{number}", Priority.BROADCAST)
    await asyncio.sleep(0.12)
    queued = time.monotonic()
    await queue.put("officer", "alert", Priority.ALERT)
    order = [item for _c, item, _at in send.sent]
    print(f"  alert queued behind 37 broadcasts at 20 msg/s: delivered after {ms(time.monotonic() - queued)} "
          f"(next slot due within 50 ms), after {order.index('alert')} broadcasts had gone out")
    await queue.close(drain=0)

    send = Recorder()
    queue = await outbox(send, per_chat_interval=0.2)
    await asyncio.gather(*(queue.put("chat", n) for n in range(6)))
    gaps = [b[2] - a[2] for a, b in zip(send.sent, send.sent[1:])]
    print(f"  one chat, 0.2 s apart: gaps {ms(min(gaps))} min, {ms(statistics.mean(gaps))} mean, {ms(max(gaps))} max")
    await queue.close(drain=0)

    send = Recorder()
    queue = await outbox(send, per_second=25)
    await asyncio.gather(*(queue.put(f"chat{n}", n, Priority.BROADCAST) for n in range(60)))
    times = [at for _c, _i, at in send.sent]
    most = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    print(f"  60 chats at 25 msg/s: {59 / (times[-1] - times[0]):.2f} msg/s achieved, at most {most} in any second "
          f"(limit 25), first to last {times[-1] - times[0]:.3f} s (ideal {59 / 25:.3f} s)")
    await queue.close(drain=0)

    send = Recorder()
    send.raise_next["slow-chat"] = [RetryLater(1.0)]
    queue = await outbox(send)
    started = time.monotonic()
    delayed = queue.put("slow-chat", "late")
    await asyncio.gather(*(queue.put(f"chat{n}", n) for n in range(5)))
    others = time.monotonic() - started
    await delayed
    print(f"  retry-after 1 s for one chat: 5 other chats done after {ms(others)}, "
          f"the limited chat after {ms(time.monotonic() - started)} (at least 1000 ms)")
    await queue.close(drain=0)

    send = Recorder(delay=0.3)
    queue = await outbox(send, max_in_flight=4)
    started = time.monotonic()
    await asyncio.gather(*(queue.put(f"chat{n}", n) for n in range(8)))
    print(f"  8 sends taking 0.3 s each, 4 in flight: all done after {ms(time.monotonic() - started)} (ideal 600 ms)")
    await queue.close(drain=0)


async def gateway_figures() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.config import settings
    from bot.gateway import create_app
    from bot.storage import db
    from tests.channels.conftest import FakeRasa, gateway, telegram_settings, zalo_settings
    from tests.conftest import _reset_caches
    from tests.e2e.conftest import free_port
    from tests.fakes import telegram as tg
    from tests.fakes import zalo as zl

    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-timings-"))
    os.environ.update({"DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "GBVBOT_VAR_DIR": str(tmp),
                       "GBVBOT_SECRET_KEY": "bench-secret-key-0123456789abcdefghij"})
    _reset_caches()
    db.upgrade()
    print("gateway in-process (SQLite), fake Rasa / Telegram / Zalo:")

    config = dataclasses.replace(settings(), rasa_port=free_port(), actions_port=free_port())
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    latencies = []
    for number in range(10):
        started = time.monotonic()
        response = await client.post("/api/chat", json={"session_id": f"bench{number}", "text": "xin chào"})
        await response.read()
        latencies.append(time.monotonic() - started)
    await client.close()
    print(f"  Rasa down (closed port): degraded /api/chat answer in {ms(latencies[0])} first, "
          f"{ms(statistics.median(latencies[1:]))} median of the next 9")

    rasa = await FakeRasa(delay=2.5).start()
    zalo_api = zl.FakeZalo()
    await zalo_api.start()
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        started = time.monotonic()
        body, headers = zl.signed(zl.text_event("8358675012349292324", "xin chào"))
        response = await client.post("/webhooks/zalo", data=body, headers=headers)
        acknowledged = time.monotonic() - started
        await zalo_api.wait_messages(1)
        answered = time.monotonic() - started
    await zalo_api.close()
    await rasa.close()
    print(f"  Zalo webhook while Rasa takes 2.5 s: acknowledged ({response.status}) after {ms(acknowledged)}, "
          f"answer sent after {ms(answered)}")

    rasa = await FakeRasa().start()
    telegram_api = tg.FakeTelegram()
    await telegram_api.start()
    limited, other = 5550001, 5550002
    telegram_api.fail("sendMessage", "429", retry_after=2, chat_id=limited)
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        started = time.monotonic()
        await telegram_api.text(limited, "xin chào")
        await telegram_api.text(other, "xin chào")
        await telegram_api.wait_sent(1, chat_id=other)
        other_after = time.monotonic() - started
        await telegram_api.wait_sent(1, chat_id=limited)
        limited_after = time.monotonic() - started
    await telegram_api.close()
    await rasa.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"  Telegram 429 (retry_after 2 s) for one chat: the other chat answered after {ms(other_after)}, "
          f"the limited one after {ms(limited_after)} (at least 2000 ms)")


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the gateway's expected "rasa unavailable" warnings
    await queue_figures()
    await gateway_figures()


if __name__ == "__main__":
    asyncio.run(main())
