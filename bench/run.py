"""`make bench`: /api/chat turn latency and throughput, side by side with its references.

(a) bare Rasa's REST webhook serving a stock `rasa init` project (default policies) —
    what a team would start from;
(b) bare Rasa's REST webhook serving our own model, tracker store and action server —
    to show what our gateway adds; the same server's `/model/parse` is "the parse alone";
ours: the whole stack (`gbvbot run`) through /api/chat, on SQLite, then on PostgreSQL
    (a fresh schema in GBVBOT_TEST_PG_URL's database; the row is skipped if it cannot be reached).

Each is measured with 1 and 20 concurrent sessions (fresh conversations of 10 turns), and
one long conversation (turns 1–20 vs 280–300). Prints a table and the targets of issue 16,
each met or not; asserts nothing. The load client runs on the same machine: the load
average is printed with the figures (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from tests.e2e.conftest import descendants, free_port, start_stack, stop_stack

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}

OUR_TURNS = [
    "xin chào", "chồng tôi hay đánh tôi", "có", "tôi có quyền gì", "cam on",
    "bao luc gia dinh la gi", "cấm tiếp xúc là gì", "ck e đánh e thì bị phạt bn", "menu", "tạm biệt",
]
STOCK_TURNS = ["hello", "I am sad", "yes", "great", "bye", "hi", "not really", "I am happy", "no", "goodbye"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Target:
    def __init__(self, name: str, url: str, turns: list[str], kind: str):
        self.name, self.url, self.turns, self.kind = name, url, turns, kind

    def body(self, sender: str, text: str) -> dict:
        if self.kind == "gateway":
            return {"session_id": sender, "text": text}
        if self.kind == "parse":
            return {"text": text}
        return {"sender": sender, "message": text}


async def turn(http: aiohttp.ClientSession, target: Target, sender: str, text: str) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        async with http.post(target.url, json=target.body(sender, text)) as response:
            await response.read()
            ok = response.status == 200
    except aiohttp.ClientError:
        ok = False
    return (time.perf_counter() - started) * 1000, ok


async def load(target: Target, clients: int, conversations_per_client: int) -> dict:
    latencies: list[float] = []
    errors = 0

    async def client(http):
        nonlocal errors
        for _ in range(conversations_per_client):
            sender = uuid.uuid4().hex
            for text in target.turns:
                ms, ok = await turn(http, target, sender, text)
                latencies.append(ms)
                errors += not ok

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await turn(http, target, "warmup", target.turns[0])
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "turns": len(latencies), "errors": errors, "per_s": len(latencies) / elapsed,
        "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
    }


async def long_conversation(target: Target, turns: int = 300) -> dict:
    sender = uuid.uuid4().hex
    latencies = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for i in range(turns):
            ms, _ = await turn(http, target, sender, target.turns[i % len(target.turns)])
            latencies.append(ms)
    early, late = latencies[:20], latencies[279:300]
    return {
        "early_p50": statistics.median(early), "early_p95": percentile(early, 95),
        "late_p50": statistics.median(late), "late_p95": percentile(late, 95),
    }


def rss_mb(pid: int) -> float:
    total = 0
    for p in {pid, *descendants(pid)}:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def wait_http(url: str, process: subprocess.Popen, timeout: float = 240) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def stock_project() -> Path:
    project = CACHE / "stock"
    if not list((project / "models").glob("*.tar.gz")):
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        print("training the stock `rasa init` project (once; cached in var/bench/stock)…", flush=True)
        subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)],
                       cwd=project, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return project


def bare_rasa(project: Path, model: Path, extra: list[str], env: dict, channel: str) -> tuple[subprocess.Popen, str]:
    """`rasa run` alone; returns the process and the URL of `channel`'s webhook ("rest": the
    stock project's credentials.yml, "gateway": ours)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", str(model), "-i", "127.0.0.1", "-p", str(port), *extra],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/", process)
    return process, f"http://127.0.0.1:{port}/webhooks/{channel}/webhook"


async def measure(target: Target, long: bool = True) -> dict:
    result = {"1 client": await load(target, 1, 20), "20 clients": await load(target, 20, 3)}
    if long:
        result["long"] = await long_conversation(target)
    return result


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def postgres_url() -> str | None:
    """A fresh schema for the PostgreSQL row, or None (printed) if PostgreSQL is not there."""
    from tests.conftest import PG_URL, _drop_all

    try:
        return _drop_all(PG_URL, "gbvbot_bench")
    except Exception as error:  # noqa: BLE001 — the row is skipped, the reason printed
        print(f"PostgreSQL row skipped: {type(error).__name__}", flush=True)
        return None


def verdict(value: float, limit: float, at_most: bool = True) -> str:
    met = value <= limit if at_most else value >= limit
    if met:
        return "met"
    return f"NOT met ({value / limit:.2f}× the limit)" if at_most else f"NOT met ({value / limit:.2f} of it)"


