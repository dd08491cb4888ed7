"""An urgent message reaches the on-duty officer on (fake) Telegram, climbs the ladder when
nobody answers — also across a gateway restart, exactly once — stops when acknowledged,
and the officer talks to the resident through the bot. Rasa down: still escalated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import ADMIN_TOKEN, SECRET, start_stack, stop_stack
from tests.e2e.test_supervisor import child_pid, wait_for
from tests.fakes import InThread
from tests.fakes import telegram as tg

pytestmark = pytest.mark.e2e

OFFICER, BACKUP, COORDINATOR = 710001, 710002, 710003
RESIDENT = 620001
T = 4  # seconds an alert waits for acknowledgement in these tests


def gbvbot(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack-escalation")
    database = f"sqlite:///{tmp / 'escalation.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database, "GBVBOT_SECRET_KEY": SECRET, "GBVBOT_VAR_DIR": str(tmp)}
    gbvbot(env, "officers", "add", "--name", "Cán bộ A", "--agency", "police", "--units", "Tứ Hạ", "--telegram-id", str(OFFICER))
    gbvbot(env, "officers", "add", "--name", "Cán bộ B", "--agency", "womens_union", "--role", "backup", "--telegram-id", str(BACKUP))
    gbvbot(env, "officers", "add", "--name", "Điều phối", "--agency", "coordination", "--role", "coordinator", "--telegram-id", str(COORDINATOR))
    shifts = tmp / "shifts.csv"
    shifts.write_text("officer_id,weekday,start,end\n" + "".join(
        f"{officer},{day},00:00,24:00\n" for officer in (1, 2) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))
    gbvbot(env, "roster", "import", str(shifts))
    assert [line.split("\t")[-1] for line in gbvbot(env, "roster", "show").splitlines()] == ["Cán bộ A", "Cán bộ B", "Điều phối"]
    with InThread(tg.FakeTelegram()) as telegram:
        stack = start_stack(tmp, database, {
            "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_BASE_URL": telegram.fake.base_url,
            "GBVBOT_ACK_TIMEOUT_SECONDS": str(T),
        })
        try:
            yield stack, telegram
        finally:
            leftovers = stop_stack(stack)
        assert not leftovers


def alerts(telegram: InThread, chat: int, case_id: str) -> list[dict]:
    return [m for m in telegram.fake.sent if m["chat_id"] == chat and case_id in m["text"]]


def test_ladder_restart_acknowledgement_and_relay(world):
    stack, telegram = world
    session = "s" + uuid.uuid4().hex
    status, body = stack.chat(session, text="cứu em với, chồng em đang cầm dao đòi giết em, em ở Tứ Hạ")
    assert status == 200 and body["escalation"]["status"] == "alerting"
    case_id = body["escalation"]["case_id"]
    texts = [m["text"] for m in body["messages"]]
    assert "113" in texts[0] and any("cảnh báo đến cán bộ trực" in t for t in texts)

    # rung 1: the on-duty officer for Phường Hương Trà, without any resident identity
    assert wait_for(lambda: alerts(telegram, OFFICER, case_id), 15)
    alert = alerts(telegram, OFFICER, case_id)[0]
    assert "Phường Hương Trà" in alert["text"] and "dao" not in alert["text"] and session not in alert["text"]
    buttons = [b["callback_data"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"ack:{case_id}", f"pass:{case_id}"]

    # the gateway dies before anyone answers; the persisted timer still fires, exactly once
    os.kill(child_pid(stack, "bot.cli gateway"), signal.SIGKILL)
    assert wait_for(lambda: alerts(telegram, BACKUP, case_id), 60), "the backup was not alerted after the restart"
    backup_alert = alerts(telegram, BACKUP, case_id)[0]
    time.sleep(1.5)
    assert len(alerts(telegram, BACKUP, case_id)) == 1

    # the backup takes the case: the ladder stops, the first officer's alert says it was taken
    telegram.call(telegram.fake.press(BACKUP, backup_alert["message_id"], f"ack:{case_id}"))
    assert wait_for(lambda: any(chat == OFFICER for chat, _, _ in telegram.fake.edited), 15)
    time.sleep(T + 2)
    assert alerts(telegram, COORDINATOR, case_id) == []

    # the officer replies in the alert thread; the web resident sees it on the next turn
    reply_to = {"message_id": backup_alert["message_id"], "date": int(time.time()),
                "chat": {"id": BACKUP, "type": "private"}, "text": backup_alert["text"]}
    telegram.call(telegram.fake.push(telegram.fake.message_update(BACKUP, text="Chị đang ở đâu ạ?", reply_to_message=reply_to)))
    assert wait_for(lambda: any("Đã chuyển tin nhắn" in m["text"] for m in telegram.fake.sent if m["chat_id"] == BACKUP), 15)
    status, body = stack.post("/api/updates", {"session_id": session})  # what the page polls
    texts = [m["text"] for m in body["messages"]]
    assert status == 200 and "Đã có người nhận thông tin của bạn" in texts[0]
    assert texts[1:] == ["Bạn có một tin nhắn mới.\n\nCán bộ trực: Chị đang ở đâu ạ?"]
    assert body["escalation"] == {"case_id": case_id, "status": "acknowledged"}
    assert stack.post("/api/updates", {"session_id": session})[1]["messages"] == []
    status, body = stack.chat(session, text="em đang trốn ở nhà hàng xóm")
    assert body["escalation"] == {"case_id": case_id, "status": "acknowledged"}
    assert wait_for(lambda: any("em đang trốn" in m["text"] for m in telegram.fake.sent if m["chat_id"] == BACKUP), 15)

    status, timeline = stack.get(f"/api/cases/{case_id}", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status == 200
    for kind in ("opened", "alert_sent", "escalated", "acknowledged", "relay_out", "relay_in"):
        assert f'"kind": "{kind}"' in timeline
    assert session not in timeline and "dao" not in timeline

    # the officer closes the case from Telegram
    telegram.call(telegram.fake.text(BACKUP, f"/dong {case_id} referred_police đã báo công an xã"))
    assert wait_for(lambda: any(m["text"] == "Đã đóng ca." for m in telegram.fake.sent if m["chat_id"] == BACKUP), 15)


def test_only_registered_officers_can_take_a_case(world):
    stack, telegram = world
    status, body = stack.chat("s" + uuid.uuid4().hex, text="no dang bop co toi")
    case_id = body["escalation"]["case_id"]
    assert wait_for(lambda: alerts(telegram, OFFICER, case_id), 15)
    stranger, answered = 999001, len(telegram.fake.answered)
    telegram.call(telegram.fake.press(stranger, 1, f"ack:{case_id}"))
    assert wait_for(lambda: len(telegram.fake.answered) > answered, 10)
    status, timeline = stack.get(f"/api/cases/{case_id}", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert '"status": "alerting"' in timeline


def test_the_same_emergency_twice_is_one_case_and_rasa_down_still_escalates(world):
    stack, telegram = world
    os.kill(child_pid(stack, "-m rasa run"), signal.SIGKILL)
    assert wait_for(lambda: '"rasa": "down"' in stack.get("/healthz")[1], 10)
    session = "s" + uuid.uuid4().hex
    _, first = stack.chat(session, text="cuu toi voi, ck dang danh toi chay mau")
    _, second = stack.chat(session, text="cuu toi voi, ck dang danh toi chay mau")
    assert first["messages"][0]["text"].startswith("Hãy gọi ngay 113")
    assert first["escalation"]["case_id"] == second["escalation"]["case_id"]
    case_id = first["escalation"]["case_id"]
    assert wait_for(lambda: alerts(telegram, OFFICER, case_id), 15)
    time.sleep(1)
    assert len(alerts(telegram, OFFICER, case_id)) == 1


def test_a_telegram_resident_gets_the_officer_reply_in_their_chat(world):
    stack, telegram = world
    assert wait_for(lambda: '"rasa": "up"' in stack.get("/healthz")[1], 90)
    def officer_alerts():
        return [m for m in telegram.fake.sent if m["chat_id"] == OFFICER and "CA KHẨN CẤP" in m["text"]]

    before = len(officer_alerts())
    telegram.call(telegram.fake.text(RESIDENT, "cứu tôi với, nó đang đánh tôi"))
    assert wait_for(lambda: len(officer_alerts()) > before, 30)
    alert = officer_alerts()[-1]
    case_id = alert["text"].split("CA KHẨN CẤP ")[1][:8]
    telegram.call(telegram.fake.press(OFFICER, alert["message_id"], f"ack:{case_id}"))
    assert wait_for(lambda: any("Đã có người nhận thông tin của bạn" in m["text"] for m in telegram.fake.sent if m["chat_id"] == RESIDENT), 15)
    reply_to = {"message_id": alert["message_id"], "date": int(time.time()),
                "chat": {"id": OFFICER, "type": "private"}, "text": alert["text"]}
    telegram.call(telegram.fake.push(telegram.fake.message_update(OFFICER, text="Tôi là cán bộ phường, chị an toàn chưa?", reply_to_message=reply_to)))
    assert wait_for(lambda: any(m["text"] == "Bạn có một tin nhắn mới.\n\nCán bộ trực: Tôi là cán bộ phường, chị an toàn chưa?"
                                for m in telegram.fake.sent if m["chat_id"] == RESIDENT), 15)
