"""Telegram and Zalo residents talk to the real stack (`gbvbot run`: Rasa, action server,
gateway) whose channels point at local fake Telegram and Zalo APIs."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import start_stack, stop_stack
from tests.fakes import InThread
from tests.fakes import telegram as tg
from tests.fakes import zalo as zl

pytestmark = pytest.mark.e2e

CHAT = 6120034567
ZALO_USER = "2468013579246801357"


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack-channels")
    with InThread(tg.FakeTelegram()) as telegram, InThread(zl.FakeZalo()) as zalo:
        stack = start_stack(tmp, f"sqlite:///{tmp / 'channels.sqlite3'}", {
            "TELEGRAM_BOT_TOKEN": tg.TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.fake.base_url,
            "ZALO_APP_ID": zl.APP_ID,
            "ZALO_APP_SECRET": zl.APP_SECRET,
            "ZALO_OA_SECRET_KEY": zl.OA_SECRET_KEY,
            "ZALO_ACCESS_TOKEN": zl.ACCESS_TOKEN,
            "ZALO_REFRESH_TOKEN": zl.REFRESH_TOKEN,
            "ZALO_API_BASE_URL": zalo.fake.base_url,
            "ZALO_OAUTH_BASE_URL": zalo.fake.base_url,
        })
        try:
            yield stack, telegram, zalo
        finally:
            leftovers = stop_stack(stack)
        assert not leftovers, f"orphaned processes after SIGTERM: {leftovers}"


def telegram_turn(telegram: InThread, chat: int, text: str, expect: int = 1) -> list[dict]:
    before = len([m for m in telegram.fake.sent if m["chat_id"] == chat])
    telegram.call(telegram.fake.text(chat, text))
    return telegram.call(telegram.fake.wait_sent(before + expect, chat_id=chat, timeout=60))[before:]


def test_a_private_telegram_message_gets_rasas_answer_with_an_inline_keyboard(channels):
    _stack, telegram, _zalo = channels
    [answer] = telegram_turn(telegram, CHAT, "xin chào")
    buttons = [b for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert answer["text"] and buttons
    assert all(b["callback_data"].startswith("/") and len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert "/find_shelter" in {b["callback_data"] for b in buttons}
    telegram.call(telegram.fake.press(CHAT, answer["message_id"], "/ask_rights"))
    sent = telegram.call(telegram.fake.wait_sent(2, chat_id=CHAT, timeout=60))
    assert "Điều 9" in sent[1]["text"]


def test_an_emergency_on_telegram_gets_113_first(channels):
    _stack, telegram, _zalo = channels
    sent = telegram_turn(telegram, CHAT + 1, "cuu em voi ck dang cam dao doi giet em")
    assert "113" in sent[0]["text"]


def test_a_zalo_message_gets_rasas_answer_with_numbered_options(channels):
    stack, _telegram, zalo = channels
    body, headers = zl.signed(zl.text_event(ZALO_USER, "xin chào"))
    status, _ = stack.post("/webhooks/zalo", None, headers=headers, raw=body)
    assert status == 200
    [sent] = zalo.call(zalo.fake.wait_messages(1, timeout=60))
    assert sent["recipient"]["user_id"] == ZALO_USER
    assert "1. " in sent["message"]["text"] and "Trả lời bằng số" in sent["message"]["text"]
    forged, _ = stack.post("/webhooks/zalo", None, headers={"X-ZEvent-Signature": "mac=" + "0" * 64}, raw=body)
    assert forged == 401


def test_the_database_and_logs_hold_no_platform_ids_or_message_text(channels):
    stack, telegram, zalo = channels
    marker = "Nguyễn Thị Hoa 0987654321 bị chồng đánh"
    telegram_turn(telegram, CHAT + 2, marker, expect=1)
    body, headers = zl.signed(zl.text_event(ZALO_USER, marker))
    before = len(zalo.fake.messages)
    stack.post("/webhooks/zalo", None, headers=headers, raw=body)
    zalo.call(zalo.fake.wait_messages(before + 1, timeout=60))
    path = stack.database_url.removeprefix("sqlite:///")
    dump = b"".join(open(p, "rb").read() for p in (path, path + "-wal") if __import__("os").path.exists(p))
    log = "".join(stack.output)
    for secret in (str(CHAT), str(CHAT + 2), ZALO_USER, marker, "0987654321", "Nguyễn Thị Hoa", tg.TOKEN.split(":")[1]):
        assert secret.encode() not in dump, secret
        assert secret not in log, secret
    assert "turn channel=telegram" in log and "turn channel=zalo" in log
