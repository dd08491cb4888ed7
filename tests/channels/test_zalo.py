"""A resident on Zalo: signed webhook events POSTed to the real gateway, replies through
the project's Zalo client to a local OA API (tests/fakes/zalo.py), and a fake Rasa."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time

import pytest

from bot.channels import zalo
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.config import settings
from bot.storage import conversations, delivery, subscriptions, tokens
from bot.storage.crypto import pseudonym
from tests.channels.conftest import FakeRasa, channel, database_dump, gateway, table_rows, until, zalo_settings
from tests.conftest import ROOT
from tests.fakes import zalo as zl

USER = "8358675012349292324"
OTHER = "8358675012349292999"
ANONYMOUS_ID = "2468458835296197922"


async def post(client, event: dict, **signing):
    body, headers = zl.signed(event, **signing)
    return await client.post("/webhooks/zalo", data=body, headers=headers)


def options_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:2] in {f"{n}." for n in range(1, 10)}]


def test_the_signature_is_plain_sha256_of_app_id_body_timestamp_and_secret():
    body = b'{"event_name":"user_send_text","timestamp":"1700000000000"}'
    expected = hashlib.sha256(b"123" + body + b"1700000000000" + b"key").hexdigest()
    assert zalo.signature("123", body, "1700000000000", "key") == expected


async def test_a_text_gets_rasas_answer_with_numbered_options(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        event = zl.text_event(USER, "xin chào")
        response = await post(client, event)
        assert response.status == 200
        [sent] = await zalo_api.wait_messages(1)
    assert sent["access_token"] == zl.ACCESS_TOKEN
    # v3: the resident's message is quoted in `message`, `recipient` holds only the user id
    assert sent["recipient"] == {"user_id": USER}
    assert sent["message"]["quote_message_id"] == event["message"]["msg_id"]
    text = sent["message"]["text"]
    assert text.startswith("Chào bạn, mình có thể giúp gì?")
    assert options_in(text) == ["1. Quyền của tôi", "2. Tìm nơi an toàn"]
    assert "Trả lời bằng số" in text
    assert rasa.received[0] == {"sender": pseudonym("zalo", USER), "message": "xin chào", "metadata": {"channel": "zalo"}}


async def test_answering_with_a_number_picks_that_option(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        await zalo_api.wait_messages(1)
        await post(client, zl.text_event(USER, " 2. "))
        await zalo_api.wait_messages(2)
        await post(client, zl.text_event(USER, "7"))  # no option 7: plain text
        await zalo_api.wait_messages(3)
        await post(client, zl.text_event(OTHER, "1"))  # another resident has no options
        await zalo_api.wait_messages(4)
    assert rasa.messages() == ["xin chào", "/find_shelter", "7", "1"]
    assert options_in(zalo_api.messages[1]["message"]["text"]) == ["1. Phường Hương Trà", "2. Xã Bình Điền"]


@pytest.mark.redis
async def test_a_number_sent_through_another_gateway_picks_the_option_the_first_one_offered(sqlite_db, rasa, zalo_api, shared_gateways):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as a, gateway(rasa.port, **zalo_settings(zalo_api)) as b:
        await post(a, zl.text_event(USER, "xin chào"))
        await zalo_api.wait_messages(1)
        await post(b, zl.text_event(USER, "2"))
        await zalo_api.wait_messages(2)
    assert rasa.messages() == ["xin chào", "/find_shelter"]


async def test_an_emergency_gets_113_first(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "cuu em voi ck dang cam dao doi giet em"))
        sent = await zalo_api.wait_messages(2)
    assert sent[0]["message"]["text"].startswith("Hãy gọi ngay 113")


async def test_a_whole_letter_is_read_not_refused(sqlite_db, rasa, zalo_api):
    """A long letter (15,000 characters: "too long" before, at 4,000) reaches Rasa whole."""
    letter = "Chồng em đánh đập, chửi bới, hành hạ mẹ con em suốt nhiều năm, giữ hết tiền lương của em. " * 165
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        response = await post(client, zl.text_event(USER, letter))
        assert response.status == 200
        await zalo_api.wait_messages(1)
    assert len(letter) > 14_000 and rasa.received[0]["message"] == letter.strip()


async def test_a_shared_location_reaches_rasa_as_coordinates(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        assert (await post(client, zl.location_event(USER, 16.52, 107.48))).status == 200
        await zalo_api.wait_messages(1)
    assert rasa.messages() == ['/share_location{"lat": 16.52, "lon": 107.48}']


async def test_the_webhook_answers_at_once_even_when_rasa_is_slow(sqlite_db, zalo_api):
    """The webhook acknowledges an event without waiting for Rasa: here Rasa answers only
    once the webhook's answer has arrived."""
    rasa = await FakeRasa(hold=asyncio.Event()).start()
    try:
        async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
            response = await asyncio.wait_for(post(client, zl.text_event(USER, "xin chào")), timeout=10)
            assert zalo_api.messages == []
            rasa.hold.set()
            [sent] = await zalo_api.wait_messages(1)
    finally:
        await rasa.close()
    assert response.status == 200
    assert rasa.messages() == ["xin chào"] and sent["message"]["text"].startswith("Chào bạn")


