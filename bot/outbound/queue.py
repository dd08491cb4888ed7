"""A channel's outbound queue: priorities, an overall rate, a per-chat rate, and
retry-after that delays only what it must.

Why not PTB's AIORateLimiter: it does not space messages to one private chat, and one
RetryAfter pauses every request, so a broadcast hitting a limit would hold back an
escalation alert. Here each chat has its own FIFO and its own "not before" time; a
retry-after delays that chat (or, when the platform says the overall limit was hit, the
overall gate). Within a chat messages keep their order whatever their priority ("an
officer took your case" never arrives before "an alert is being sent"); between chats,
whenever a send slot frees up, the chat whose queue holds the most urgent message goes
first: alerts > replies > broadcasts.

The queue knows nothing about platforms: a channel gives it `send(chat, item)`, which
raises `RetryLater` or `TemporaryFailure` to be tried again; any other exception fails
the message (reported to `on_failure`).

Several gateways: with a shared store (bot/storage/shared.py, Redis), every send also takes
a slot in two schedules kept in Redis, the platform's overall one and the chat's, so the
gateways together stay within the overall rate and the per-chat spacing; a retry-after
defers the schedule it names for every gateway. Redis down: each process keeps its own
rates only (until Redis is back).

The queue reads the time only from its `clock` (time.monotonic unless given) and waits
with the event loop's timers (`call_later`, `asyncio.sleep`), so the clock must keep the
loop's pace: asyncio's loop runs on time.monotonic; a test passes `loop.time` of a loop
whose time it controls (tests/fakes/clock.py).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from bot.storage.shared import Store

log = logging.getLogger(__name__)

Send = Callable[[Hashable, Any], Awaitable[Any]]
OnFailure = Callable[[Hashable, Any, BaseException], None]
Clock = Callable[[], float]


class Priority(IntEnum):
    ALERT = 0  # escalation alerts to officers
    REPLY = 1  # answers in a conversation
    BROADCAST = 2  # campaigns


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 retry_after). `scope` is "chat" when only
    this chat is limited, "all" when the overall limit was hit."""

    def __init__(self, seconds: float, scope: str = "chat"):
        super().__init__(f"retry after {seconds:g} s ({scope})")
        self.seconds = max(0.0, float(seconds))
        self.scope = scope


class TemporaryFailure(Exception):
    """Network error, timeout or 5xx: worth a few more tries with backoff."""


_IDLE, _READY, _SLEEPING, _BUSY = range(4)


@dataclass
class _Job:
    priority: int
    seq: int
    item: Any
    future: asyncio.Future
    attempts: int = 0


@dataclass
class _Chat:
    jobs: list = field(default_factory=list)  # heap of (seq, job): first in, first out
    state: int = _IDLE
    not_before: float = 0.0


def _consume(future: asyncio.Future) -> None:
    """Nobody has to await a message's future: never warn about an unread failure."""
    if not future.cancelled():
        future.exception()


