"""`make bench`: the same /api/chat load (bench/run.py: 1 client, then 20 clients of fresh
10-turn conversations) on the stack in four topologies, side by side in one run:

- SQLite, 1 gateway, 1 Rasa server (the default);
- PostgreSQL, 1 gateway, 1 Rasa server;
- PostgreSQL + Redis, 1 gateway, 2 Rasa servers (Redis lock store);
- PostgreSQL + Redis, 2 gateways, 2 Rasa servers.

PostgreSQL: a fresh schema of the test database (GBVBOT_TEST_PG_URL); Redis: a redis-server
of its own on a free port. The load client shares the machine's cores with the stack.
Prints a table; asserts nothing.

    python -m bench.bench_scale
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from bench.run import OUR_TURNS, Target, load, rss_mb
from tests.conftest import PG_URL, _drop_all
from tests.e2e.conftest import OwnRedis, free_pair, start_stack, stop_stack

TOPOLOGIES = [  # name, database, gateways, Rasa servers
    ("SQLite, 1 gw, 1 Rasa", "sqlite", 1, 1),
    ("PostgreSQL, 1 gw, 1 Rasa", "postgresql", 1, 1),
    ("PostgreSQL, 1 gw, 2 Rasa", "postgresql", 1, 2),
    ("PostgreSQL, 2 gw, 2 Rasa", "postgresql", 2, 2),
]


def measure(tmp: Path, redis: OwnRedis, database: str, gateways: int, rasa: int) -> dict:
    schema = f"gbvbot_bench_{os.getpid()}"
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if database == "sqlite" else _drop_all(PG_URL, schema)
    env = {"GBVBOT_RATE_PER_MINUTE": "100000000", "GBVBOT_GATEWAYS": str(gateways), "GBVBOT_RASA_SERVERS": str(rasa),
           "GBVBOT_RASA_PORT": str(free_pair()), "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
    stack = start_stack(tmp, url, env)
    try:
        target = Target("ours", stack.url + "/api/chat", OUR_TURNS, "gateway")
        result = {"1 client": asyncio.run(load(target, 1, 20)), "20 clients": asyncio.run(load(target, 20, 3))}
        result["rss"] = rss_mb(stack.process.pid)
    finally:
        stop_stack(stack)
        if database == "postgresql":
            _drop_all(PG_URL, schema, create=False)
    return result


def main() -> None:
    results = {}
    for name, database, gateways, rasa in TOPOLOGIES:
        tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-scale-"))
        redis = OwnRedis(tmp)
        redis.start()
        try:
            results[name] = measure(tmp, redis, database, gateways, rasa)
        finally:
            redis.kill()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'topology (/api/chat)':28s} {'clients':>8s} {'turns/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}"
          f" {'errors':>7s} {'RSS MB':>7s}")
    for name, r in results.items():
        for clients in ("1 client", "20 clients"):
            m = r[clients]
            print(f"{name:28s} {clients:>8s} {m['per_s']:8.1f} {m['p50']:8.0f} {m['p95']:8.0f} {m['p99']:8.0f}"
                  f" {m['errors']:7d} {r['rss']:7.0f}")


if __name__ == "__main__":
    main()