def tampered(event: dict) -> tuple[bytes, dict]:
    body, headers = zl.signed(event)
    return body.replace("xin chào".encode(), "chuyển tiền".encode()), headers


def unsigned(event: dict) -> tuple[bytes, dict]:
    body, _headers = zl.signed(event)
    return body, {"Content-Type": "application/json"}


def wrong_mac(event: dict) -> tuple[bytes, dict]:
    body, _headers = zl.signed(event)
    return body, {"X-ZEvent-Signature": "mac=" + "0" * 64}


def bare_hex(event: dict) -> tuple[bytes, dict]:
    body, headers = zl.signed(event)
    return body, {"X-ZEvent-Signature": headers["X-ZEvent-Signature"][4:]}


def hmac_instead(event: dict) -> tuple[bytes, dict]:
    import hmac

    body = json.dumps(event).encode()
    mac = hmac.new(zl.OA_SECRET_KEY.encode(), zl.APP_ID.encode() + body + event["timestamp"].encode(), hashlib.sha256).hexdigest()
    return body, {"X-ZEvent-Signature": f"mac={mac}"}


FORGERIES = {
    "unsigned": (unsigned, 401),
    "wrong mac": (wrong_mac, 401),
    "mac without the mac= prefix": (bare_hex, 401),
    "tampered body": (tampered, 401),
    "wrong secret": (lambda e: zl.signed(e, secret="guessed-secret"), 401),
    "HMAC instead of plain SHA-256": (hmac_instead, 401),
    "signed for another app": (lambda e: zl.signed({**e, "app_id": "999"}, app_id="999"), 401),
    "our signature on another app's event": (lambda e: zl.signed({**e, "app_id": "999"}), 401),
    "stale event": (lambda e: zl.signed({**e, "timestamp": str(int((time.time() - 3 * 86400) * 1000))}), 401),
    "not JSON": (lambda e: (b"\xffnot json", {"X-ZEvent-Signature": "mac=00"}), 400),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_forged_webhook_requests_are_refused_before_anything_happens(sqlite_db, rasa, zalo_api, forge):
    make, status = forge
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        body, headers = make(zl.text_event(USER, "xin chào"))
        response = await client.post("/webhooks/zalo", data=body, headers=headers)
        assert response.status == status
        assert channel(client, ZaloChannel).rejected == 1
        # the same user's next, genuine message is answered; the forged one never was
        assert (await post(client, zl.text_event(USER, "/dangky"))).status == 200
        await zalo_api.wait_messages(2)  # the thanks, then the offer to choose a unit
    assert rasa.messages() == ["/subscribe"] and len(zalo_api.messages) == 2
    assert len(table_rows("processed_events")) == 1 and len(table_rows("reply_windows")) == 1


async def test_a_replayed_message_is_processed_once(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        body, headers = zl.signed(zl.text_event(USER, "cứu tôi với, nó đang đánh tôi"))
        for _ in range(3):
            response = await client.post("/webhooks/zalo", data=body, headers=headers)
            assert response.status == 200
        await zalo_api.wait_messages(1)
        await post(client, zl.text_event(USER, "/dangky"))
        await until(lambda: "/subscribe" in rasa.messages())
    assert rasa.messages() == ["cứu tôi với, nó đang đánh tôi", "/subscribe"]
    assert len(table_rows("processed_events")) == 2


@pytest.mark.parametrize("name", ["user_send_sticker", "user_seen_message", "user_received_message", "oa_send_text"])
async def test_other_events_are_acknowledged_and_ignored(sqlite_db, rasa, zalo_api, name):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        response = await post(client, zl.text_event(USER, "x", event_name=name))
        await post(client, zl.text_event(USER, "/dangky"))  # the same user's next message
        await zalo_api.wait_messages(2)
    assert response.status == 200
    assert rasa.messages() == ["/subscribe"] and len(zalo_api.messages) == 2
    assert len(table_rows("processed_events")) == 1


async def test_follow_gets_the_intro_and_unfollow_erases_everything(sqlite_db, rasa, zalo_api):
    sender = pseudonym("zalo", USER)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.follow_event(USER))
        [intro] = await zalo_api.wait_messages(1)
        await post(client, zl.text_event(USER, "/dangky"))
        await zalo_api.wait_messages(2)
        conversations.store(sender, b"state")
        assert subscriptions.is_subscribed(sender) and delivery.window_closes_at(sender)
        await post(client, zl.follow_event(USER, "unfollow"))
        await until(lambda: conversations.load(sender) is None)
    assert "ẩn danh" in intro["message"]["text"] and '"thoát"' in intro["message"]["text"]
    assert intro["recipient"] == {"user_id": USER}
    assert not subscriptions.is_subscribed(sender) and delivery.window_closes_at(sender) is None


async def test_typed_commands_subscribe_unsubscribe_and_erase(sqlite_db, rasa, zalo_api):
    sender = pseudonym("zalo", USER)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "/dangky"))
        await zalo_api.wait_messages(2)
        assert subscriptions.is_subscribed(sender)
        assert subscriptions.chat_of(sender) == ("zalo", USER)
        await post(client, zl.text_event(USER, "/huy"))
        await zalo_api.wait_messages(3)
        assert not subscriptions.is_subscribed(sender)
        conversations.store(sender, b"state")
        await post(client, zl.text_event(USER, "/xoa"))
        sent = await zalo_api.wait_messages(4)
    assert rasa.messages() == ["/subscribe", "/unsubscribe"]
    assert conversations.load(sender) is None
    assert sent[3]["message"]["text"].startswith("Đã xóa dữ liệu")


