"""The APScheduler instance of a gateway, and which gateway runs the jobs.

Jobs live in a persistent SQLAlchemy job store in the app database: escalation ladder
timers survive a restart, and one that came due while the gateway was down fires once
when it is back (coalesce, generous misfire grace). It runs in the gateway process because
alerts must go out through the gateway's channels and their priority queues.

Several gateways share one database: every one writes jobs to the shared store (a ladder
timer is scheduled wherever the resident's turn lands), but only the leader runs them
(`Leadership`: a PostgreSQL advisory lock). The others keep their scheduler paused, so
`add_job` only writes the row. APScheduler wakes only at the next run time it computed, so
the leader also looks at the store every second for jobs other gateways added.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.config import Settings
from bot.services import checkin, escalation
from bot.services.escalation import ladder_job
from bot.services.reminders import reminder_job
from bot.storage import conversations, delivery, events, recent

log = logging.getLogger(__name__)


def purge_conversations(days: int) -> None:
    removed = conversations.purge_older_than(days)
    log.info("retention: removed %d conversations idle for more than %d days", removed, days)


def anonymise_cases(days: int) -> None:
    removed = escalation.anonymise_closed(days)
    log.info("retention: anonymised %d cases closed more than %d days ago", removed, days)


def prune_channel_state() -> None:
    """Replay memory (processed_events) and reply windows are only needed for 48 hours,
    erasure tombstones for a day."""
    removed = events.prune() + delivery.prune_windows() + conversations.prune_tombstones() + recent.prune()
    log.info("retention: removed %d expired channel records", removed)


async def check_in_job() -> None:
    """Residents who agreed get their one check-in when the follow-up is due (bot/services/checkin.py)."""
    if escalation._service is not None:
        sent = await checkin.send_due(escalation._service)
        log.info("check-ins sent: %d", sent)


async def ladder_sweep_job() -> None:
    """Ladders whose timer was lost climb on (bot/services/escalation.py, `Escalation.sweep`)."""
    if escalation._service is not None:
        await escalation._service.sweep()


def job_store(database_url: str) -> SQLAlchemyJobStore:
    options = {} if database_url.startswith("sqlite") else {"pool_pre_ping": True}
    return SQLAlchemyJobStore(url=database_url, tablename="scheduler_jobs", engine_options=options)


def create_job_table(database_url: str) -> None:
    """Create the job store's table once, before several gateways start at the same time."""
    store = job_store(database_url)
    store.jobs_t.create(store.engine, checkfirst=True)
    store.engine.dispose()


def build(settings: Settings) -> AsyncIOScheduler:
    """The scheduler with its recurring jobs. Start it paused (`start(paused=True)`): it then
    only writes jobs to the store; `Leadership` resumes it on the leader."""
    scheduler = AsyncIOScheduler(
        jobstores={"default": job_store(settings.database_url)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 24 * 3600},
        timezone="Asia/Ho_Chi_Minh",
    )
    scheduler.add_job(
        purge_conversations, "interval", hours=1, args=[settings.retention_days],
        id="retention", replace_existing=True, next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        prune_channel_state, "interval", hours=1, id="channel_state", replace_existing=True,
        next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        anonymise_cases, "interval", hours=1, args=[settings.case_retention_days], id="case_retention",
        replace_existing=True, next_run_time=datetime.now().astimezone(),
    )
    scheduler.add_job(
        check_in_job, "interval", minutes=30, id="check_in", replace_existing=True,
    )
    scheduler.add_job(ladder_sweep_job, "interval", seconds=15, id="ladder_sweep", replace_existing=True)
    scheduler.add_job(  # 10 and 3 days before 20/06 and 30/11: a draft report, officials told
        reminder_job, "cron", hour=8, args=[str(settings.var_dir / "reports")], id="report_reminder",
        replace_existing=True,
    )
    return scheduler


def ladder_timer(scheduler: AsyncIOScheduler):
    """`schedule(case_id, rung, run_at)` for the escalation service."""

    def schedule(case_id: str, rung: int, run_at: datetime) -> None:
        scheduler.add_job(
            ladder_job, "date", run_date=run_at, args=[case_id, rung],
            id=f"ladder-{case_id}-{rung}", replace_existing=True,
        )

    return schedule


