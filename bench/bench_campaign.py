"""A campaign to 10,000 Telegram subscribers through the real gateway: rate, limits, alerts
meanwhile, and a hard kill in the middle.

The gateway (`gbvbot gateway`, no Rasa: the safety net answers emergencies alone) talks to a
local fake Bot API that enforces 30 messages/s overall and 1 message/s per chat (429 with
retry_after beyond, every breach counted). One duty desk officer is always on duty. The
campaign is sent; every 3 s a resident writes an emergency on the web chat, and the time
until the officer's (fake) Telegram receives the alert is measured. When 40 % of the
campaign has gone out the gateway is killed with SIGKILL (no chance to finish anything),
then started again; it resumes the campaign. Prints the sustained rate against the
configured limit, whether a limit was exceeded, alert latency p50/p99, and duplicates,
losses and in-flight-at-kill (`unknown`) rows. Plain script: prints figures, asserts nothing.

    python -m bench.bench_campaign [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.e2e.conftest import SECRET, free_port
from tests.fakes import InThread
from tests.fakes import telegram as tg

ROOT = Path(__file__).resolve().parent.parent
OFFICER = 820001
FIRST_CHAT = 5_000_000
EMERGENCY = "cứu em với, chồng em đang cầm dao đòi giết em"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def prepare(subscribers: int) -> None:
    """Officer, subscribers (sealed, as /dangky stores them) and a campaign being sent."""
    from bot.services import campaigns, roster
    from bot.storage import db
    from bot.storage.crypto import Sealer, pseudonym
    from bot.storage.models import Subscription, utcnow

    db.upgrade()
    roster.add_officer("Trực ban", "police", "duty_desk", "*", telegram_id=str(OFFICER))
    sealer, now = Sealer("subscription"), utcnow()
    with db.session_scope() as session:
        session.execute(Subscription.__table__.insert(), [
            {"sender": pseudonym("telegram", str(chat)), "channel": "telegram", "chat": sealer.seal(str(chat).encode()),
             "created_at": now, "active": True}
            for chat in range(FIRST_CHAT, FIRST_CHAT + subscribers)])
    spec = campaigns.parse({**campaigns.templates()["day_25_11"], "channels": ["telegram"], "quiet_hours": "00:00-00:01"})
    campaigns.act(campaigns.create(spec, "bench"), "send")


def start_gateway(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "gateway"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the gateway did not start")


def emergency(port: int) -> str | None:
    body = json.dumps({"session_id": uuid.uuid4().hex, "text": EMERGENCY}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (json.loads(response.read()).get("escalation") or {}).get("case_id")
    except urllib.error.HTTPError:
        return None


def campaign_messages(fake) -> list[dict]:
    return [m for m in list(fake.sent) if m["chat_id"] >= FIRST_CHAT]


def main(subscribers: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-campaign-"))
    port = free_port()
    with InThread(tg.FakeTelegram(per_second_limit=30, per_chat_interval=1.0)) as telegram:
        fake = telegram.fake
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "GBVBOT_SECRET_KEY": SECRET,
               "GBVBOT_VAR_DIR": str(tmp), "GBVBOT_PORT": str(port), "GBVBOT_RASA_PORT": str(free_port()),
               "GBVBOT_ACTIONS_PORT": str(free_port()), "TELEGRAM_BOT_TOKEN": tg.TOKEN,
               "TELEGRAM_API_BASE_URL": fake.base_url, "GBVBOT_LOG_LEVEL": "WARNING",
               "GBVBOT_CASES_PER_5_MINUTES": "1000", "PYTHONPATH": str(ROOT)}
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "GBVBOT_SECRET_KEY", "GBVBOT_VAR_DIR")})
        prepare(subscribers)
        latencies: list[float] = []
        kill_at = int(subscribers * 0.4)

        def run_until(done, process) -> None:
            next_alert = time.monotonic()
            while not done():
                if time.monotonic() >= next_alert:
                    start_index, sent = len(fake.sent), time.monotonic()
                    case_id = emergency(port)
                    deadline = sent + 30
                    seen = start_index
                    while case_id and time.monotonic() < deadline:  # only new messages: the bench must not load the machine
                        fresh = fake.sent[seen:]
                        seen += len(fresh)
                        got = next((m["at"] for m in fresh if m["chat_id"] == OFFICER and case_id in m["text"]), None)
                        if got is not None:
                            latencies.append(got - sent)
                            break
                        time.sleep(0.01)
                    next_alert = sent + 3
                time.sleep(0.05)
                if process.poll() is not None:
                    raise RuntimeError("the gateway exited")

        gateway = start_gateway(env, port)
        started = time.monotonic()
        run_until(lambda: len(fake.sent) - len(latencies) >= kill_at, gateway)  # campaign messages + alerts so far
        gateway.send_signal(signal.SIGKILL)
        gateway.wait()
        killed_after = len(campaign_messages(fake))
        gateway = start_gateway(env, port)
        from bot.services import campaigns

        run_until(lambda: campaigns.get(1).status == "done", gateway)
        elapsed = time.monotonic() - started
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=30)
        stats = campaigns.stats(1)
        messages = campaign_messages(fake)
        overall, chat = fake.overall_breaches, fake.chat_breaches
    shutil.rmtree(tmp, ignore_errors=True)

    per_chat = collections.Counter(m["chat_id"] for m in messages)
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    losses = subscribers - len(per_chat)
    times = sorted(m["at"] for m in messages)
    first_part = [t for t in times[:killed_after]]
    window = first_part[len(first_part) // 10:]  # sustained: after the first seconds of ramp-up
    rate = (len(window) - 1) / (window[-1] - window[0]) if len(window) > 1 else float("nan")
    busiest = max(sum(1 for t in times[i:i + 40] if t - times[i] < 1.0) for i in range(0, len(times), 25))
    from bot.channels.telegram import PER_SECOND

    print(f"campaign: {subscribers} Telegram subscribers through the real gateway; fake Bot API limits 30 msg/s overall, "
          f"1 msg/s per chat; configured {PER_SECOND}/s")
    print(f"sustained rate (before the kill, after ramp-up): {rate:.1f} msg/s = {rate / PER_SECOND:.3f} of the "
          f"configured limit ({rate / 30:.3f} of Telegram's 30/s); busiest second: {busiest} messages")
    print(f"limits exceeded (429s the fake had to answer): overall {overall}, per chat {chat}")
    print(f"urgent alerts during the broadcast: {len(latencies)}, latency p50 {percentile(latencies, 50) * 1000:.0f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies, default=float('nan')) * 1000:.0f} ms "
          f"(target p99 <= 1000 ms)")
    print(f"gateway killed (SIGKILL) after {killed_after} campaign messages, restarted, resumed: duplicates {duplicates}, "
          f"subscribers without the message {losses} (of which rows in flight at the kill, counted unknown: "
          f"{stats['unknown']}); counters {json.dumps({k: v for k, v in stats.items() if v}, ensure_ascii=False)}; "
          f"total {elapsed:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    main(parser.parse_args().subscribers)
