"""The virtual-time loop the timing tests rely on (tests/fakes/clock.py): time moves only
when every task waits, by exactly what the next timer asks, and a deadlock fails."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes import clock


def test_time_jumps_only_when_every_task_waits():
    async def scenario():
        loop = asyncio.get_running_loop()
        seen = []

        async def busy():
            for _ in range(1000):
                await asyncio.sleep(0)  # always ready to run again
            seen.append(("busy", loop.time()))

        async def sleeper(seconds):
            await asyncio.sleep(seconds)
            seen.append((f"slept {seconds}", loop.time()))

        await asyncio.gather(sleeper(5), busy(), sleeper(0.25))
        return seen

    assert clock.run(scenario()) == [("busy", 0.0), ("slept 0.25", 0.25), ("slept 5", 5.0)]


def test_a_timeout_fires_in_virtual_time():
    async def scenario():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=3600)
        return asyncio.get_running_loop().time()

    assert clock.run(scenario()) == 3600


def test_a_deadlock_fails_instead_of_hanging(monkeypatch):
    monkeypatch.setattr(clock, "STUCK_AFTER", 0.05)

    async def scenario():
        await asyncio.Event().wait()  # nothing will ever set it, and no timer is pending

    with pytest.raises(RuntimeError, match="every task is blocked"):
        clock.run(scenario())
