"""A flood of fake emergencies, then a real one: does the real alert still get through?

The whole stack runs (`gbvbot run`) behind a "proxy" on loopback (GBVBOT_TRUSTED_PROXIES),
with the Telegram channel pointed at a local fake and one officer on duty. 500 requests
press "Tôi đang gặp nguy hiểm" (`/urgent_danger`), each from a new session, from 50 client
addresses (X-Forwarded-For), within one minute. Then a resident writes a real emergency.
Prints how long until the officer's (fake) Telegram received that case's alert (target
≤ 5 s), and what the flood cost the officer. Plain script: prints figures, asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.e2e.conftest import SECRET, start_stack, stop_stack
from tests.fakes import InThread
from tests.fakes import telegram as tg

ROOT = Path(__file__).resolve().parent.parent
OFFICER = 820001
FAKES, ADDRESSES, SECONDS = 500, 50, 60.0


def gbvbot(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def post(url: str, body: dict, address: str) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/chat", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", "X-Forwarded-For": address})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gbvbot-bench-flood-"))
    database = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database, "GBVBOT_SECRET_KEY": SECRET, "GBVBOT_VAR_DIR": str(tmp)}
    gbvbot(env, "officers", "add", "--name", "Trực ban", "--agency", "police", "--role", "duty_desk",
           "--units", "*", "--telegram-id", str(OFFICER))
    with InThread(tg.FakeTelegram()) as telegram:
        stack = start_stack(tmp, database, {
            "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_BASE_URL": telegram.fake.base_url,
            "GBVBOT_TRUSTED_PROXIES": "127.0.0.1", "GBVBOT_RATE_PER_MINUTE": "100000",
        })
        try:
            time.sleep(2)  # let polling start
            statuses: dict[int, int] = {}
            started = time.monotonic()
            for n in range(FAKES):
                address = f"198.51.100.{n % ADDRESSES + 1}"
                status, _ = post(stack.url, {"session_id": uuid.uuid4().hex, "payload": "/urgent_danger"}, address)
                statuses[status] = statuses.get(status, 0) + 1
                time.sleep(max(0.0, started + (n + 1) * SECONDS / FAKES - time.monotonic()))
            flood_seconds = time.monotonic() - started
            alerts_during_flood = sum(1 for m in telegram.fake.sent if m["chat_id"] == OFFICER)
            sent = time.monotonic()
            status, body = post(stack.url, {"session_id": uuid.uuid4().hex,
                                            "text": "cứu em với, chồng em đang cầm dao đòi giết em"}, "203.0.113.50")
            case_id = (body.get("escalation") or {}).get("case_id")
            received = None
            deadline = time.monotonic() + 60
            while case_id and received is None and time.monotonic() < deadline:
                received = next((m["at"] for m in list(telegram.fake.sent)
                                 if m["chat_id"] == OFFICER and case_id in m["text"]), None)
                time.sleep(0.05)
        finally:
            stop_stack(stack)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"flood: {FAKES} fake emergencies from {ADDRESSES} addresses in {flood_seconds:.0f} s → HTTP {statuses}; "
          f"the officer got {alerts_during_flood} messages meanwhile (individual alerts up to the cap, then one summary)")
    if received is None:
        print(f"real emergency (HTTP {status}): its alert did NOT reach the officer within 60 s")
    else:
        print(f"real emergency → alert at the officer's (fake) Telegram: {(received - sent):.2f} s (target ≤ 5 s)")


if __name__ == "__main__":
    main()
