"""Nearest-place lookup latency over 10,000 places (target: p95 ≤ 5 ms).

Builds a temporary SQLite database, imports 10,000 random places around Huế through
`import_csv` (as an operator would), then times 2,000 mixed lookups: by location, by unit
(current, former and unaccented names) and by kind. Prints figures; asserts nothing.

    python bench/bench_nearest.py
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

PLACES, LOOKUPS = 10_000, 2_000
HOURS = [
    ("", "true"),
    ("Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30", "false"),
    ("Mon-Fri 07:00-17:00", "false"),
    ("Daily 18:00-07:00", "false"),
    ("Mon-Sat 07:00-21:00", "false"),
    ("", "false"),
]
UNIT_NAMES = ["Phường Hương Trà", "tu ha", "Hương Chữ", "kim tra", "Xã Bình Điền", "binh thanh", "Hương Vân"]


def write_csv(path: Path, rng: random.Random) -> None:
    from bot.services.directory import COLUMNS, KINDS

    units = ["Phường Hương Trà", "Phường Kim Trà", "Xã Bình Điền"]
    kinds = [k for k in KINDS if k != "hotline"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        for i in range(PLACES):
            hours, always = rng.choice(HOURS)
            writer.writerow({
                "key": f"bench-{i}", "name": f"Nơi số {i}", "kind": rng.choice(kinds),
                "unit": rng.choice(units), "address": f"Số {i}", "phones": f"0000 {i:06d}",
                "hours": hours, "open_24_7": always,
                "lat": f"{rng.uniform(16.30, 16.60):.5f}", "lon": f"{rng.uniform(107.40, 107.65):.5f}",
                "verified": "true", "source": "benchmark", "last_verified": "2026-11-01", "sample": "false",
            })


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_nearest_") as tmp:
        run(Path(tmp))


def run(tmp: Path) -> None:
    os.environ.update({
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "GBVBOT_VAR_DIR": str(tmp / "var"),
        "GBVBOT_MODE": "demo", "GBVBOT_SECRET_KEY": "bench-secret-key-0123456789abcdef-xyz",
    })
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bot.services import directory
    from bot.storage import db

    rng = random.Random(42)
    db.upgrade()
    write_csv(tmp / "places.csv", rng)
    started = time.perf_counter()
    report = directory.import_csv(tmp / "places.csv")
    print(f"import {report.rows} rows: {time.perf_counter() - started:.2f} s ({report.inserted} inserted)")
    if not report.ok:
        print("\n".join(report.errors[:10]))
        return

    started = time.perf_counter()
    directory.nearest(unit="Phường Hương Trà")
    print(f"index build (first lookup): {(time.perf_counter() - started) * 1000:.1f} ms")

    kinds = [None, "trusted_address", "shelter", "police", "health", "legal_aid"]
    base = datetime(2026, 11, 30, tzinfo=timezone.utc)
    timings: dict[str, list[float]] = {"location": [], "unit": []}
    for _ in range(LOOKUPS):
        kind = rng.choice(kinds)
        now = base + timedelta(minutes=rng.randrange(7 * 24 * 60))
        if rng.random() < 0.5:
            how, args = "location", {"lat": rng.uniform(16.30, 16.60), "lon": rng.uniform(107.40, 107.65)}
        else:
            how, args = "unit", {"unit": rng.choice(UNIT_NAMES)}
        started = time.perf_counter()
        directory.nearest(kind=kind, now=now, **args)
        timings[how].append((time.perf_counter() - started) * 1000)
    timings["all"] = timings["location"] + timings["unit"]
    print(f"{LOOKUPS} lookups over {PLACES} places (ms; load average {os.getloadavg()[0]:.2f}):")
    for how, values in timings.items():
        values.sort()
        print(f"  {how:<8} n={len(values):<5} p50={percentile(values, 50):.3f}  p95={percentile(values, 95):.3f}"
              f"  p99={percentile(values, 99):.3f}  max={values[-1]:.3f}  mean={statistics.mean(values):.3f}")


if __name__ == "__main__":
    main()
