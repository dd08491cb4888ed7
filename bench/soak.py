"""`make soak`: the whole stack under a steady load for a long time; do latency and memory stay flat?

Open loop: turns start at a fixed rate (GBVBOT_SOAK_RATE turns/s, default 20) for
GBVBOT_SOAK_MINUTES (default 30), whatever the answers' speed, spread over 20 conversations
at a time (10 turns each, then a new resident), so each conversation gets a turn every
second, after a warm-up (one whole conversation per slot, at once, not counted: a freshly
started stack would otherwise build a backlog the open loop takes minutes to drain). The run
is cut into 10 windows; each prints p50/p95 latency, the rate achieved, errors,
the stack's RSS and the load average. The last line is the verdict: flat when the last three
windows' p95 is within 1.2× of windows 2–4 (the first warms up), RSS grew by at most 10 % after
window 2, the rate held (≥ 95 %) and no turn failed. Prints; asserts nothing. Not part of
`make test` or `make bench`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from bench.run import OUR_TURNS, Target, loadavg, percentile, rss_mb, turn
from tests.e2e.conftest import start_stack, stop_stack

CONVERSATIONS = 20
WINDOWS = 10


def settings() -> tuple[float, float]:
    try:
        minutes = float(os.environ.get("GBVBOT_SOAK_MINUTES", "30"))
        rate = float(os.environ.get("GBVBOT_SOAK_RATE", "20"))
    except ValueError:
        raise SystemExit("GBVBOT_SOAK_MINUTES and GBVBOT_SOAK_RATE must be numbers") from None
    if minutes <= 0 or rate <= 0:
        raise SystemExit("GBVBOT_SOAK_MINUTES and GBVBOT_SOAK_RATE must be positive")
    return minutes, rate


async def soak(target: Target, pid: int, minutes: float, rate: float) -> list[dict]:
    window = minutes * 60 / WINDOWS
    slots = [[uuid.uuid4().hex, 0] for _ in range(CONVERSATIONS)]  # sender, turns sent
    windows: list[dict] = []
    current: dict = {"ms": [], "errors": 0}
    pending: set[asyncio.Task] = set()

    async def one(http, sender: str, text: str, bucket: dict) -> None:
        ms, ok = await turn(http, target, sender, text)
        bucket["ms"].append(ms)
        bucket["errors"] += not ok

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def warm_up(sender: str) -> None:
            for text in target.turns:
                await turn(http, target, sender, text)

        await asyncio.gather(*(warm_up(uuid.uuid4().hex) for _ in range(CONVERSATIONS)))
        started = time.monotonic()
        window_end = started + window
        k = 0
        print(f"{'window':>6s} {'end s':>6s} {'turns/s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'errors':>6s}"
              f" {'RSS MB':>7s}  load", flush=True)
        while len(windows) < WINDOWS:
            due = started + k / rate
            now = time.monotonic()
            if due >= window_end or now >= window_end:
                await asyncio.gather(*pending)  # this window's turns finish in this window's figures
                pending.clear()
                windows.append(report(len(windows) + 1, window_end - started, window, current, pid))
                current = {"ms": [], "errors": 0}
                window_end += window
                continue
            if due > now:
                await asyncio.sleep(due - now)
            slot = slots[k % CONVERSATIONS]
            if slot[1] == len(target.turns):
                slot[:] = [uuid.uuid4().hex, 0]
            task = asyncio.create_task(one(http, slot[0], target.turns[slot[1]], current))
            pending.add(task)
            task.add_done_callback(pending.discard)
            slot[1] += 1
            k += 1
    return windows


def report(number: int, end: float, window: float, bucket: dict, pid: int) -> dict:
    ms = bucket["ms"]
    row = {
        "per_s": len(ms) / window,
        "p50": statistics.median(ms) if ms else 0.0,
        "p95": percentile(ms, 95) if ms else 0.0,
        "errors": bucket["errors"],
        "rss": rss_mb(pid),
        "load": loadavg(),
    }
    print(f"{number:6d} {end:6.0f} {row['per_s']:8.1f} {row['p50']:7.0f} {row['p95']:7.0f} {row['errors']:6d}"
          f" {row['rss']:7.0f}  {row['load']}", flush=True)
    return row


def verdict(windows: list[dict], rate: float) -> str:
    early = statistics.median(w["p95"] for w in windows[1:4])
    late = statistics.median(w["p95"] for w in windows[-3:])
    growth = windows[-1]["rss"] / windows[1]["rss"]
    held = min(w["per_s"] for w in windows) / rate
    errors = sum(w["errors"] for w in windows)
    checks = {
        f"p95 last 3 windows {late:.0f} ms / windows 2-4 {early:.0f} ms = {late / early:.2f} (≤ 1.2)": late / early <= 1.2,
        f"RSS growth after window 2 = {(growth - 1) * 100:+.1f} % (≤ 10 %)": growth <= 1.10,
        f"rate held = {held:.2f} of {rate:g}/s (≥ 0.95)": held >= 0.95,
        f"errors = {errors} (0)": errors == 0,
    }
    failed = sum(not ok for ok in checks.values())
    head = "soak: FLAT — " if not failed else f"soak: NOT FLAT ({failed} of {len(checks)} checks failed: ✗) — "
    return head + "; ".join(name + ("" if ok else " ✗") for name, ok in checks.items())


def main() -> None:
    minutes, rate = settings()
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-soak-"))
    print(f"soak: {minutes:g} min at {rate:g} turns/s over {CONVERSATIONS} conversations; "
          f"load average before: {loadavg()}", flush=True)
    stack = start_stack(tmp, f"sqlite:///{tmp / 'soak.sqlite3'}", {"GBVBOT_RATE_PER_MINUTE": "100000000"})
    try:
        windows = asyncio.run(soak(Target("ours", stack.url + "/api/chat", OUR_TURNS, "gateway"),
                                   stack.process.pid, minutes, rate))
    finally:
        stop_stack(stack)
        shutil.rmtree(tmp, ignore_errors=True)
    print(verdict(windows, rate))


if __name__ == "__main__":
    main()
