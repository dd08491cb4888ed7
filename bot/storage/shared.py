"""State that several gateway processes behind one address share: in memory (one gateway,
REDIS_URL unset, the default), or in Redis (REDIS_URL set).

What lives here, and why it must be shared: the flood guards (per sender, per client
address, new web sessions per address, failed sign-ins per address), the "có" that confirms a
danger the last reply mentioned, the open usefulness question, the check-in question just
asked, a web resident's officer messages waiting for their next turn or poll (read exactly
once), the cap on new cases per five minutes and the flood summary (the cases held for it,
whether one is scheduled, when the last was sent), one lock per resident so two gateways never
run their turns at once, the buttons a gateway sent (Telegram's long payloads, Zalo's numbered
options) and Zalo's reply counts and anonymous-user notices, so that a tap is understood
whatever gateway gets it, and the outbound rate limits (one slot schedule per platform and
per chat).

Privacy: a key is a keyed hash of what the caller names (a pseudonym, a client address, a
chat id), never the value itself; values are small JSON (flags, counts, case ids, the bot's
own button payloads) or blobs the caller sealed (bot/storage/crypto.py); every key expires.

Redis down (refused, timed out): every operation falls back to this process's memory and a
warning without ids is logged (once per `RETRY_SECONDS`; Redis is tried again after that).
A turn is always answered and an urgent message always escalated. What degrades meanwhile:
limits and the case cap count per process (several gateways together allow more); a "có"
or a typed answer whose question was recorded in Redis before the outage, or by another
gateway during it, is read as an ordinary message (the triage still reads it, and the danger
and check-in buttons still work), and so is a Zalo number answering options another gateway
offered (a long Telegram button: expired); each gateway may send its own flood summary; a web
resident's officer messages waiting in Redis wait until it is back, and those written during
the outage are shown only by the gateway that wrote them; turns of one resident may overlap
across gateways; outbound rates hold per process only. Redis' state from before the outage
is used again when it is back; what was written locally meanwhile is still read where it was.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.storage.crypto import identity_key

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a failure, Redis is left alone this long
_MAX_KEYS = 50_000  # memory: past this many keys, the expired ones are swept


class Windows:
    """Sliding windows in memory: how many hits a key had within the last `window` seconds."""

    def __init__(self) -> None:
        self._seen: dict[str, deque] = defaultdict(deque)

    def hit(self, key: str, window: float, limit: int | None, now: float) -> int:
        """The hits within the window before this one; this one is counted unless `limit` were reached."""
        seen = self._seen[key]
        while seen and now - seen[0] > window:
            seen.popleft()
        before = len(seen)
        if limit is None or before < limit:
            seen.append(now)
        if len(self._seen) > _MAX_KEYS:  # forget idle keys
            for old in [k for k, w in self._seen.items() if not w or now - w[-1] > window]:
                del self._seen[old]
        return before

    def count(self, key: str, window: float, now: float) -> int:
        seen = self._seen.get(key)
        return 0 if seen is None else sum(1 for at in seen if now - at <= window)

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)


class MemoryStore:
    """One process's state: exactly what the gateway kept in its own dictionaries before."""

    shared = False

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, Any]] = {}  # key → (deadline, value)
        self._windows = Windows()

    async def put(self, name: str, key: str, value: Any, ttl: float) -> None:
        self._values.pop(f"{name}:{key}", None)
        self._values[f"{name}:{key}"] = (self._clock() + ttl, json.dumps(value))
        self._sweep()

    async def get(self, name: str, key: str) -> Any:
        deadline, value = self._values.get(f"{name}:{key}", (0.0, None))
        return json.loads(value) if deadline > self._clock() else None

    async def pop(self, name: str, key: str) -> Any:
        deadline, value = self._values.pop(f"{name}:{key}", (0.0, None))
        return json.loads(value) if deadline > self._clock() else None

    async def put_new(self, name: str, key: str, value: Any, ttl: float) -> bool:
        """`put` unless the key holds a value already; True if this call put it."""
        if await self.get(name, key) is not None:
            return False
        await self.put(name, key, value, ttl)
        return True

    async def append(self, name: str, key: str, blob: bytes, ttl: float) -> None:
        deadline, blobs = self._values.pop(f"{name}:{key}", (0.0, []))
        blobs = blobs if deadline > self._clock() else []
        self._values[f"{name}:{key}"] = (self._clock() + ttl, [*blobs, blob])
        self._sweep()

    async def take_all(self, name: str, key: str) -> list[bytes]:
        """Every blob appended under the key, oldest first; they are gone once read."""
        deadline, blobs = self._values.pop(f"{name}:{key}", (0.0, []))
        return blobs if deadline > self._clock() else []

    async def forget(self, key: str, *names: str) -> None:
        for name in names:
            self._values.pop(f"{name}:{key}", None)
            self._windows.forget(f"{name}:{key}")

    def _sweep(self) -> None:
        if len(self._values) > _MAX_KEYS:
            now = self._clock()
            self._values = {k: v for k, v in self._values.items() if v[0] > now}

    async def hit(self, name: str, key: str, window: float, limit: int | None, now: float) -> int:
        """Sliding window: the hits in the last `window` seconds before this one (times are
        the caller's `now`); this one counts unless `limit` hits were already there."""
        return self._windows.hit(f"{name}:{key}", window, limit, now)

    async def count(self, name: str, key: str, window: float, now: float) -> int:
        return self._windows.count(f"{name}:{key}", window, now)

    @asynccontextmanager
    async def lock(self, name: str, key: str, ttl: float) -> AsyncIterator[None]:
        """Across processes; one process already serialises with its own asyncio locks."""
        yield

    async def reserve(self, slots: dict[tuple[str, str], float]) -> float:
        """A send slot in every schedule named (→ its interval); one process's outbox keeps its
        own schedule, so here there is never anything to wait for."""
        return 0.0

    async def defer(self, name: str, key: str, seconds: float) -> None:
        """No slot in that schedule for `seconds` (a retry-after, or a chat's spacing)."""

    async def close(self) -> None:
        pass