class Outbox:
    def __init__(
        self,
        send: Send,
        *,
        per_second: float,
        per_chat_interval: float,
        max_in_flight: int = 32,
        max_attempts: int = 4,
        on_failure: OnFailure | None = None,
        name: str = "outbox",
        clock: Clock = time.monotonic,
        store: Store | None = None,
    ):
        self._send = send
        self._clock = clock
        self._spacing = 1.0 / per_second
        self._per_chat_interval = per_chat_interval
        self._max_in_flight = max_in_flight
        self._max_attempts = max_attempts
        self._on_failure = on_failure
        self.name = name
        self._chats: dict[Hashable, _Chat] = {}
        self._ready: list = []  # heap of (priority, seq, chat key); stale entries skipped
        self._sleeping: list = []  # heap of (not_before, seq, chat key)
        self._seq = itertools.count()
        self._next_slot = 0.0  # overall gate: evenly spaced send slots
        self._paused_until = 0.0  # overall pause after a retry-after of scope "all"
        self._in_flight = 0
        self._wakeup = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._closing = False
        self._tasks: set[asyncio.Task] = set()
        self._last_sweep = 0.0
        self._store = store if store is not None and store.shared else None
        self._schedule = f"outbound-{name}"  # the store's name for this platform's slots
        self.sent = self.failed = self.retried = 0

    # ------------------------------------------------------------------ public

    async def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=f"{self.name}-dispatcher")

    async def close(self, drain: float = 2.0) -> None:
        """Give queued messages up to `drain` seconds, then cancel what is left."""
        deadline = self._clock() + drain
        while (self.pending or self._in_flight) and self._clock() < deadline:
            await asyncio.sleep(0.05)
        self._closing = True
        self._wakeup.set()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for chat in self._chats.values():
            for _s, job in chat.jobs:
                job.future.cancel()
        self._chats.clear()

    def put(self, chat: Hashable, item: Any, priority: Priority = Priority.REPLY) -> asyncio.Future:
        """Queue one message; the future resolves with what `send` returned."""
        future = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        job = _Job(int(priority), next(self._seq), item, future)
        state = self._chats.setdefault(chat, _Chat())
        heapq.heappush(state.jobs, (job.seq, job))
        if state.state == _IDLE:
            self._settle(chat, state, self._clock())
        elif state.state == _READY:  # the chat may now be more urgent: a better entry for its head
            heapq.heappush(self._ready, (job.priority, state.jobs[0][0], chat))
        self._wakeup.set()
        return future

    def cancel(self, chat: Hashable) -> int:
        """Drop what is still queued for one chat (after a quick exit); returns how many."""
        state = self._chats.get(chat)
        if state is None:
            return 0
        dropped = len(state.jobs)
        for _s, job in state.jobs:
            job.future.cancel()
        state.jobs.clear()
        if state.state != _BUSY:
            state.state = _IDLE  # its heap entries are now stale and skipped
        return dropped

    @property
    def pending(self) -> int:
        return sum(len(chat.jobs) for chat in self._chats.values())

    # ------------------------------------------------------------------ dispatching

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            self._wakeup.clear()
            delay = self._dispatch(self._clock())
            timer = None if delay is None else loop.call_later(delay, self._wakeup.set)
            try:
                await self._wakeup.wait()
            finally:
                if timer is not None:
                    timer.cancel()

    def _dispatch(self, now: float) -> float | None:
        """Start every send allowed now; return how long until something may change."""
        while self._sleeping and self._sleeping[0][0] <= now:
            _t, _s, key = heapq.heappop(self._sleeping)
            chat = self._chats.get(key)
            if chat is not None and chat.state == _SLEEPING:
                self._settle(key, chat, now)
        self._sweep(now)
        while self._in_flight < self._max_in_flight:
            gate = max(self._next_slot, self._paused_until) - now
            if gate > 0:
                return gate
            key = self._pop_ready()
            if key is None:
                return self._sleeping[0][0] - now if self._sleeping else None
            chat = self._chats[key]
            _s, job = heapq.heappop(chat.jobs)
            chat.state = _BUSY
            self._in_flight += 1
            self._next_slot = max(now, self._next_slot) + self._spacing
            task = asyncio.create_task(self._deliver(key, chat, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return None  # a finishing send sets the wakeup event

    def _pop_ready(self) -> Hashable | None:
        while self._ready:
            _priority, seq, key = heapq.heappop(self._ready)
            chat = self._chats.get(key)
            if chat is not None and chat.state == _READY and chat.jobs and chat.jobs[0][0] == seq:
                return key
        return None

    def _settle(self, key: Hashable, chat: _Chat, now: float) -> None:
        """Put a chat that is not sending into the right state for its next message."""
        if not chat.jobs:
            chat.state = _IDLE
        elif chat.not_before > now:
            chat.state = _SLEEPING
            heapq.heappush(self._sleeping, (chat.not_before, next(self._seq), key))
        else:
            chat.state = _READY
            priority = min(job.priority for _s, job in chat.jobs)
            heapq.heappush(self._ready, (priority, chat.jobs[0][0], key))

    def _sweep(self, now: float) -> None:
        """Forget idle chats whose spacing has passed (keeps memory flat after a broadcast)."""
        if now - self._last_sweep < 10 or len(self._chats) < 1000:
            return
        self._last_sweep = now
        for key in [k for k, c in self._chats.items() if c.state == _IDLE and c.not_before <= now]:
            del self._chats[key]

    async def _deliver(self, key: Hashable, chat: _Chat, job: _Job) -> None:
        try:
            if job.future.done():  # cancelled by its sender meanwhile
                return
            try:
                if self._store is not None and not await self._shared_slot(key, job):
                    return  # cancelled while waiting for its slot
                result = await self._send(key, job.item)
            except RetryLater as error:
                self.retried += 1
                until = self._clock() + error.seconds
                if error.scope == "all":
                    self._paused_until = max(self._paused_until, until)
                else:
                    chat.not_before = max(chat.not_before, until)
                if self._store is not None:
                    await self._store.defer(self._schedule, "*" if error.scope == "all" else str(key), error.seconds)
                heapq.heappush(chat.jobs, (job.seq, job))
            except (TemporaryFailure, asyncio.TimeoutError) as error:
                job.attempts += 1
                if job.attempts >= self._max_attempts:
                    self._fail(key, job, error)
                else:
                    self.retried += 1
                    chat.not_before = self._clock() + min(0.5 * 2 ** (job.attempts - 1), 30.0)
                    heapq.heappush(chat.jobs, (job.seq, job))
            except asyncio.CancelledError:
                job.future.cancel()
                raise
            except Exception as error:
                self._fail(key, job, error)
            else:
                self.sent += 1
                if not job.future.done():
                    job.future.set_result(result)
                # Spacing counts from the answer, so the platform never sees two sends closer than that.
                chat.not_before = max(chat.not_before, self._clock() + self._per_chat_interval)
                if self._store is not None:
                    await self._store.defer(self._schedule, str(key), self._per_chat_interval)
        finally:
            self._in_flight -= 1
            self._settle(key, chat, self._clock())
            self._wakeup.set()

    async def _shared_slot(self, key: Hashable, job: _Job) -> bool:
        """Wait for a slot free on every gateway, in the overall schedule and the chat's;
        False if the message was cancelled meanwhile."""
        slots = {(self._schedule, "*"): self._spacing, (self._schedule, str(key)): self._per_chat_interval}
        while (wait := await self._store.reserve(slots)) > 0:
            await asyncio.sleep(wait)
        return not job.future.done()

    def _fail(self, key: Hashable, job: _Job, error: BaseException) -> None:
        self.failed += 1
        if self._on_failure is None:
            log.warning("%s: message not delivered (%s)", self.name, type(error).__name__)
        else:
            try:
                self._on_failure(key, job.item, error)
            except Exception:
                log.exception("%s: on_failure hook failed", self.name)
        if not job.future.done():
            job.future.set_exception(error)