LOCK_NAMESPACE = 0x6762  # pg_try_advisory_lock(namespace, hashtext(current_schema())): one leader per schema


class Leadership:
    """Exactly one gateway per database leads: it runs the scheduler's jobs, the campaign
    engine, the report reminders and Telegram polling.

    On PostgreSQL the leader is the gateway holding an advisory lock on a connection of its
    own, kept open for the whole leadership. A leader killed outright closes that connection,
    which frees the lock; the others try again every `retry` seconds, so one takes over
    within a few seconds. The leader checks its connection every `check` seconds and steps
    down when it is lost (the server dropped it, or it does not answer in time): the lock
    may be someone else's by then. Both steps are idempotent where it matters (a ladder rung
    is claimed by a conditional update, a campaign message by its delivery row), so a
    moment with two leaders sends nothing twice. On SQLite there is one gateway: it leads.
    """

    def __init__(self, database_url: str, elected: Callable[[], Awaitable[None]],
                 deposed: Callable[[], Awaitable[None]], tick: Callable[[], None] = lambda: None,
                 *, retry: float = 2.0, check: float = 1.0, timeout: float = 5.0):
        self.database_url = database_url
        self.elected, self.deposed, self.tick = elected, deposed, tick
        self.retry, self.check, self.timeout = retry, check, timeout
        self.leading = False
        self._engine = None
        self._connection = None

    @property
    def shared(self) -> bool:
        return not self.database_url.startswith("sqlite")

    async def run(self) -> None:
        """Lead or wait to lead, until cancelled (then step down and let the lock go)."""
        try:
            if not self.shared:  # one gateway: every job is added to the running scheduler
                while not self.leading:
                    await self._take_office()
                    if not self.leading:
                        await asyncio.sleep(self.retry)
                await asyncio.Event().wait()
            while True:
                if not self.leading:
                    if await self._blocking(self._try_lock):
                        await self._take_office()
                        continue
                    await asyncio.sleep(self.retry)
                    continue
                if not await self._blocking(self._connected):
                    log.warning("scheduler: the leader lost its database connection; stepping down")
                    await self._leave_office()
                    continue
                self.tick()
                await asyncio.sleep(self.check)
        finally:
            if self.leading:
                await self._leave_office()
            if self._connection is not None:
                await asyncio.shield(asyncio.to_thread(self._close))

    async def _take_office(self) -> None:
        self.leading = True
        log.info("scheduler: this gateway leads (pid %d): jobs, campaigns and reminders run here", os.getpid())
        try:
            await self.elected()
        except Exception as error:  # e.g. the database went away meanwhile: let another gateway try
            log.error("scheduler: could not start leading (%s); stepping down", type(error).__name__)
            await self._leave_office()

    async def _leave_office(self) -> None:
        self.leading = False
        log.info("scheduler: this gateway no longer leads (pid %d)", os.getpid())
        try:
            await self.deposed()
        except Exception as error:
            log.error("scheduler: stepping down failed (%s)", type(error).__name__)
        finally:
            if self.shared:
                await asyncio.to_thread(self._close)

    async def _blocking(self, call: Callable[[], bool]) -> bool:
        """A database call in a thread; an error or no answer in time is False."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(call), self.timeout)
        except asyncio.TimeoutError:
            connection, self._connection = self._connection, None  # abandoned: the server ends it
            if connection is not None:
                asyncio.get_running_loop().run_in_executor(None, _quietly_close, connection)
            return False

    def _try_lock(self) -> bool:
        try:
            if self._connection is None:
                if self._engine is None:
                    self._engine = create_engine(
                        self.database_url, future=True, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                        connect_args={"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 5,
                                      "keepalives_interval": 2, "keepalives_count": 2},
                    )
                self._connection = self._engine.connect()
            return bool(self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:namespace, hashtext(current_schema()))"),
                {"namespace": LOCK_NAMESPACE},
            ))
        except Exception as error:  # the database is unreachable: try again later
            log.warning("scheduler: cannot reach the database to elect a leader (%s)", type(error).__name__)
            self._close()
            return False

    def _connected(self) -> bool:
        try:
            return self._connection is not None and self._connection.scalar(text("SELECT 1")) == 1
        except Exception:
            return False

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _quietly_close(connection)


def _quietly_close(connection) -> None:
    try:
        connection.close()
    except Exception:  # already broken: nothing to give back
        pass