# Both scripts read Redis' own clock, so every gateway schedules on the same time.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
for i, key in ipairs(KEYS) do
  local free = tonumber(redis.call('GET', key) or '0')
  if free - now > wait then wait = free - now end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i])
  redis.call('SET', key, tostring(now + interval), 'PX', math.ceil(interval) + 60000)
end
return '0'
"""
_DEFER = """
local t = redis.call('TIME')
local later = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + tonumber(ARGV[1])
if later > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(later), 'PX', math.ceil(tonumber(ARGV[1])) + 60000)
end
"""
_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local before = redis.call('ZCARD', KEYS[1])
if ARGV[3] == '' or before < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return before
"""


class RedisStore:
    """The same operations on Redis, shared by every gateway; a failing call falls back to
    this process's memory (see the module's docstring)."""

    shared = True

    def __init__(self, url: str, prefix: str = "gbvbot", timeout: float = 0.5):
        import redis.asyncio as redis

        self.redis = redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.prefix = prefix
        self.local = MemoryStore()
        self._key = identity_key("shared-state")
        self._down_until = 0.0
        self._reserve = self.redis.register_script(_RESERVE)
        self._defer = self.redis.register_script(_DEFER)
        self._hit = self.redis.register_script(_HIT)

    def _name(self, name: str, key: str) -> str:
        digest = hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.prefix}:{name}:{digest}"

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        if self._up():
            log.warning("shared state: redis unavailable (%s); this process's memory for %g s",
                        type(error).__name__, RETRY_SECONDS)
        self._down_until = time.monotonic() + RETRY_SECONDS

    async def put(self, name: str, key: str, value: Any, ttl: float) -> None:
        if self._up():
            try:
                await self.redis.set(self._name(name, key), json.dumps(value), px=int(ttl * 1000))
                return
            except Exception as error:  # any client or socket error means "down"
                self._failed(error)
        await self.local.put(name, key, value, ttl)

    async def get(self, name: str, key: str) -> Any:
        if self._up():
            try:
                value = await self.redis.get(self._name(name, key))
                if value is not None:
                    return json.loads(value)
            except Exception as error:
                self._failed(error)
        return await self.local.get(name, key)

    async def pop(self, name: str, key: str) -> Any:
        value = await self.local.pop(name, key)  # written here while Redis was down
        if self._up():
            try:
                shared = await self.redis.getdel(self._name(name, key))
                if shared is not None:
                    return json.loads(shared)
            except Exception as error:
                self._failed(error)
        return value

    async def put_new(self, name: str, key: str, value: Any, ttl: float) -> bool:
        if self._up():
            try:
                return bool(await self.redis.set(self._name(name, key), json.dumps(value), px=int(ttl * 1000), nx=True))
            except Exception as error:
                self._failed(error)
        return await self.local.put_new(name, key, value, ttl)

    async def append(self, name: str, key: str, blob: bytes, ttl: float) -> None:
        if self._up():
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    await pipe.rpush(self._name(name, key), blob).pexpire(self._name(name, key), int(ttl * 1000)).execute()
                return
            except Exception as error:
                self._failed(error)
        await self.local.append(name, key, blob, ttl)

    async def take_all(self, name: str, key: str) -> list[bytes]:
        blobs = await self.local.take_all(name, key)
        if self._up():
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    shared, _ = await pipe.lrange(self._name(name, key), 0, -1).delete(self._name(name, key)).execute()
                return [*shared, *blobs]
            except Exception as error:
                self._failed(error)
        return blobs

    async def forget(self, key: str, *names: str) -> None:
        await self.local.forget(key, *names)
        if self._up():
            try:
                await self.redis.delete(*(self._name(name, key) for name in names))
            except Exception as error:
                self._failed(error)

    async def hit(self, name: str, key: str, window: float, limit: int | None, now: float) -> int:
        if self._up():
            try:
                return int(await self._hit(keys=[self._name(name, key)], args=[
                    repr(now), f"({now - window!r}", "" if limit is None else limit,
                    f"{now!r}:{secrets.token_hex(4)}", int(window * 1000) + 1000]))
            except Exception as error:
                self._failed(error)
        return await self.local.hit(name, key, window, limit, now)

    async def count(self, name: str, key: str, window: float, now: float) -> int:
        if self._up():
            try:
                return int(await self.redis.zcount(self._name(name, key), now - window, "+inf"))
            except Exception as error:
                self._failed(error)
        return await self.local.count(name, key, window, now)

    @asynccontextmanager
    async def lock(self, name: str, key: str, ttl: float) -> AsyncIterator[None]:
        """Held by one process at a time, at most `ttl` seconds (a process that died lets go);
        waiting longer than `ttl` (or Redis down), the caller goes ahead without it."""
        held = None
        if self._up():
            lock = self.redis.lock(self._name(name, key), timeout=ttl, sleep=0.01, blocking_timeout=ttl)
            try:
                if await lock.acquire():
                    held = lock
                else:
                    log.warning("shared state: lock %s not acquired within %g s", name, ttl)
            except Exception as error:
                self._failed(error)
        try:
            yield
        finally:
            if held is not None:
                try:
                    await held.release()
                except Exception as error:  # expired meanwhile, or Redis gone
                    log.warning("shared state: lock %s not released (%s)", name, type(error).__name__)

    async def reserve(self, slots: dict[tuple[str, str], float]) -> float:
        if self._up():
            try:
                wait = await self._reserve(keys=[self._name(n, k) for n, k in slots],
                                           args=[repr(interval * 1000) for interval in slots.values()])
                return float(wait) / 1000
            except Exception as error:
                self._failed(error)
        return 0.0

    async def defer(self, name: str, key: str, seconds: float) -> None:
        if self._up():
            try:
                await self._defer(keys=[self._name(name, key)], args=[repr(seconds * 1000)])
            except Exception as error:
                self._failed(error)

    async def close(self) -> None:
        await self.redis.close()
        await self.redis.connection_pool.disconnect()


Store = MemoryStore | RedisStore


def open_store(url: str | None, prefix: str = "gbvbot") -> Store:
    """Redis when a URL is configured, else this process's memory."""
    return RedisStore(url, prefix) if url else MemoryStore()
