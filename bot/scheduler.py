"""The single APScheduler instance, running on the gateway's event loop.

Jobs live in a persistent SQLAlchemy job store in the app database: escalation ladder
timers survive a restart, and one that came due while the gateway was down fires once
when it is back (coalesce, generous misfire grace). It runs in the gateway process because
alerts must go out through the gateway's channels and their priority queues.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

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


def build(settings: Settings) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename="scheduler_jobs")},
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
