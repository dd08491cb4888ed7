"""Several gateways on one PostgreSQL database: exactly one leads (runs the jobs), another
takes over when the leader's database connection is gone, and a timer scheduled by a
follower fires once, on the leader."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from bot import scheduler
from bot.config import settings

pytestmark = pytest.mark.postgres


class Gateway:
    """What a gateway does with its scheduler: start it paused, resume it while leading."""

    def __init__(self, url: str, name: str):
        self.name = name
        self.jobs = scheduler.build(settings())
        self.terms = 0
        self.leadership = scheduler.Leadership(url, self.elected, self.deposed, tick=self.jobs.wakeup, retry=0.2)

    async def elected(self) -> None:
        self.terms += 1
        self.jobs.resume()

    async def deposed(self) -> None:
        self.jobs.pause()

    async def __aenter__(self) -> Gateway:
        self.jobs.start(paused=True)
        self.task = asyncio.create_task(self.leadership.run())
        return self

    async def __aexit__(self, *_exc) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.jobs.shutdown(wait=False)


async def until(predicate, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


LEADER_PID = ("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :ns "
              "AND objid = (hashtext(current_schema())::bigint & 4294967295)::text::oid")
FIRED: list[tuple[str, str]] = []


async def record(job: str) -> None:
    FIRED.append((job, "leader"))


@pytest.fixture
def pg_url(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("leadership is a PostgreSQL advisory lock; on SQLite the one gateway leads")
    return db_url


async def test_one_gateway_leads_and_another_takes_over_when_its_connection_is_cut(pg_url):
    async with Gateway(pg_url, "a") as a, Gateway(pg_url, "b") as b:
        await until(lambda: a.leadership.leading or b.leadership.leading)
        await asyncio.sleep(1.0)  # several election rounds: still one leader
        assert [a.leadership.leading, b.leadership.leading].count(True) == 1
        leader, follower = (a, b) if a.leadership.leading else (b, a)

        engine = create_engine(pg_url, future=True)  # the leader's connection is terminated
        with engine.begin() as conn:
            pid = conn.scalar(text(LEADER_PID), {"ns": scheduler.LOCK_NAMESPACE})
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        engine.dispose()
        await until(lambda: follower.leadership.leading)
        await until(lambda: not leader.leadership.leading)
        await asyncio.sleep(1.0)
        assert [a.leadership.leading, b.leadership.leading].count(True) == 1
        assert follower.terms == 1


async def test_a_timer_scheduled_on_a_follower_fires_once_on_the_leader(pg_url):
    FIRED.clear()
    async with Gateway(pg_url, "a") as a:
        await until(lambda: a.leadership.leading)
        async with Gateway(pg_url, "b") as b:
            await asyncio.sleep(0.5)
            assert not b.leadership.leading
            b.jobs.add_job(record, "date", run_date=datetime.now().astimezone() + timedelta(seconds=1),
                           args=["ladder"], id="ladder-test", replace_existing=True)
            await until(lambda: FIRED)
            await asyncio.sleep(2.5)
    assert FIRED == [("ladder", "leader")]


async def test_a_gateway_that_cannot_start_leading_steps_down_and_tries_again(db_url):
    calls: list[str] = []

    async def elected() -> None:
        calls.append("elected")
        if len(calls) == 1:
            raise ConnectionError("the database went away")

    async def deposed() -> None:
        calls.append("deposed")

    leadership = scheduler.Leadership(db_url, elected, deposed, retry=0.1)
    task = asyncio.create_task(leadership.run())
    try:
        await until(lambda: leadership.leading and calls.count("elected") == 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert calls == ["elected", "deposed", "elected", "deposed"]
