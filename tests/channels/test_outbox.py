"""The outbound queue: alerts overtake everything, limits hold, a retry-after delays only
what it concerns, failures are retried or reported."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.outbound import Outbox, Priority, RetryLater, TemporaryFailure


class Recorder:
    """A `send` that records (chat, item, time) and can raise on cue."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.sent: list[tuple] = []
        self.raise_next: dict = {}  # chat -> list of exceptions to raise first

    async def __call__(self, chat, item):
        errors = self.raise_next.get(chat)
        if errors:
            raise errors.pop(0)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append((chat, item, time.monotonic()))
        return f"sent:{item}"

    def items(self) -> list:
        return [item for _chat, item, _at in self.sent]


async def started(send, **kwargs) -> Outbox:
    outbox = Outbox(send, **{"per_second": 1000, "per_chat_interval": 0.0, **kwargs})
    await outbox.start()
    return outbox


async def test_an_alert_queued_after_broadcasts_goes_out_next():
    send = Recorder()
    outbox = await started(send, per_second=20)
    try:
        for number in range(40):
            outbox.put(f"resident{number}", f"broadcast{number}", Priority.BROADCAST)
        await asyncio.sleep(0.12)  # a few broadcasts have gone out
        alert = outbox.put("officer", "alert", Priority.ALERT)
        reply = outbox.put("resident-x", "reply", Priority.REPLY)
        await asyncio.wait_for(asyncio.gather(alert, reply), timeout=1)
        order = send.items()
        assert order.index("alert") < order.index("reply") < len(order)
        assert all(item.startswith("broadcast") for item in order[order.index("reply") + 1:])
        assert order.index("alert") <= 4  # waited for one send slot at most, not for 40 broadcasts
    finally:
        await outbox.close(drain=0)


async def test_one_chat_gets_its_messages_in_order_and_spaced():
    send = Recorder()
    outbox = await started(send, per_chat_interval=0.2)
    try:
        futures = [outbox.put("chat", n) for n in range(4)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=3)
    finally:
        await outbox.close(drain=0)
    assert send.items() == [0, 1, 2, 3]
    times = [at for _c, _i, at in send.sent]
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:]))


async def test_within_one_chat_messages_keep_their_order_whatever_their_priority():
    """"An officer took your case" (alert priority) must not arrive before the reply still
    queued for the same chat ("an alert is being sent")."""
    send = Recorder()
    outbox = await started(send, per_chat_interval=0.05)
    try:
        replies = [outbox.put("resident", f"reply{n}") for n in range(3)]
        alert = outbox.put("resident", "officer took the case", Priority.ALERT)
        await asyncio.wait_for(asyncio.gather(alert, *replies), timeout=3)
    finally:
        await outbox.close(drain=0)
    assert send.items() == ["reply0", "reply1", "reply2", "officer took the case"]


async def test_a_chat_holding_an_alert_goes_before_chats_holding_only_broadcasts():
    send = Recorder()
    outbox = await started(send, per_second=50)
    try:
        broadcasts = [outbox.put(f"subscriber{n}", f"broadcast{n}", Priority.BROADCAST) for n in range(20)]
        reply = outbox.put("resident", "reply")
        alert = outbox.put("resident", "alert", Priority.ALERT)
        await asyncio.wait_for(asyncio.gather(alert, reply, *broadcasts), timeout=3)
    finally:
        await outbox.close(drain=0)
    order = send.items()
    assert order.index("reply") < order.index("alert") < order.index("broadcast5")


async def test_the_overall_rate_is_never_exceeded():
    send = Recorder()
    outbox = await started(send, per_second=25)
    try:
        futures = [outbox.put(f"chat{n}", n, Priority.BROADCAST) for n in range(60)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=5)
    finally:
        await outbox.close(drain=0)
    times = [at for _c, _i, at in send.sent]
    most_in_a_second = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert most_in_a_second <= 26
    assert times[-1] - times[0] >= 59 / 25 - 0.05


async def test_retry_after_for_one_chat_delays_only_that_chat():
    send = Recorder()
    send.raise_next["slow-chat"] = [RetryLater(1.0)]
    outbox = await started(send)
    try:
        started_at = time.monotonic()
        delayed = outbox.put("slow-chat", "late")
        others = [outbox.put(f"chat{n}", n) for n in range(5)]
        await asyncio.wait_for(asyncio.gather(*others), timeout=0.5)
        assert time.monotonic() - started_at < 0.5
        assert not delayed.done()
        await asyncio.wait_for(delayed, timeout=2)
        assert time.monotonic() - started_at >= 1.0
    finally:
        await outbox.close(drain=0)
    assert outbox.retried == 1


async def test_overall_retry_after_pauses_everyone_and_alerts_go_first_after_it():
    send = Recorder()
    send.raise_next["a"] = [RetryLater(0.5, scope="all")]
    outbox = await started(send)
    try:
        first = outbox.put("a", "first", Priority.BROADCAST)
        await asyncio.sleep(0.05)
        broadcasts = [outbox.put(f"b{n}", f"broadcast{n}", Priority.BROADCAST) for n in range(3)]
        alert = outbox.put("officer", "alert", Priority.ALERT)
        await asyncio.sleep(0.3)
        assert send.sent == []  # paused
        await asyncio.wait_for(asyncio.gather(first, alert, *broadcasts), timeout=2)
    finally:
        await outbox.close(drain=0)
    assert send.items()[0] == "alert"


async def test_temporary_failures_are_retried_then_reported():
    failures = []
    send = Recorder()
    send.raise_next["flaky"] = [TemporaryFailure("drop"), TemporaryFailure("timeout")]
    send.raise_next["dead"] = [TemporaryFailure("x")] * 10
    outbox = await started(send, max_attempts=3, on_failure=lambda chat, item, error: failures.append((chat, item)))
    try:
        flaky = outbox.put("flaky", "hello")
        dead = outbox.put("dead", "gone")
        assert await asyncio.wait_for(flaky, timeout=5) == "sent:hello"
        with pytest.raises(TemporaryFailure):
            await asyncio.wait_for(dead, timeout=5)
    finally:
        await outbox.close(drain=0)
    assert failures == [("dead", "gone")]


async def test_a_permanent_error_fails_the_message_at_once():
    send = Recorder()
    send.raise_next["blocked"] = [PermissionError("bot was blocked")]
    outbox = await started(send)
    try:
        with pytest.raises(PermissionError):
            await asyncio.wait_for(outbox.put("blocked", "x"), timeout=1)
        assert await asyncio.wait_for(outbox.put("blocked", "y"), timeout=1) == "sent:y"
    finally:
        await outbox.close(drain=0)


async def test_cancelling_a_chat_drops_what_is_still_queued():
    send = Recorder()
    outbox = await started(send, per_chat_interval=0.3)
    try:
        first = outbox.put("chat", "one")
        rest = [outbox.put("chat", n) for n in range(3)]
        await asyncio.wait_for(first, timeout=1)
        assert outbox.cancel("chat") == 3
        await asyncio.sleep(0.5)
    finally:
        await outbox.close(drain=0)
    assert send.items() == ["one"] and all(f.cancelled() for f in rest)


async def test_in_flight_limit_and_slow_sends_do_not_block_other_chats_forever():
    send = Recorder(delay=0.3)
    outbox = await started(send, max_in_flight=4)
    try:
        started_at = time.monotonic()
        futures = [outbox.put(f"chat{n}", n) for n in range(8)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=2)
        assert 0.55 < time.monotonic() - started_at < 1.0  # two rounds of four
    finally:
        await outbox.close(drain=0)
