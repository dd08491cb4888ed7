"""Telegram outbound queue under load: do escalation alerts get through a broadcast?

A local Bot API server (tests/fakes/telegram.py) enforces 30 messages/s overall and one
message/s per chat, answering 429 with retry_after beyond. 5,000 low-priority broadcast
messages (one per chat) are queued at once; meanwhile 100 escalation-priority alerts are
sent to 10 officer chats, one every 0.2 s. Everything goes through the Telegram channel's
real sender (`bot.channels.telegram.deliver`, python-telegram-bot's Bot) and the
channel's `Outbox` settings. Prints alert latency (queued -> delivered) p50/p99/max,
broadcast throughput and whether any limit was exceeded; asserts nothing.

    python bench/bench_outbound.py [--broadcasts 5000] [--alerts 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402

from bot.channels import telegram  # noqa: E402
from bot.outbound import Outbox, Priority  # noqa: E402
from tests.fakes.telegram import TOKEN, FakeTelegram  # noqa: E402

OFFICERS = [9_000_000 + n for n in range(10)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(broadcasts: int, alerts: int) -> None:
    fake = FakeTelegram(per_second_limit=30, per_chat_interval=1.0)
    await fake.start()
    bot = Bot(TOKEN, base_url=fake.base_url)
    await bot.initialize()
    outbox = Outbox(
        lambda chat, item: telegram.deliver(bot, chat, item),
        per_second=telegram.PER_SECOND, per_chat_interval=telegram.PER_CHAT_INTERVAL, name="bench",
    )
    await outbox.start()
    started = time.monotonic()
    broadcast_futures = [
        outbox.put(1_000_000 + n, telegram.Outgoing(f"Thông tin chiến dịch số {n}"), Priority.BROADCAST)
        for n in range(broadcasts)
    ]
    latencies: list[float] = []

    async def alert(number: int) -> None:
        queued = time.monotonic()
        await outbox.put(OFFICERS[number % len(OFFICERS)], telegram.Outgoing(f"Cảnh báo khẩn #{number}"), Priority.ALERT)
        latencies.append(time.monotonic() - queued)

    alert_tasks = []
    for number in range(alerts):
        alert_tasks.append(asyncio.create_task(alert(number)))
        await asyncio.sleep(0.2)
    await asyncio.gather(*alert_tasks)
    alerts_done = time.monotonic() - started
    broadcast_during_alerts = sum(f.done() for f in broadcast_futures)
    await asyncio.gather(*broadcast_futures, return_exceptions=True)
    elapsed = time.monotonic() - started
    await outbox.close(drain=0)
    await bot.shutdown()
    await fake.close()

    failed = sum(1 for f in broadcast_futures if f.exception() is not None)
    print(f"outbound queue: {broadcasts} broadcasts (1 per chat) + {alerts} alerts to {len(OFFICERS)} officer chats, "
          f"fake Bot API limits 30 msg/s overall and 1 msg/s per chat, queue settings "
          f"{telegram.PER_SECOND}/s overall, {telegram.PER_CHAT_INTERVAL:g} s per chat")
    print(f"alert delivery latency: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"(mean {statistics.mean(latencies) * 1000:.0f} ms; target p99 <= 1000 ms)")
    print(f"alerts finished after {alerts_done:.1f} s; {broadcast_during_alerts} broadcasts delivered meanwhile")
    print(f"broadcasts: {broadcasts - failed} delivered, {failed} failed, in {elapsed:.1f} s "
          f"({(broadcasts - failed + alerts) / elapsed:.1f} msg/s overall)")
    print(f"limits exceeded (429s the server had to answer): overall {fake.overall_breaches}, "
          f"per chat {fake.chat_breaches}; retried by the queue: {outbox.retried}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broadcasts", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=100)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.broadcasts, arguments.alerts))
