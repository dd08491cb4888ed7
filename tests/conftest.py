"""Shared fixtures. Storage tests run on SQLite and on the machine's PostgreSQL
(GBVBOT_TEST_PG_URL); the PostgreSQL ones are marked `postgres`. Tests of state shared by
several gateways use the machine's Redis (GBVBOT_TEST_REDIS_URL) and are marked `redis`.
`make unit` leaves both out."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("GBVBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# One schema per test process: two runs on the same machine (or the same database) do not
# drop each other's tables.
PG_SCHEMA = f"gbvbot_test_{os.getpid()}"
REDIS_URL = os.environ.get("GBVBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET_KEY = "test-secret-key-0123456789abcdef-xyz"


def _reset_caches() -> None:
    from bot import config
    from bot.storage import crypto, db

    config.settings.cache_clear()
    crypto.derive_key.cache_clear()
    db._engine.cache_clear()
    db._factory.cache_clear()
    import bot.storage.conversations as conversations

    conversations._sealer = None


def _drop_all(url: str, schema: str = PG_SCHEMA, create: bool = True) -> str:
    """Recreate an empty PostgreSQL schema (or only drop it); returns a URL whose
    search_path is that schema."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            if create:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, monkeypatch):
    """A migrated, empty database; DATABASE_URL and the secret key point at it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    else:
        url = _drop_all(PG_URL)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GBVBOT_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("GBVBOT_VAR_DIR", str(tmp_path / "var"))
    _reset_caches()
    from bot.storage import db

    db.upgrade(url)
    yield url
    db.engine(url).dispose()
    _reset_caches()
    if request.param == "postgresql":
        _drop_all(PG_URL, create=False)


def database_dump(url: str) -> bytes:
    """Every stored byte (SQLite file + WAL) or every row as text (PostgreSQL)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        return b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))
    engine = create_engine(url, future=True)
    chunks = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT t::text FROM "{table}" t')):
                chunks.append(row[0].encode())
    engine.dispose()
    return b"\n".join(chunks)


@pytest.fixture
def staff(db_url):
    """A day officer for Hương Trà, a night officer area-wide, a backup, a desk, a coordinator."""
    from bot.services.roster import add_officer

    ids = {}
    ids["day"], _ = add_officer("Cán bộ A", "police", "officer", "Tứ Hạ", telegram_id="1001")
    ids["night"], _ = add_officer("Cán bộ B", "social_affairs", "officer", "*", telegram_id="1002")
    ids["backup"], _ = add_officer("Cán bộ C", "womens_union", "backup", "*", telegram_id="1003")
    ids["desk"], _ = add_officer("Trực ban", "police", "duty_desk", "*", telegram_id="1004")
    ids["coord"], _ = add_officer("Điều phối", "coordination", "coordinator", "*", telegram_id="1005")
    return ids


@pytest.fixture
async def redis_stores(monkeypatch):
    """`make()` → one gateway's RedisStore (its own connections); every store made in a test
    shares one key prefix, whose keys are deleted afterwards (`make.prefix`, `make.keys()`)."""
    import redis

    from bot.storage.shared import RedisStore

    if os.environ.get("GBVBOT_SECRET_KEY") != SECRET_KEY:
        monkeypatch.setenv("GBVBOT_SECRET_KEY", SECRET_KEY)
        _reset_caches()
    prefix = f"gbvbot_test_{os.getpid()}_{secrets.token_hex(4)}"
    client = redis.Redis.from_url(REDIS_URL)
    stores: list[RedisStore] = []

    def make() -> RedisStore:
        stores.append(RedisStore(REDIS_URL, prefix))
        return stores[-1]

    make.prefix = prefix
    make.keys = lambda: sorted(client.scan_iter(f"{prefix}:*"))
    make.url = REDIS_URL
    yield make
    for store in stores:
        await store.close()
    keys = make.keys()
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def shared_gateways(redis_stores, monkeypatch):
    """Every gateway app the test creates (bot.gateway.create_app) gets its own RedisStore on
    the machine's Redis, as with REDIS_URL set: several gateways behind one address."""
    from bot import gateway

    monkeypatch.setattr(gateway, "open_store", lambda _url: redis_stores())
    return redis_stores
