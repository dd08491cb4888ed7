"""A resident on Telegram, through the real python-telegram-bot client and the real gateway,
against a local Bot API server (tests/fakes/telegram.py) and a fake Rasa."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.channels.telegram import TelegramChannel
from bot.messages import Button
from bot.storage import subscriptions
from bot.storage.crypto import Sealer, pseudonym
from tests.channels.conftest import (
    FakeRasa,
    channel,
    database_dump,
    gateway,
    table_rows,
    telegram_settings,
    until,
)

CHAT = 5550001
OTHER = 5550002
WEBHOOK = {"telegram_webhook_url": "https://tro-ly.example.vn/webhooks/telegram", "telegram_webhook_secret": "s3cret_Token-123"}


def keyboard(sent: dict) -> list[tuple[str, str]]:
    markup = sent["reply_markup"] or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]


async def test_a_message_gets_rasas_answer_with_an_inline_keyboard(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "xin chào")
        [answer] = await telegram_api.wait_sent(1)
    assert answer["chat_id"] == CHAT
    assert answer["text"] == "Chào bạn, mình có thể giúp gì?"
    assert keyboard(answer) == [("Quyền của tôi", "/ask_rights"), ("Tìm nơi an toàn", "/find_shelter")]
    assert rasa.received[0]["message"] == "xin chào"
    assert rasa.received[0]["sender"] == pseudonym("telegram", str(CHAT))
    assert str(CHAT) not in rasa.received[0]["sender"]


async def test_an_emergency_gets_113_first_even_when_rasa_misses_it(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "cuu em voi ck dang cam dao doi giet em")
        sent = await telegram_api.wait_sent(2)
    assert sent[0]["text"].startswith("Hãy gọi ngay 113")


async def test_pressing_a_button_answers_the_query_removes_the_keyboard_and_sends_the_payload(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "xin chào")
        [menu] = await telegram_api.wait_sent(1)
        await telegram_api.press(CHAT, menu["message_id"], "/find_shelter")
        sent = await telegram_api.wait_sent(3)
    assert telegram_api.answered and telegram_api.edited == [(CHAT, menu["message_id"], None)]
    assert rasa.messages() == ["xin chào", "/find_shelter"]
    assert [b for _t, b in keyboard(sent[1])] == ['/inform_place{"place":"Phường Hương Trà"}', '/inform_place{"place":"Xã Bình Điền"}']
    # Rasa asked where the resident is: a keyboard button shares the phone's location.
    assert sent[2]["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_a_shared_location_reaches_rasa_as_coordinates(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.location(CHAT, 16.52, 107.48)
        await telegram_api.wait_sent(1)
    assert rasa.messages() == ['/share_location{"lat": 16.52, "lon": 107.48}']


async def test_a_payload_longer_than_64_bytes_travels_through_a_short_id(sqlite_db, telegram_api):
    long_payload = '/inform_place{"place":"' + "Thôn Hạ Lang, xã Bình Điền, thành phố Huế" + '"}'
    assert len(long_payload.encode()) > 64

    def answer(message):
        return [{"text": "Chọn nơi:", "buttons": [{"title": "Hạ Lang", "payload": long_payload}]}]

    rasa = await FakeRasa(answer).start()
    try:
        async with gateway(rasa.port, **telegram_settings(telegram_api)):
            await telegram_api.text(CHAT, "tìm nơi tạm lánh")
            [menu] = await telegram_api.wait_sent(1)
            [(_title, data)] = keyboard(menu)
            assert len(data.encode()) <= 64 and data != long_payload
            await telegram_api.press(CHAT, menu["message_id"], data)
            await until(lambda: len(rasa.received) == 2)
    finally:
        await rasa.close()
    assert rasa.messages()[1] == long_payload


@pytest.mark.redis
async def test_a_long_payload_sent_by_one_gateway_is_understood_by_the_other(sqlite_db, telegram_api, shared_gateways):
    long_payload = '/inform_place{"place":"' + "Thôn Hạ Lang, xã Bình Điền, thành phố Huế" + '"}'
    rasa = await FakeRasa(lambda _m: [{"text": "Chọn nơi:", "buttons": [{"title": "Hạ Lang", "payload": long_payload}]}]).start()
    config = telegram_settings(telegram_api, **WEBHOOK)
    try:
        async with gateway(rasa.port, **config) as a, gateway(rasa.port, **config) as b:
            await until(lambda: channel(a, TelegramChannel).ready and channel(b, TelegramChannel).ready)
            await post_update(a, telegram_api.message_update(CHAT, text="tìm nơi tạm lánh"))
            [menu] = await telegram_api.wait_sent(1)
            [(_title, data)] = keyboard(menu)
            await post_update(b, telegram_api.press_update(CHAT, menu["message_id"], data))
            await until(lambda: len(rasa.received) == 2)
    finally:
        await rasa.close()
    assert data.startswith("#") and rasa.messages()[1] == long_payload


async def test_a_forged_or_unknown_button_is_not_passed_to_rasa(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.press(CHAT, 7, "/no_such_intent")
        await telegram_api.press(CHAT, 8, "#unknownshortid")
        sent = await telegram_api.wait_sent(2)
    assert rasa.received == []
    assert all("Nút này đã cũ" in s["text"] for s in sent)


async def test_start_introduces_the_bot_in_vietnamese_then_shows_the_menu(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.command(CHAT, "/start")
        intro, menu = await telegram_api.wait_sent(2)
    assert "ẩn danh" in intro["text"] and '"thoát"' in intro["text"] and "/xoa" in intro["text"]
    assert "/thoat" in intro["text"] and "113" in intro["text"]
    assert rasa.messages() == ["/greet"] and keyboard(menu)


async def test_dangky_records_a_sealed_subscription_a_chosen_unit_and_huy_ends_it(sqlite_db, rasa, telegram_api):
    sender = pseudonym("telegram", str(CHAT))
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.command(CHAT, "/dangky")
        _thanks, offer = await telegram_api.wait_sent(2)
        assert subscriptions.is_subscribed(sender)
        [row] = table_rows("subscriptions")
        assert row.sender == sender and row.channel == "telegram"
        assert Sealer("subscription").open(row.chat) == str(CHAT).encode()
        assert str(CHAT).encode() not in bytes(row.chat)
        assert subscriptions.chat_of(sender) == ("telegram", str(CHAT))
        [kim_tra] = [data for title, data in keyboard(offer) if title == "Phường Kim Trà"]
        await telegram_api.press(CHAT, offer["message_id"], kim_tra)
        await telegram_api.wait_sent(3)
        assert table_rows("subscriptions")[0].unit == "Phường Kim Trà"
        await telegram_api.command(CHAT, "/huy")
        await telegram_api.wait_sent(4)
    assert not subscriptions.is_subscribed(sender)
    assert rasa.messages() == ["/subscribe", "/unsubscribe"]


async def test_xoa_erases_the_conversation_and_the_subscription_and_confirms(sqlite_db, rasa, telegram_api):
    from bot.storage import conversations

    sender = pseudonym("telegram", str(CHAT))
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        conversations.store(sender, b"state")  # what Rasa's tracker store would have written
        await telegram_api.command(CHAT, "/dangky")
        await telegram_api.wait_sent(2)
        await telegram_api.command(CHAT, "/xoa")
        sent = await telegram_api.wait_sent(3)
    assert conversations.load(sender) is None and not subscriptions.is_subscribed(sender)
    assert sent[-1]["text"].startswith("Đã xóa dữ liệu")


async def test_thoat_deletes_the_recent_messages_of_both_sides_and_forgets(sqlite_db, rasa, telegram_api):
    from bot.storage import conversations

    sender = pseudonym("telegram", str(CHAT))
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        first = await telegram_api.text(CHAT, "chồng tôi đánh tôi")
        sent = await telegram_api.wait_sent(1)
        conversations.store(sender, b"state")
        other = await telegram_api.text(OTHER, "xin chào")
        await telegram_api.wait_sent(1, chat_id=OTHER)
        command = await telegram_api.command(CHAT, "/thoat")
        expected = {first["message"]["message_id"], command["message"]["message_id"]} | {m["message_id"] for m in sent}
        await telegram_api.wait_until(lambda: {m for c, m in telegram_api.deleted if c == CHAT} >= expected)
    assert {m for c, m in telegram_api.deleted if c == CHAT} == expected
    assert other["message"]["message_id"] not in {m for c, m in telegram_api.deleted if c == OTHER}
    assert conversations.load(sender) is None
    assert len(telegram_api.sent) == 2  # /thoat itself answers nothing


async def test_thoat_deletes_messages_sent_before_a_restart_and_says_what_it_could_not(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        first = await telegram_api.text(CHAT, "xin chào")
        [answer] = await telegram_api.wait_sent(1)
    async with gateway(rasa.port, **telegram_settings(telegram_api)):  # the gateway restarted
        telegram_api.fail("deleteMessage", "400", chat_id=CHAT)  # e.g. older than 48 hours
        await telegram_api.command(CHAT, "/thoat")
        [_answer, notice] = await telegram_api.wait_sent(2)
    tried = {p["message_id"] for m, p in telegram_api.calls if m == "deleteMessage"}
    assert {first["message"]["message_id"], answer["message_id"]} <= tried
    assert len({m for c, m in telegram_api.deleted if c == CHAT}) == len(tried) - 1
    assert notice["text"].startswith("Đã dừng. 1 tin nhắn không xóa được")
    assert notice.get("disable_notification") in (True, "true", "True")
    assert len(table_rows("recent_messages")) == 1  # only the notice, for a later /thoat


async def test_the_safe_word_also_deletes_the_recent_messages(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "xin chào")
        [menu] = await telegram_api.wait_sent(1)
        await telegram_api.text(CHAT, "thoát")
        sent = await telegram_api.wait_sent(2)
    assert sent[1]["text"] == "Đã dừng."
    assert (CHAT, menu["message_id"]) in telegram_api.deleted


async def test_group_chats_are_ignored_and_leave_no_trace(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(-100123, "xin chào cả nhóm", chat_type="supergroup")
        await telegram_api.text(-100123, "/start", chat_type="group")
        await telegram_api.text(CHAT, "xin chào")  # processed after the group updates
        await telegram_api.wait_sent(1)
    assert [s["chat_id"] for s in telegram_api.sent] == [CHAT]
    assert rasa.messages() == ["xin chào"]
    assert len(table_rows("processed_events")) == 1


async def test_stickers_get_a_short_hint_and_nothing_reaches_rasa(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.sticker(CHAT)
        [hint] = await telegram_api.wait_sent(1)
    assert "chữ và vị trí" in hint["text"] and rasa.received == []


async def test_a_very_long_answer_is_split_and_the_keyboard_stays_on_the_last_piece(sqlite_db, telegram_api):
    long_text = ("Đoạn văn dài về quyền của bạn. " * 40 + "\n\n") * 5

    def answer(message):
        return [{"text": long_text, "buttons": [{"title": "Menu", "payload": "/menu"}]}]

    rasa = await FakeRasa(answer).start()
    try:
        async with gateway(rasa.port, **telegram_settings(telegram_api)):
            await telegram_api.text(CHAT, "quyền")
            sent = await telegram_api.wait_sent(2, timeout=15)
    finally:
        await rasa.close()
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert keyboard(sent[-1]) == [("Menu", "/menu")] and sent[0]["reply_markup"] is None


# ---------------------------------------------------------------------- webhook mode


async def test_webhook_mode_registers_the_url_with_the_secret_token(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api, **WEBHOOK)):
        await telegram_api.wait_until(lambda: telegram_api.webhook["url"])
    assert telegram_api.webhook["url"] == WEBHOOK["telegram_webhook_url"]
    assert telegram_api.webhook["secret_token"] == WEBHOOK["telegram_webhook_secret"]
    assert set(telegram_api.webhook["allowed_updates"]) == {"message", "callback_query"}
    assert "getUpdates" not in telegram_api.methods()


async def post_update(client, update: dict, secret: str | None = WEBHOOK["telegram_webhook_secret"], raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await client.post("/webhooks/telegram", data=raw if raw is not None else json.dumps(update), headers=headers)


async def test_a_webhook_update_with_the_right_secret_is_answered(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api, **WEBHOOK)) as client:
        await until(lambda: channel(client, TelegramChannel).ready)
        response = await post_update(client, telegram_api.message_update(CHAT, text="xin chào"))
        assert response.status == 200
        [answer] = await telegram_api.wait_sent(1)
    assert keyboard(answer)


@pytest.mark.parametrize("secret", [None, "", "wrong", "s3cret_Token-12", "s3cret_Token-1234", "S3CRET_TOKEN-123"])
async def test_a_webhook_request_with_a_wrong_secret_is_refused_before_anything_happens(sqlite_db, rasa, telegram_api, secret):
    async with gateway(rasa.port, **telegram_settings(telegram_api, **WEBHOOK)) as client:
        telegram_channel = channel(client, TelegramChannel)
        await until(lambda: telegram_channel.ready)
        response = await post_update(client, telegram_api.message_update(CHAT, text="xin chào"), secret=secret)
        assert response.status == 403
        assert telegram_channel.rejected == 1
        # the same chat's next, genuine update is answered: had the refused one been taken,
        # it would have been answered first (one chat's turns run in arrival order)
        assert (await post_update(client, telegram_api.message_update(CHAT, text="xin chào"))).status == 200
        await telegram_api.wait_sent(1)
    assert rasa.messages() == ["xin chào"] and len(telegram_api.sent) == 1
    assert len(table_rows("processed_events")) == 1


async def test_a_webhook_request_with_a_wrong_secret_is_refused_even_with_a_malformed_body(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api, **WEBHOOK)) as client:
        response = await post_update(client, {}, secret="nope", raw=b"\xff not json")
        assert response.status == 403
        good_secret_bad_body = await post_update(client, {}, raw=b"\xff not json")
    assert good_secret_bad_body.status in (400, 503)


async def test_a_replayed_update_is_processed_once(sqlite_db, rasa, telegram_api):
    async with gateway(rasa.port, **telegram_settings(telegram_api, **WEBHOOK)) as client:
        await until(lambda: channel(client, TelegramChannel).ready)
        update = telegram_api.message_update(CHAT, text="cứu tôi với, nó đang đánh tôi")
        for _ in range(3):
            assert (await post_update(client, update)).status == 200
        await telegram_api.wait_sent(1)
        # a later message of the same chat is answered after any replay would have been
        assert (await post_update(client, telegram_api.message_update(CHAT, text="/dangky"))).status == 200
        await until(lambda: "/subscribe" in rasa.messages())
    assert rasa.messages() == ["cứu tôi với, nó đang đánh tôi", "/subscribe"]
    assert len(table_rows("processed_events")) == 2


# ---------------------------------------------------------------------- sending under pressure


async def test_a_429_for_one_chat_delays_only_that_chat(sqlite_db, rasa, telegram_api):
    """Another chat's answer, queued after the 429, goes out while the limited chat's answer
    waits out its retry_after. (When it is retried, and that it is delivered then, is
    tests/outbound/test_queue.py's business, in virtual time; the wall-clock figures are
    in `make bench`.)"""
    telegram_api.fail("sendMessage", "429", retry_after=30, chat_id=CHAT)
    async with gateway(rasa.port, **telegram_settings(telegram_api)) as client:
        await telegram_api.text(CHAT, "xin chào")
        await until(lambda: not telegram_api.faults["sendMessage"])  # CHAT's answer was refused: retry after 30 s
        await telegram_api.text(OTHER, "xin chào")
        await telegram_api.wait_sent(1, chat_id=OTHER)
        assert [s["chat_id"] for s in telegram_api.sent] == [OTHER]
        assert channel(client, TelegramChannel).outbox.cancel(CHAT) == 1  # CHAT's answer still waits its turn
    assert telegram_api.methods().count("sendMessage") == 2  # CHAT's refused try, OTHER's answer


async def test_dropped_connections_and_slow_answers_are_retried(sqlite_db, rasa, telegram_api):
    telegram_api.fail("sendMessage", "drop", chat_id=CHAT)
    telegram_api.fail("sendMessage", "500", chat_id=CHAT)
    telegram_api.fail("sendMessage", "slow", delay=0.5, chat_id=CHAT)
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "xin chào")
        [answer] = await telegram_api.wait_sent(1, timeout=15)
    assert answer["text"] == "Chào bạn, mình có thể giúp gì?"
    assert telegram_api.methods().count("sendMessage") == 3


async def test_telegram_answers_become_retry_later_temporary_failure_or_a_permanent_error(telegram_api):
    from telegram import Bot
    from telegram.error import Forbidden
    from telegram.request import HTTPXRequest

    from bot.channels.telegram import Outgoing, deliver
    from bot.outbound import RetryLater, TemporaryFailure

    bot = Bot(telegram_api.token, base_url=telegram_api.base_url, request=HTTPXRequest(read_timeout=0.3))
    telegram_api.fail("sendMessage", "429", retry_after=7)
    telegram_api.fail("sendMessage", "slow", delay=1.0)
    telegram_api.fail("sendMessage", "drop")
    telegram_api.fail("sendMessage", "403")
    async with bot:
        with pytest.raises(RetryLater) as limited:
            await deliver(bot, CHAT, Outgoing("a"))
        with pytest.raises(TemporaryFailure, match="TimedOut"):
            await deliver(bot, CHAT, Outgoing("b"))
        with pytest.raises(TemporaryFailure):
            await deliver(bot, CHAT, Outgoing("c"))
        with pytest.raises(Forbidden):
            await deliver(bot, CHAT, Outgoing("d"))
        sent = await deliver(bot, CHAT, Outgoing("e"))
    assert (limited.value.seconds, limited.value.scope) == (7.0, "chat")
    assert sent.text == "e"


async def test_a_resident_who_blocked_the_bot_does_not_stop_the_others(sqlite_db, rasa, telegram_api):
    telegram_api.fail("sendMessage", "403", chat_id=CHAT)
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        await telegram_api.text(CHAT, "xin chào")
        await telegram_api.text(OTHER, "xin chào")
        await telegram_api.wait_sent(1, chat_id=OTHER)
        await until(lambda: not telegram_api.faults["sendMessage"])  # CHAT's answer was refused (403)
        # CHAT's next answer goes through the same line: had the refused one been kept for
        # another try, it would go out first
        await telegram_api.text(CHAT, "xin chào")
        await telegram_api.wait_sent(1, chat_id=CHAT)
    assert [(s["chat_id"], s["text"]) for s in telegram_api.sent] == [
        (OTHER, "Chào bạn, mình có thể giúp gì?"), (CHAT, "Chào bạn, mình có thể giúp gì?")]
    assert telegram_api.methods().count("sendMessage") == 3


async def test_an_escalation_alert_overtakes_a_broadcast_and_can_be_edited(sqlite_db, rasa, telegram_api):
    from bot.channels.telegram import Outgoing
    from bot.outbound import Priority

    async with gateway(rasa.port, **telegram_settings(telegram_api)) as client:
        telegram_channel = channel(client, TelegramChannel)
        for number in range(40):
            telegram_channel.outbox.put(8_000_000 + number, Outgoing(f"Tin chiến dịch {number}"), Priority.BROADCAST)
        await telegram_api.wait_sent(2)
        ref = await telegram_channel.send_alert("9001", "Ca C1: nguy hiểm đến tính mạng", (Button("Nhận xử lý", "ack:C1"),))
        order = [s["chat_id"] for s in telegram_api.sent]
        await telegram_channel.edit_alert(ref, "Ca C1 đã được nhận xử lý.")
        assert await telegram_channel.send_to_resident(str(CHAT), "Cán bộ trực: Chị ở đâu?")
        telegram_api.fail("sendMessage", "403", chat_id=9002)
        assert await telegram_channel.send_alert("9002", "Ca C2", ()) is None
    alert = next(s for s in telegram_api.sent if s["chat_id"] == 9001)
    assert ref == f"9001:{alert['message_id']}" and keyboard(alert) == [("Nhận xử lý", "ack:C1")]
    assert order.index(9001) <= 4  # not behind the 40 broadcasts
    assert (9001, alert["message_id"], "Ca C1 đã được nhận xử lý.") in telegram_api.edited
    to_resident = next(s for s in telegram_api.sent if s["chat_id"] == CHAT and s["text"] == "Cán bộ trực: Chị ở đâu?")
    assert to_resident.get("disable_notification") in (True, "true", "True")  # no sound on the resident's phone
    assert alert.get("disable_notification") in (None, False, "false", "False")  # officers' alerts ring


async def test_an_unreachable_bot_api_does_not_stop_the_web_chat(sqlite_db, rasa):
    from tests.e2e.conftest import free_port

    settings = {"telegram_bot_token": "123:" + "x" * 30, "telegram_api_base_url": f"http://127.0.0.1:{free_port()}/bot"}
    async with gateway(rasa.port, **settings) as client:
        response = await client.post("/api/chat", json={"session_id": "abc", "text": "xin chào"})
        assert response.status == 200
        assert not channel(client, TelegramChannel).ready


async def test_a_rejected_token_turns_the_channel_off_with_a_clear_log(sqlite_db, rasa, telegram_api, caplog):
    async with gateway(rasa.port, **telegram_settings(telegram_api, telegram_bot_token="999:" + "y" * 30)) as client:
        await until(lambda: "TELEGRAM_BOT_TOKEN was rejected" in caplog.text)
        assert not channel(client, TelegramChannel).ready


# ---------------------------------------------------------------------- privacy


async def test_after_a_telegram_conversation_the_database_and_logs_hold_no_ids_names_or_text(db_url, rasa, telegram_api, app_logs):
    from bot.storage import conversations

    chat = 7100200300
    marker = "Hoàng Thị Lan số 0912345678 bị chồng đánh"
    async with gateway(rasa.port, **telegram_settings(telegram_api)):
        conversations.store(pseudonym("telegram", str(chat)), marker.encode())  # sealed, as the tracker store does
        await telegram_api.command(chat, "/dangky")
        await telegram_api.text(chat, marker)
        await telegram_api.location(chat, 16.5123, 107.4876)
        await telegram_api.wait_sent(4)
    dump = database_dump(db_url)
    assert dump
    for secret in (str(chat), marker, "0912345678", "Hoàng Thị Lan", "lan_hue", "16.5123"):
        assert secret.encode() not in dump, secret
    logs = app_logs()
    assert "turn channel=telegram" in logs
    for secret in (str(chat), marker, "0912345678", "lan_hue", telegram_api.token.split(":")[1]):
        assert secret not in logs, secret


async def test_only_the_leading_gateway_polls_telegram(sqlite_db, rasa, telegram_api):
    """Telegram serves getUpdates to one caller per bot: a follower only sends."""
    async with gateway(rasa.port, **telegram_settings(telegram_api)) as client:
        telegram = channel(client, TelegramChannel)
        await until(lambda: "getUpdates" in telegram_api.methods())  # SQLite: the one gateway leads
        await telegram.lead(False)
        assert not telegram.app.updater.running
        polls = telegram_api.methods().count("getUpdates")
        await telegram_api.text(CHAT, "xin chào")
        await asyncio.sleep(0.5)
        assert telegram_api.methods().count("getUpdates") == polls and not telegram_api.sent
        await telegram.lead(True)
        [answer] = await telegram_api.wait_sent(1)
    assert answer["chat_id"] == CHAT
