"""The database engine: several processes opening a new SQLite file at once."""

from __future__ import annotations

import multiprocessing


def _open_and_write(path: str, barrier, out) -> None:
    from sqlalchemy import text

    from bot.storage.db import make_engine

    engine = make_engine(f"sqlite:///{path}")
    barrier.wait()  # all at the same moment
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        out.put("ok")
    except Exception as error:  # reported to the test
        out.put(f"{type(error).__name__}: {error}")


def test_processes_opening_a_new_sqlite_file_together_all_switch_it_to_wal(tmp_path):
    """`gbvbot run` starts its processes at once; each connection switches the file to WAL,
    which SQLite may refuse as locked without waiting. Every process must get in."""
    context = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(8):
        path = str(tmp_path / f"new-{round_}.sqlite3")
        barrier, out = context.Barrier(6), context.Queue()
        processes = [context.Process(target=_open_and_write, args=(path, barrier, out)) for _ in range(6)]
        for process in processes:
            process.start()
        results = [out.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(10)
        failures += [r for r in results if r != "ok"]
    assert failures == []
