"""The outbound queue: alerts overtake everything, limits hold, a retry-after delays only
what it concerns, failures are retried or reported.

Every test runs in virtual time (tests/fakes/clock.py): the queue reads the loop's clock,
which moves only when nothing is left to run, so the moment each message went out is
exact and the assertions are about the queue's decisions, not the machine's speed. How the
queue keeps time on a real event loop is measured by `make bench` (bench/bench_timings.py).
"""

from __future__ import annotations

import asyncio

import pytest

from bot.outbound import Outbox, Priority, RetryLater, TemporaryFailure
from tests.fakes.clock import in_virtual_time


class Recorder:
    """A `send` that records (chat, item, virtual time of the answer), can take `delay`
    seconds to answer and can raise on cue."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.sent: list[tuple] = []
        self.raise_next: dict = {}  # chat -> list of exceptions to raise first
        self.attempts: list[tuple] = []  # (chat, item, virtual time) of every call, failed ones too
        self.active = self.most_active = 0

    async def __call__(self, chat, item):
        loop = asyncio.get_running_loop()
        self.attempts.append((chat, item, loop.time()))
        errors = self.raise_next.get(chat)
        if errors:
            raise errors.pop(0)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        self.sent.append((chat, item, loop.time()))
        return f"sent:{item}"

    def items(self) -> list:
        return [item for _chat, item, _at in self.sent]

    def times(self) -> list[float]:
        return [at for _chat, _item, at in self.sent]

    def at(self, item) -> float:
        return next(at for _chat, sent, at in self.sent if sent == item)


async def started(send, **kwargs) -> Outbox:
    """An outbox on the loop's (virtual) clock; unless a test says otherwise, a send slot
    every millisecond and no spacing per chat."""
    outbox = Outbox(send, **{"per_second": 1000, "per_chat_interval": 0.0, "clock": asyncio.get_running_loop().time, **kwargs})
    await outbox.start()
    return outbox


@in_virtual_time
async def test_an_alert_queued_after_broadcasts_goes_out_next():
    send = Recorder()
    outbox = await started(send, per_second=20)  # a send slot every 0.05 s
    try:
        for number in range(40):
            outbox.put(f"resident{number}", f"broadcast{number}", Priority.BROADCAST)
        await asyncio.sleep(0.12)  # slots at 0, 0.05 and 0.10 have gone to broadcasts
        assert send.items() == ["broadcast0", "broadcast1", "broadcast2"]
        alert = outbox.put("officer", "alert", Priority.ALERT)
        reply = outbox.put("resident-x", "reply", Priority.REPLY)
        await asyncio.wait_for(asyncio.gather(alert, reply), timeout=1)
    finally:
        await outbox.close(drain=0)
    # the next two slots (0.15, 0.20): the alert, then the reply, before the 37 broadcasts left
    assert send.items() == ["broadcast0", "broadcast1", "broadcast2", "alert", "reply"]
    assert send.at("alert") == pytest.approx(0.15) and send.at("reply") == pytest.approx(0.20)


@in_virtual_time
async def test_one_chat_gets_its_messages_in_order_and_spaced():
    send = Recorder()
    outbox = await started(send, per_chat_interval=0.2)
    try:
        futures = [outbox.put("chat", n) for n in range(4)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=3)
    finally:
        await outbox.close(drain=0)
    assert send.items() == [0, 1, 2, 3]
    assert send.times() == pytest.approx([0.0, 0.2, 0.4, 0.6])


@in_virtual_time
async def test_the_spacing_of_one_chat_counts_from_the_platforms_answer():
    send = Recorder(delay=0.1)  # each send takes 0.1 s to be answered
    outbox = await started(send, per_chat_interval=0.2)
    try:
        await asyncio.wait_for(asyncio.gather(*(outbox.put("chat", n) for n in range(3))), timeout=3)
    finally:
        await outbox.close(drain=0)
    calls = [at for _chat, _item, at in send.attempts]
    assert calls == pytest.approx([0.0, 0.3, 0.6])  # answered at 0.1, next call 0.2 later


@in_virtual_time
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


@in_virtual_time
async def test_a_chat_holding_an_alert_goes_before_chats_holding_only_broadcasts():
    send = Recorder()
    outbox = await started(send, per_second=50)
    try:
        broadcasts = [outbox.put(f"subscriber{n}", f"broadcast{n}", Priority.BROADCAST) for n in range(20)]
        campaign = outbox.put("resident", "campaign", Priority.BROADCAST)  # queued after the 20 others
        alert = outbox.put("resident", "alert", Priority.ALERT)
        await asyncio.wait_for(asyncio.gather(alert, campaign, *broadcasts), timeout=3)
    finally:
        await outbox.close(drain=0)
    # the resident's chat holds an alert: its head (a broadcast) takes the first slot, the alert the next
    assert send.items() == ["campaign", "alert"] + [f"broadcast{n}" for n in range(20)]


@in_virtual_time
async def test_the_overall_rate_is_never_exceeded():
    send = Recorder()
    outbox = await started(send, per_second=25)
    try:
        futures = [outbox.put(f"chat{n}", n, Priority.BROADCAST) for n in range(60)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=5)
    finally:
        await outbox.close(drain=0)
    times = send.times()
    assert times == pytest.approx([n / 25 for n in range(60)])  # evenly spaced slots, none skipped
    most_in_a_second = max(sum(1 for t in times if start <= t < start + 1 - 1e-9) for start in times)
    assert most_in_a_second == 25


@in_virtual_time
async def test_retry_after_for_one_chat_delays_only_that_chat():
    send = Recorder()
    send.raise_next["slow-chat"] = [RetryLater(1.0)]
    outbox = await started(send)
    try:
        delayed = outbox.put("slow-chat", "late")
        others = [outbox.put(f"chat{n}", n) for n in range(5)]
        await asyncio.wait_for(asyncio.gather(delayed, *others), timeout=2)
    finally:
        await outbox.close(drain=0)
    assert [send.at(n) for n in range(5)] == pytest.approx([0.001, 0.002, 0.003, 0.004, 0.005])  # the next slots
    assert [at for chat, _item, at in send.attempts if chat == "slow-chat"] == pytest.approx([0.0, 1.0])
    assert outbox.retried == 1


@in_virtual_time
async def test_overall_retry_after_pauses_everyone_and_alerts_go_first_after_it():
    send = Recorder()
    send.raise_next["a"] = [RetryLater(0.5, scope="all")]
    outbox = await started(send)
    try:
        first = outbox.put("a", "first", Priority.BROADCAST)
        await asyncio.sleep(0.05)  # "a" was refused at 0: everyone waits until 0.5
        broadcasts = [outbox.put(f"b{n}", f"broadcast{n}", Priority.BROADCAST) for n in range(3)]
        alert = outbox.put("officer", "alert", Priority.ALERT)
        await asyncio.wait_for(asyncio.gather(first, alert, *broadcasts), timeout=2)
    finally:
        await outbox.close(drain=0)
    assert send.items() == ["alert", "first", "broadcast0", "broadcast1", "broadcast2"]
    assert send.at("alert") == pytest.approx(0.5)  # nothing went out during the pause


@in_virtual_time
async def test_temporary_failures_are_retried_with_backoff_then_reported():
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
    # tried again 0.5 s, then 1 s after a failure (plus the one-millisecond slot of "dead")
    assert [at for chat, _item, at in send.attempts if chat == "flaky"] == pytest.approx([0.0, 0.5, 1.5])
    assert [at for chat, _item, at in send.attempts if chat == "dead"] == pytest.approx([0.001, 0.501, 1.501])


@in_virtual_time
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
    assert [item for _chat, item, _at in send.attempts] == ["x", "y"]  # "x" was not tried again


@in_virtual_time
async def test_cancelling_a_chat_drops_what_is_still_queued():
    send = Recorder()
    outbox = await started(send, per_chat_interval=0.3)
    try:
        first = outbox.put("chat", "one")
        rest = [outbox.put("chat", n) for n in range(3)]
        await asyncio.wait_for(first, timeout=1)
        assert outbox.cancel("chat") == 3
        # queued after the cancel, in the same chat's line: had anything cancelled stayed
        # queued, it would go out before this
        marker = outbox.put("chat", "marker")
        await asyncio.wait_for(marker, timeout=1)
    finally:
        await outbox.close(drain=0)
    assert send.items() == ["one", "marker"] and all(f.cancelled() for f in rest)


@in_virtual_time
async def test_in_flight_limit_and_slow_sends_do_not_block_other_chats_forever():
    send = Recorder(delay=0.3)
    outbox = await started(send, max_in_flight=4)
    try:
        futures = [outbox.put(f"chat{n}", n) for n in range(8)]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=2)
    finally:
        await outbox.close(drain=0)
    assert send.most_active == 4
    # two rounds of four, each started in consecutive one-millisecond slots
    assert send.times() == pytest.approx([0.3, 0.301, 0.302, 0.303, 0.6, 0.601, 0.602, 0.603])
