"""Database engine and sessions (SQLAlchemy 1.4 in 2.0 style), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.config import settings

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A pool of open connections: SQLAlchemy 1.4's default for a SQLite file (NullPool) opens
        # and closes one per transaction, and closing the last connection checkpoints the WAL,
        # which made every write ~15 ms instead of ~0.5 ms (docs/performance.md).
        engine = create_engine(url, future=True, poolclass=QueuePool, pool_size=5, max_overflow=10,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):
            cursor = connection.cursor()
            _wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)


def engine(url: str | None = None) -> Engine:
    """The process's engine (one pool) for `url`, by default DATABASE_URL."""
    return _engine(url or settings().database_url)


def _wal(cursor) -> None:
    """Switch a SQLite file to WAL (once; it stays). Two processes opening a new file at the
    same moment may find it locked (the busy timeout does not cover this pragma): try again."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 99:
                raise
            time.sleep(0.05)


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return make_engine(url)


@lru_cache(maxsize=4)
def _factory(url: str | None) -> sessionmaker:
    return sessionmaker(bind=engine(url), future=True, expire_on_commit=False)


def dropped(error: BaseException) -> bool:
    """The database closed this connection under us (restarted, or the backend terminated): the
    pool has discarded it, and the same work on a fresh connection may well succeed."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    session = _factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply Alembic migrations (what `gbvbot db upgrade` and `make run` do)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url or settings().database_url
    command.upgrade(config, revision)