def print_targets(results: dict, rss: float) -> None:
    """Issue 16's targets, from the same run and the same references."""
    a, b, ours = (results[k] for k in ("(a) stock rasa init", "(b) bare rasa, our model", "ours /api/chat"))
    parse = b["parse"]["p95"]
    rows = [
        ("p95 at 1 client / the parse alone", ours["1 client"]["p95"] / parse, 1.5, True,
         f"{ours['1 client']['p95']:.0f} / {parse:.0f} ms"),
        ("p95 at 20 clients / stock project", ours["20 clients"]["p95"] / a["20 clients"]["p95"], 0.25, True,
         f"{ours['20 clients']['p95']:.0f} / {a['20 clients']['p95']:.0f} ms"),
        ("turns/s at 20 clients", ours["20 clients"]["per_s"], 100, False,
         f"errors {ours['20 clients']['errors']}"),
        ("stack RSS after load, MB", rss, 1536, True, ""),
        ("turn 280-300 p95 / turn 1-20 p95", ours["long"]["late_p95"] / ours["long"]["early_p95"], 1.2, True, ""),
    ]
    print(f"\n{'target (issue 16)':36s} {'value':>8s} {'limit':>8s}  verdict")
    for name, value, limit, at_most, note in rows:
        sign = "≤" if at_most else "≥"
        print(f"{name:36s} {value:8.2f} {sign}{limit:7g}  {verdict(value, limit, at_most)}  {note}")
    if "ours on PostgreSQL" in results:
        pg = results["ours on PostgreSQL"]
        print(f"{'PostgreSQL: p95 1 client / parse':36s} {pg['1 client']['p95'] / parse:8.2f} ≤{1.5:7g}  "
              f"{verdict(pg['1 client']['p95'] / parse, 1.5)}")
        print(f"{'PostgreSQL: p95 20 clients / stock':36s} {pg['20 clients']['p95'] / a['20 clients']['p95']:8.2f}"
              f" ≤{0.25:7g}  {verdict(pg['20 clients']['p95'] / a['20 clients']['p95'], 0.25)}")
        print(f"{'PostgreSQL: turns/s at 20 clients':36s} {pg['20 clients']['per_s']:8.2f} ≥{100:7g}  "
              f"{verdict(pg['20 clients']['per_s'], 100, at_most=False)}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def main() -> None:
    results: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-"))
    print(f"load average before: {loadavg()}", flush=True)

    project = stock_project()
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    process, url = bare_rasa(project, model, [], ENV, "rest")
    try:
        results["(a) stock rasa init"] = asyncio.run(measure(Target("a", url, STOCK_TURNS, "rasa")))
    finally:
        stop(process)

    stack = start_stack(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}", {"GBVBOT_RATE_PER_MINUTE": "100000000"})
    try:
        results["ours /api/chat"] = asyncio.run(measure(Target("ours", stack.url + "/api/chat", OUR_TURNS, "gateway")))
        rss = rss_mb(stack.process.pid)
        endpoints = tmp / "endpoints.runtime.yml"
        from bot.training import current_model

        env = {**ENV, **{k: v for k, v in stack.env.items() if k.startswith(("GBVBOT_", "DATABASE_URL"))}}
        process, url = bare_rasa(ROOT, current_model(), ["--enable-api", "--endpoints", str(endpoints),
                                                         "--credentials", str(ROOT / "credentials.yml")], env, "gateway")
        try:
            results["(b) bare rasa, our model"] = asyncio.run(measure(Target("b", url, OUR_TURNS, "rasa")))
            parse_url = url.replace("/webhooks/gateway/webhook", "/model/parse")
            results["(b) bare rasa, our model"]["parse"] = asyncio.run(
                load(Target("parse", parse_url, OUR_TURNS, "parse"), 1, 20))
        finally:
            stop(process)
    finally:
        stop_stack(stack)

    pg_url = postgres_url()
    if pg_url:
        stack = start_stack(tmp, pg_url, {"GBVBOT_RATE_PER_MINUTE": "100000000"})
        try:
            results["ours on PostgreSQL"] = asyncio.run(
                measure(Target("pg", stack.url + "/api/chat", OUR_TURNS, "gateway"), long=False))
        finally:
            stop_stack(stack)
            from tests.conftest import PG_URL, _drop_all

            _drop_all(PG_URL, "gbvbot_bench", create=False)
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'target':28s} {'clients':>8s} {'turns/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    for name, r in results.items():
        for clients in ("1 client", "20 clients"):
            m = r[clients]
            print(f"{name:28s} {clients:>8s} {m['per_s']:8.1f} {m['p50']:8.0f} {m['p95']:8.0f} {m['p99']:8.0f} {m['errors']:7d}")
    m = results["(b) bare rasa, our model"]["parse"]
    print(f"{'(b) /model/parse alone':28s} {'1 client':>8s} {m['per_s']:8.1f} {m['p50']:8.0f} {m['p95']:8.0f} {m['p99']:8.0f} {m['errors']:7d}")
    print(f"\n{'target':28s} {'turns 1-20 p50/p95':>20s} {'turns 280-300 p50/p95':>24s}")
    for name, r in results.items():
        if "long" in r:
            m = r["long"]
            print(f"{name:28s} {m['early_p50']:9.0f}/{m['early_p95']:<9.0f} {m['late_p50']:12.0f}/{m['late_p95']:<10.0f}")
    a, b, ours = (results[k] for k in ("(a) stock rasa init", "(b) bare rasa, our model", "ours /api/chat"))
    print(f"\nours p95 / (b) p95: 1 client {ours['1 client']['p95'] / b['1 client']['p95']:.2f},"
          f" 20 clients {ours['20 clients']['p95'] / b['20 clients']['p95']:.2f} (what the gateway adds)")
    failed = [name for name, r in results.items() if r["1 client"]["errors"] or r["20 clients"]["errors"]]
    if failed:
        print(f"WARNING: turns failed in {', '.join(failed)}: those figures are not comparable")
    print_targets(results, rss)
    print(f"load average after: {loadavg()} (2 cores; other work on the machine inflates every figure)")
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "bench.json").write_text(json.dumps({**results, "rss_mb": rss, "loadavg": loadavg()}, indent=2))


if __name__ == "__main__":
    main()
