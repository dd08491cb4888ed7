"""Urgent message → alert received by the (fake) Telegram Bot API: p50/p99 over 200 messages.

The whole stack runs (`gbvbot run`) with the Telegram channel pointed at a local fake.
Three on-duty officers each cover one phường/xã; residents' messages name the place in
turn, so each officer's chat receives at most one alert per 1.2 s (Telegram allows about
one message per second in a private chat). Plain script: prints figures, asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from tests.e2e.conftest import SECRET, start_stack, stop_stack
from tests.fakes import InThread
from tests.fakes import telegram as tg

ROOT = Path(__file__).resolve().parent.parent
UNITS = [("Tứ Hạ", 810001), ("Hương Chữ", 810002), ("Bình Thành", 810003)]
MESSAGES = 200
SPACING = 0.4  # seconds between residents' messages


def gbvbot(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-esc-"))
    database = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database, "GBVBOT_SECRET_KEY": SECRET, "GBVBOT_VAR_DIR": str(tmp)}
    for number, (unit, chat) in enumerate(UNITS, 1):
        gbvbot(env, "officers", "add", "--name", f"Cán bộ {number}", "--agency", "police", "--units", unit, "--telegram-id", str(chat))
    shifts = tmp / "shifts.csv"
    shifts.write_text("officer_id,weekday,start,end\n" + "".join(
        f"{n},{d},00:00,24:00\n" for n in range(1, len(UNITS) + 1) for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))
    gbvbot(env, "roster", "import", str(shifts))
    with InThread(tg.FakeTelegram()) as telegram:
        stack = start_stack(tmp, database, {
            "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_BASE_URL": telegram.fake.base_url,
            "GBVBOT_RATE_PER_MINUTE": "100000",
        })
        try:
            time.sleep(2)  # let polling start
            sent_at: dict[str, float] = {}
            for i in range(MESSAGES):
                unit, _chat = UNITS[i % len(UNITS)]
                body = json.dumps({"session_id": uuid.uuid4().hex, "text": f"cứu tôi với, chồng tôi đang cầm dao, tôi ở {unit}"})
                request = urllib.request.Request(stack.url + "/api/chat", data=body.encode(),
                                                 headers={"Content-Type": "application/json"})
                started = time.monotonic()
                with urllib.request.urlopen(request, timeout=30) as response:
                    case_id = json.loads(response.read())["escalation"]["case_id"]
                sent_at[case_id] = started
                time.sleep(max(0.0, SPACING - (time.monotonic() - started)))
            deadline = time.time() + 60
            received: dict[str, float] = {}
            while time.time() < deadline and len(received) < len(sent_at):
                for message in list(telegram.fake.sent):
                    for case_id in sent_at:
                        if case_id not in received and case_id in message["text"]:
                            received[case_id] = message["at"]
                time.sleep(0.2)
        finally:
            stop_stack(stack)
    shutil.rmtree(tmp, ignore_errors=True)
    latencies = sorted((received[c] - sent_at[c]) * 1000 for c in received)
    if not latencies:
        print("no alert arrived")
        return
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"urgent message → alert at the fake Telegram API: {len(latencies)}/{len(sent_at)} delivered")
    print(f"  p50 {statistics.median(latencies):.0f} ms   p99 {p99:.0f} ms   max {latencies[-1]:.0f} ms   (target p99 ≤ 1000 ms)")


if __name__ == "__main__":
    main()
