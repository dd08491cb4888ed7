"""The single APScheduler instance: retention now, escalation timers and campaigns later.

Jobs live in a persistent SQLAlchemy job store in the app database, so they survive
restarts and a missed run fires once (coalesce) when the scheduler comes back.
"""

from __future__ import annotations

import logging
import signal

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.config import Settings
from bot.storage import conversations, delivery, events

log = logging.getLogger(__name__)


def purge_conversations(days: int) -> None:
    removed = conversations.purge_older_than(days)
    log.info("retention: removed %d conversations idle for more than %d days", removed, days)


def prune_channel_state() -> None:
    """Replay memory and reply windows are only needed for 48 hours."""
    removed = events.prune() + delivery.prune_windows()
    log.info("retention: removed %d expired channel records", removed)


def build(settings: Settings) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename="scheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="Asia/Ho_Chi_Minh",
    )
    scheduler.add_job(
        purge_conversations, "interval", hours=1, args=[settings.retention_days],
        id="retention", replace_existing=True,
    )
    scheduler.add_job(prune_channel_state, "interval", hours=1, id="channel_state", replace_existing=True)
    return scheduler


def serve(settings: Settings) -> None:
    scheduler = build(settings)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    purge_conversations(settings.retention_days)
    prune_channel_state()
    log.info("scheduler running")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
