"""`gbvbot telegram check` and `gbvbot zalo check` against the local fake APIs."""

from __future__ import annotations

import pytest

from bot import cli
from tests.fakes import InThread
from tests.fakes import telegram as tg
from tests.fakes import zalo as zl


@pytest.fixture
def env(sqlite_db, monkeypatch):
    from tests.conftest import _reset_caches

    def configure(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        _reset_caches()

    yield configure
    _reset_caches()


def test_telegram_check_says_the_channel_is_off_without_a_token(env, capsys):
    env()
    assert cli.main(["telegram", "check"]) == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().out


def test_telegram_check_reports_the_bot_and_the_mode(env, capsys):
    with InThread(tg.FakeTelegram()) as fake:
        env(TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_API_BASE_URL=fake.fake.base_url)
        assert cli.main(["telegram", "check"]) == 0
    out = capsys.readouterr().out
    assert "token accepted: bot @noitincay_test_bot" in out and "mode: polling" in out


def test_telegram_check_explains_a_rejected_token(env, capsys):
    with InThread(tg.FakeTelegram()) as fake:
        env(TELEGRAM_BOT_TOKEN="42:" + "z" * 30, TELEGRAM_API_BASE_URL=fake.fake.base_url)
        assert cli.main(["telegram", "check"]) == 1
    assert "TELEGRAM_BOT_TOKEN was rejected by Telegram" in capsys.readouterr().out


def test_telegram_check_notices_a_webhook_that_is_not_set(env, capsys):
    with InThread(tg.FakeTelegram()) as fake:
        env(
            TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_API_BASE_URL=fake.fake.base_url,
            TELEGRAM_WEBHOOK_URL="https://tro-ly.example.vn/webhooks/telegram", TELEGRAM_WEBHOOK_SECRET="abc" * 11,
        )
        assert cli.main(["telegram", "check"]) == 1
    assert "the webhook Telegram knows is not set" in capsys.readouterr().out


def test_telegram_check_explains_an_unreachable_api(env, capsys):
    from tests.e2e.conftest import free_port

    env(TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
    assert cli.main(["telegram", "check"]) == 1
    assert "cannot reach" in capsys.readouterr().out


def test_zalo_check_refreshes_an_expired_token_and_reports_undelivered_counts(env, capsys):
    from bot.storage import delivery

    with InThread(zl.FakeZalo()) as fake:
        fake.run(fake.fake.expire_access_token)
        env(
            ZALO_APP_ID=zl.APP_ID, ZALO_APP_SECRET=zl.APP_SECRET, ZALO_OA_SECRET_KEY=zl.OA_SECRET_KEY,
            ZALO_ACCESS_TOKEN=zl.ACCESS_TOKEN, ZALO_REFRESH_TOKEN=zl.REFRESH_TOKEN,
            ZALO_API_BASE_URL=fake.fake.base_url, ZALO_OAUTH_BASE_URL=fake.fake.base_url,
        )
        delivery.record_undelivered("zalo", "window_closed")
        assert cli.main(["zalo", "check"]) == 0
        assert len(fake.fake.refreshes) == 1
    out = capsys.readouterr().out
    assert "access token valid" in out and "refreshed" in out
    assert "undelivered messages, last 30 days: 1 (window_closed: 1)" in out


def test_zalo_check_says_the_channel_is_off_without_configuration(env, capsys):
    env()
    assert cli.main(["zalo", "check"]) == 1
    assert "ZALO_APP_ID is not set" in capsys.readouterr().out


def test_officers_check_lists_who_cannot_be_alerted(env, capsys):
    from bot.services import roster

    with InThread(tg.FakeTelegram()) as fake:
        env(TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_API_BASE_URL=fake.fake.base_url)
        roster.add_officer("Cán bộ A", "police", "officer", "*", telegram_id="7001")
        roster.add_officer("Cán bộ B", "police", "officer", "*", telegram_id="7002")
        roster.add_officer("Cán bộ C", "police", "officer", "*")
        fake.fake.fail("sendMessage", "403", chat_id=7002)  # never pressed Start
        assert cli.main(["officers", "check"]) == 1
        sent = [m for m in fake.fake.sent if m["chat_id"] == 7001]
    out = capsys.readouterr().out
    assert "Cán bộ A\tok" in out
    assert "Cán bộ B\tCANNOT BE ALERTED: has not opened the bot and pressed Start" in out
    assert "Cán bộ C\tCANNOT BE ALERTED: no Telegram id" in out
    assert "1 of 3 officers can be alerted" in out
    assert sent and sent[0]["disable_notification"] in (True, "true", "True")
