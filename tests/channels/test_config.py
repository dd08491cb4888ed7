"""Channel settings: off unless configured, and bad values stop start-up naming the variable."""

import pytest

from bot.config import ConfigError, load

TOKEN = "123456789:AAE-abcdefghijklmnopqrstuvwxyz_012345"
ZALO = {
    "ZALO_APP_ID": "4321098765432109876",
    "ZALO_APP_SECRET": "app-secret",
    "ZALO_OA_SECRET_KEY": "oa-secret",
    "ZALO_REFRESH_TOKEN": "refresh",
}


def test_channels_are_off_by_default_with_the_official_urls(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path)})
    assert not s.telegram_enabled and not s.zalo_enabled
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.zalo_api_base_url == "https://openapi.zalo.me"
    assert s.zalo_oauth_base_url == "https://oauth.zaloapp.com"


def test_a_configured_channel_is_on_and_its_secrets_stay_out_of_the_repr(tmp_path):
    s = load({
        "GBVBOT_VAR_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_URL": "https://x.example.vn/webhooks/telegram", "TELEGRAM_WEBHOOK_SECRET": "abc_DEF-123" * 3,
        "ZALO_ACCESS_TOKEN": "access", **ZALO,
    })
    assert s.telegram_enabled and s.zalo_enabled
    for secret in (TOKEN, "abc_DEF-123", "app-secret", "oa-secret", "refresh", "access"):
        assert secret not in repr(s)


@pytest.mark.parametrize(
    "env, name",
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "https://x.example.vn/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "http://x.example.vn/hook", "TELEGRAM_WEBHOOK_SECRET": "a"}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_URL": "https://x.example.vn/hook", "TELEGRAM_WEBHOOK_SECRET": "a"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "has space" * 4}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "short_secret_31_characters_long"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "x" * 257}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL"),
        ({"ZALO_APP_ID": "4321"}, "ZALO_APP_SECRET"),
        ({**ZALO, "ZALO_OA_SECRET_KEY": ""}, "ZALO_OA_SECRET_KEY"),
        ({k: v for k, v in ZALO.items() if k != "ZALO_REFRESH_TOKEN"}, "ZALO_REFRESH_TOKEN"),
        ({"ZALO_ACCESS_TOKEN": "a"}, "ZALO_APP_ID"),
        ({**ZALO, "ZALO_APP_ID": "my-app"}, "ZALO_APP_ID"),
        ({**ZALO, "ZALO_API_BASE_URL": "ftp://openapi.zalo.me"}, "ZALO_API_BASE_URL"),
        ({**ZALO, "ZALO_OAUTH_BASE_URL": "oauth"}, "ZALO_OAUTH_BASE_URL"),
        ({"GBVBOT_TELEGRAM_BOT_URL": "http://t.me/example_bot"}, "GBVBOT_TELEGRAM_BOT_URL"),
        ({"GBVBOT_ZALO_OA_URL": "zalo.me/123"}, "GBVBOT_ZALO_OA_URL"),
    ],
)
def test_invalid_channel_settings_stop_with_a_message_naming_the_variable(tmp_path, env, name):
    with pytest.raises(ConfigError, match=name):
        load({"GBVBOT_VAR_DIR": str(tmp_path), **env})


def test_the_longest_allowed_webhook_secret_is_accepted(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "x" * 256})
    assert s.telegram_webhook_secret == "x" * 256 and s.telegram_webhook_url is None