async def test_the_safe_word_erases_and_answers_neutrally(sqlite_db, rasa, zalo_api):
    sender = pseudonym("zalo", USER)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        conversations.store(sender, b"state")
        await post(client, zl.text_event(USER, "Thoát"))
        [sent] = await zalo_api.wait_messages(1)
    assert sent["message"]["text"] == "Đã dừng." and conversations.load(sender) is None


async def test_a_message_about_a_case_reaches_a_resident_only_inside_the_window(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        zalo_channel = channel(client, ZaloChannel)
        await post(client, zl.text_event(USER, "xin chào"))
        await zalo_api.wait_messages(1)
        assert await zalo_channel.send_to_resident(USER, "Cán bộ trực: Chị ở đâu?")
        assert not await zalo_channel.send_to_resident(OTHER, "Cán bộ trực: Chị ở đâu?")  # never wrote
    assert zalo_api.messages[1]["recipient"] == {"user_id": USER}
    assert zalo_api.messages[1]["message"] == {"text": "Cán bộ trực: Chị ở đâu?"}  # unsolicited: nothing quoted
    assert len(zalo_api.messages) == 2
    assert delivery.undelivered_counts("zalo") == {"after_7_days": 1}


# ---------------------------------------------------------------------- tokens


async def test_an_expired_token_is_refreshed_once_stored_sealed_before_use_and_the_message_resent(sqlite_db, rasa, zalo_api):
    stored_when_sent = []
    zalo_api.on_message = lambda _m: stored_when_sent.append(tokens.load("zalo"))
    zalo_api.expire_access_token()
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        [sent] = await zalo_api.wait_messages(1)
    [refresh] = zalo_api.refreshes
    assert refresh == {"refresh_token": zl.REFRESH_TOKEN, "app_id": zl.APP_ID, "grant_type": "refresh_token", "secret_key": zl.APP_SECRET}
    assert sent["access_token"] == zalo_api.access_token
    assert stored_when_sent[0].access_token == zalo_api.access_token  # persisted before it was used
    assert stored_when_sent[0].refresh_token == zalo_api.refresh_token
    [row] = table_rows("channel_tokens")
    assert zalo_api.refresh_token.encode() not in bytes(row.refresh_token)
    assert zalo_api.access_token.encode() not in bytes(row.access_token)


async def test_concurrent_sends_with_an_expired_token_refresh_only_once(sqlite_db, rasa, zalo_api):
    zalo_api.expire_access_token()
    zalo_api.refresh_delay = 0.3
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        for number in range(5):
            await post(client, zl.text_event(f"83586750123492{number:05d}", "xin chào"))
        await zalo_api.wait_messages(5)
    assert len(zalo_api.refreshes) == 1


async def test_two_processes_refreshing_at_once_use_the_single_use_token_once(sqlite_db, zalo_api):
    config = settings().__class__(**{**settings().__dict__, **zalo_settings(zalo_api)})
    first, second = ZaloClient(config), ZaloClient(config)
    await first.start()
    await second.start()
    zalo_api.expire_access_token()
    zalo_api.refresh_delay = 0.3
    try:
        results = await asyncio.gather(first.oa_info(), second.oa_info())
    finally:
        await first.close()
        await second.close()
    assert all(r["oa_id"] == zl.OA_ID for r in results)
    assert len(zalo_api.refreshes) == 1
    assert first.tokens == second.tokens == tokens.load("zalo")


REFRESHER = """
import asyncio, json, os, sys, time
from bot.channels.zalo_api import ZaloClient
from bot.config import settings

async def main():
    client = ZaloClient(settings())
    await client.start()
    print("started", flush=True)
    while not os.path.exists(sys.argv[1]):  # both processes call Zalo at the same moment
        time.sleep(0.01)
    info = await client.oa_info()
    print(json.dumps({"oa_id": info["oa_id"], "version": client.tokens.version, "access": client.tokens.access_token}))
    await client.close()

asyncio.run(main())
"""


async def test_two_gateway_processes_refreshing_at_once_send_one_refresh_and_both_use_the_new_token(db_url, zalo_api, tmp_path):
    """Across processes, on the same database: the refresh token works once, so exactly one
    process asks for new tokens; the other waits for them (bot/storage/tokens.py lease)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **{name.upper(): value for name, value in zalo_settings(zalo_api).items()}}
    go = tmp_path / "go"
    processes = [await asyncio.create_subprocess_exec(sys.executable, "-c", REFRESHER, str(go), env=env, cwd=ROOT,
                                                      stdout=asyncio.subprocess.PIPE) for _ in range(2)]
    for process in processes:
        assert (await asyncio.wait_for(process.stdout.readline(), 60)).strip() == b"started"
    zalo_api.expire_access_token()
    zalo_api.refresh_delay = 0.3
    go.touch()
    results = [json.loads((await asyncio.wait_for(process.communicate(), 60))[0]) for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert len(zalo_api.refreshes) == 1
    assert all(r == {"oa_id": zl.OA_ID, "version": 2, "access": zalo_api.access_token} for r in results)
    assert tokens.load("zalo").refresh_token == zalo_api.refresh_token


async def test_a_restart_keeps_the_stored_tokens_but_new_configured_tokens_replace_them(sqlite_db, zalo_api):
    config = settings().__class__(**{**settings().__dict__, **zalo_settings(zalo_api)})
    client = ZaloClient(config)
    await client.start()
    zalo_api.expire_access_token()
    await client.oa_info()
    await client.close()
    refreshed = tokens.load("zalo")
    assert refreshed.refresh_token == zalo_api.refresh_token != zl.REFRESH_TOKEN
    restarted = ZaloClient(config)  # same (now used) tokens in the configuration
    await restarted.start()
    await restarted.close()
    assert restarted.tokens == refreshed
    reauthorised = ZaloClient(config.__class__(**{**config.__dict__, "zalo_refresh_token": "fresh-refresh", "zalo_access_token": "fresh-access"}))
    await reauthorised.start()
    await reauthorised.close()
    assert reauthorised.tokens.refresh_token == "fresh-refresh" and reauthorised.tokens.version > refreshed.version


async def test_a_refused_refresh_is_recorded_as_undelivered(sqlite_db, rasa, zalo_api):
    zalo_api.expire_access_token()
    zalo_api.refresh_token = "someone-else-used-it"
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"))
    assert delivery.undelivered_counts("zalo") == {"token": 1}
    assert zalo_api.messages == []


# ---------------------------------------------------------------------- what cannot be delivered


async def test_a_reply_stuck_past_day_7_is_recorded_never_sent(sqlite_db, rasa, zalo_api, app_logs):
    zalo_api.fail("/v3.0/oa/message/cs", "500")  # the first try fails; the retry comes after the window
    async with gateway(rasa.port, **zalo_settings(zalo_api, zalo_reply_days=1)) as client:
        channel(client, ZaloChannel).reply_seconds = 0.3
        await post(client, zl.text_event(USER, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"))
    assert delivery.undelivered_counts("zalo") == {"after_7_days": 1}
    assert zalo_api.messages == []
    assert "zalo: message not delivered: reason=after_7_days (1 today)" in app_logs()


async def test_since_2026_there_is_no_cap_of_eight_free_replies(sqlite_db, zalo_api):
    rasa = await FakeRasa(lambda _m: [{"text": f"Tin {n}"} for n in range(10)]).start()
    try:
        async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
            await post(client, zl.text_event(USER, "xin chào"))
            await zalo_api.wait_messages(10)
    finally:
        await rasa.close()
    assert delivery.undelivered_counts("zalo") == {}
    assert not any(m["billed"] for m in zalo_api.messages)


async def test_a_cap_from_the_configuration_makes_the_rest_billed_not_refused(sqlite_db, zalo_api):
    rasa = await FakeRasa(lambda _m: [{"text": f"Tin {n}"} for n in range(10)]).start()
    try:
        async with gateway(rasa.port, **zalo_settings(zalo_api, zalo_free_messages=8)) as client:
            await post(client, zl.text_event(USER, "xin chào"))
            await zalo_api.wait_messages(10)
            await until(lambda: delivery.undelivered_counts("zalo").get("sent_billed") == 2)
    finally:
        await rasa.close()


@pytest.mark.redis
async def test_the_cap_counts_replies_sent_by_every_gateway_since_the_residents_last_message(sqlite_db, zalo_api, shared_gateways):
    rasa = await FakeRasa(lambda _m: [{"text": "Tin 1"}, {"text": "Tin 2"}]).start()
    config = zalo_settings(zalo_api, zalo_free_messages=2)
    try:
        async with gateway(rasa.port, **config) as a, gateway(rasa.port, **config) as b:
            await post(a, zl.text_event(USER, "xin chào"))
            await zalo_api.wait_messages(2)
            assert await channel(b, ZaloChannel).send_to_resident(USER, "Cán bộ trực: chị ổn không?")
            await until(lambda: delivery.undelivered_counts("zalo").get("sent_billed") == 1)  # A sent the two free ones
            await post(b, zl.text_event(USER, "vâng"))  # the resident wrote again: free again
            await zalo_api.wait_messages(5)
            await asyncio.sleep(0.2)
    finally:
        await rasa.close()
    assert delivery.undelivered_counts("zalo") == {"sent_billed": 1}


async def test_between_48_hours_and_7_days_messages_go_out_and_are_counted_as_billed(sqlite_db, rasa, zalo_api):
    import time as clock

    three_days_ago = str(int((clock.time() - 3 * 86400) * 1000))
    zalo_api.interacted[USER] = clock.time() - 3 * 86400
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        zalo_channel = channel(client, ZaloChannel)
        zalo_channel.outbox.put("s", zalo.ZaloText(USER, "Cán bộ trực: chị ổn không?", float(three_days_ago) / 1000),
                                zalo.Priority.ALERT)
        [sent] = await zalo_api.wait_messages(1)
        await until(lambda: delivery.undelivered_counts("zalo").get("sent_billed") == 1)
    assert sent["billed"]


async def test_an_anonymous_resident_is_answered_on_v2_with_both_ids(sqlite_db, rasa, zalo_api):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.anonymous_event(ANONYMOUS_ID, "xin chào", conversation_id="conv-77"))
        [sent] = await zalo_api.wait_messages(1)
    assert sent["recipient"] == {"anonymous_id": ANONYMOUS_ID, "conversation_id": "conv-77"}
    assert zalo_api.calls[-1] == "v2/message"


async def test_when_v2_is_shut_down_the_anonymous_resident_is_told_once_in_the_reply_they_get(sqlite_db, rasa, zalo_api):
    zalo_api.v2_shut_down = True
    zalo_api.anonymous_on_v3 = True
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.anonymous_event(ANONYMOUS_ID, "xin chào"))
        await post(client, zl.anonymous_event(ANONYMOUS_ID, "cảm ơn"))
        first, second = await zalo_api.wait_messages(2)
    assert first["message"]["text"].startswith("Tin trả lời có thể không đến được bạn") and "Telegram" in first["message"]["text"]
    assert not second["message"]["text"].startswith("Tin trả lời có thể không đến được bạn")


@pytest.mark.redis
async def test_an_anonymous_resident_is_told_once_whatever_gateway_answers(sqlite_db, rasa, zalo_api, shared_gateways):
    zalo_api.v2_shut_down = True
    zalo_api.anonymous_on_v3 = True
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as a, gateway(rasa.port, **zalo_settings(zalo_api)) as b:
        await post(a, zl.anonymous_event(ANONYMOUS_ID, "xin chào"))
        await zalo_api.wait_messages(1)
        await post(b, zl.anonymous_event(ANONYMOUS_ID, "cảm ơn"))
        first, second = await zalo_api.wait_messages(2)
    assert first["message"]["text"].startswith("Tin trả lời có thể không đến được bạn")
    assert not second["message"]["text"].startswith("Tin trả lời có thể không đến được bạn")


async def test_when_zalo_refuses_anonymous_replies_everywhere_it_is_counted(sqlite_db, rasa, zalo_api):
    zalo_api.v2_shut_down = True  # and v3 does not take anonymous recipients
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.anonymous_event(ANONYMOUS_ID, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"))
    assert delivery.undelivered_counts("zalo") == {"invalid_request": 1}


@pytest.mark.parametrize("code, reason", [
    ("-213", "not_follower"), ("-230", "no_interaction_7_days"), ("-232", "interaction_expired"),
])
async def test_each_refusal_is_counted_under_its_own_reason(sqlite_db, rasa, zalo_api, code, reason):
    zalo_api.fail("/v3.0/oa/message/cs", code)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"))
    assert delivery.undelivered_counts("zalo") == {reason: 1}


async def test_rate_limited_answers_are_retried_then_counted_as_rate_limited(sqlite_db, rasa, zalo_api):
    zalo_api.fail("/v3.0/oa/message/cs", "-32", times=10)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"), timeout=20)
    assert delivery.undelivered_counts("zalo") == {"rate_limited": 1}
    assert zalo_api.calls.count("message/cs") == 4  # tried, then retried with backoff


async def test_an_invalid_token_is_refreshed_like_an_expired_one(sqlite_db, rasa, zalo_api):
    zalo_api.access_token = "rotated-elsewhere"  # the configured token is now simply unknown: -216
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        [sent] = await zalo_api.wait_messages(1)
    assert len(zalo_api.refreshes) == 1 and sent["access_token"] == zalo_api.access_token


async def test_a_signature_made_with_the_app_secret_is_refused_and_the_log_says_so(sqlite_db, rasa, zalo_api, app_logs):
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        body, headers = zl.signed(zl.text_event(USER, "xin chào"), secret=zl.APP_SECRET)
        response = await client.post("/webhooks/zalo", data=body, headers=headers)
    assert response.status == 401
    assert "it matches ZALO_APP_SECRET, not ZALO_OA_SECRET_KEY" in app_logs()


async def test_zalo_errors_dropped_connections_and_slow_answers(sqlite_db, rasa, zalo_api):
    zalo_api.fail("/v3.0/oa/message/cs", "-201")
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "xin chào"))
        await until(lambda: delivery.undelivered_counts("zalo"))
        zalo_api.fail("/v3.0/oa/message/cs", "drop")
        zalo_api.fail("/v3.0/oa/message/cs", "slow", delay=0.5)
        await post(client, zl.text_event(OTHER, "xin chào"))
        await zalo_api.wait_messages(1, timeout=15)
    assert delivery.undelivered_counts("zalo") == {"invalid_request": 1}
    assert zalo_api.messages[0]["recipient"]["user_id"] == OTHER


async def test_the_zalo_client_reports_slow_limited_and_dropped_answers_as_temporary(sqlite_db, zalo_api):
    from bot.outbound import TemporaryFailure

    config = settings().__class__(**{**settings().__dict__, **zalo_settings(zalo_api)})
    client = ZaloClient(config, timeout=0.3)
    await client.start()
    zalo_api.fail("/v3.0/oa/message/cs", "slow", delay=1.0)
    zalo_api.fail("/v3.0/oa/message/cs", "429")
    zalo_api.fail("/v3.0/oa/message/cs", "drop")
    try:
        for _ in range(3):
            with pytest.raises(TemporaryFailure):
                await client.send_text(USER, "xin chào")
        assert await client.send_text(USER, "xin chào")
    finally:
        await client.close()
    assert len(zalo_api.messages) == 1


async def test_zalo_check_reports_token_state_and_undelivered_counts(sqlite_db, zalo_api):
    config = settings().__class__(**{**settings().__dict__, **zalo_settings(zalo_api)})
    delivery.record_undelivered("zalo", "window_closed")
    delivery.record_undelivered("zalo", "window_closed")
    delivery.record_undelivered("zalo", "error:-230")
    zalo_api.expire_access_token()
    ok, lines = await zalo.check(config)
    report = "\n".join(lines)
    assert ok, report
    assert "access token valid: Official Account 'Noi tin cay (test)'" in report
    assert "refreshed" in report and len(zalo_api.refreshes) == 1
    assert "undelivered messages, last 30 days: 3 (error:-230: 1, window_closed: 2)" in report
    zalo_api.refresh_token = "used-elsewhere"
    zalo_api.expire_access_token()
    ok, lines = await zalo.check(config)
    assert not ok and any("re-authorise" in line for line in lines)


# ---------------------------------------------------------------------- privacy


async def test_after_a_zalo_conversation_the_database_and_logs_hold_no_ids_or_text(db_url, rasa, zalo_api, app_logs):
    user = "7100200300400500600"
    marker = "Hoàng Thị Lan số 0912345678 bị chồng đánh"
    zalo_api.expire_access_token()  # tokens are stored too: sealed
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        conversations.store(pseudonym("zalo", user), marker.encode())
        event = zl.text_event(user, marker)
        for item in (zl.follow_event(user), zl.text_event(user, "/dangky"), event, zl.location_event(user, 16.5123, 107.4876)):
            assert (await post(client, item)).status == 200
        await zalo_api.wait_messages(4)
    assert marker in rasa.messages()  # the text did go all the way through
    dump = database_dump(db_url)
    assert dump
    secrets = (user, marker, "0912345678", "Hoàng Thị Lan", event["message"]["msg_id"], "16.5123", zalo_api.refresh_token, zalo_api.access_token)
    for secret in secrets:
        assert secret.encode() not in dump, secret
    logs = app_logs()
    assert "turn channel=zalo" in logs
    for secret in secrets:
        assert secret not in logs, secret


def test_the_subscription_choice_buttons_are_payloads_a_resident_may_send():
    from bot.channels.messaging import valid_payload
    from bot.services.campaigns import choice

    offered = [b.payload for b in (*choice.ask_unit().buttons, *choice.ask_topics(["law"]).buttons)]
    assert offered and all(valid_payload(p) for p in offered)
    assert not valid_payload('/subscription_units{"unit":"Phường Kim Trà"}')
    assert not valid_payload('/subscription_topics["law"]')


async def test_after_dangky_the_unit_and_topics_are_chosen_by_number(sqlite_db, rasa, zalo_api):
    sender = pseudonym("zalo", USER)
    async with gateway(rasa.port, **zalo_settings(zalo_api)) as client:
        await post(client, zl.text_event(USER, "dangky"))
        thanks, offer = (m["message"]["text"] for m in await zalo_api.wait_messages(2))
        assert options_in(thanks) == ["1. Hủy đăng ký"]  # numbering runs across the reply
        assert options_in(offer) == ["2. Phường Hương Trà", "3. Phường Kim Trà", "4. Xã Bình Điền", "5. Bỏ qua"]
        await post(client, zl.text_event(USER, "3"))
        topics = (await zalo_api.wait_messages(3))[-1]["message"]["text"]
        assert options_in(topics)[0] == "1. Pháp luật" and options_in(topics)[-1] == "6. Bỏ qua"
        await post(client, zl.text_event(USER, "1"))
        more = (await zalo_api.wait_messages(4))[-1]["message"]["text"]
        assert options_in(more)[-1] == "5. Xong"
        await post(client, zl.text_event(USER, "5"))
        saved = (await zalo_api.wait_messages(5))[-1]["message"]["text"]
    assert saved.startswith("Đã lưu lựa chọn")
    assert rasa.messages() == ["/subscribe"]
    assert subscriptions.audience(["zalo"], ["Phường Hương Trà"], None) == []
    assert subscriptions.audience(["zalo"], ["Phường Kim Trà"], ["law"]) == [(sender, "zalo")]
