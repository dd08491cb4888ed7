"""Start-up configuration is validated with messages that name the variable."""

import pytest

from bot.config import ConfigError, load, read_env_file


def test_defaults_are_demo_mode_on_sqlite_in_var(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path)})
    assert s.mode == "demo" and s.demo
    assert s.database_url == f"sqlite:///{tmp_path / 'gbvbot.sqlite3'}"
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.usefulness_percent == 50


def test_secret_key_is_generated_once_with_private_permissions(tmp_path):
    first = load({"GBVBOT_VAR_DIR": str(tmp_path)}).secret_key
    second = load({"GBVBOT_VAR_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_secret_key_is_not_in_the_settings_repr(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_SECRET_KEY": "x" * 40})
    assert "x" * 40 not in repr(s)


@pytest.mark.parametrize(
    "env, names",
    [
        ({"GBVBOT_PORT": "80000"}, "GBVBOT_PORT"),
        ({"GBVBOT_RASA_PORT": "abc"}, "GBVBOT_RASA_PORT"),
        ({"GBVBOT_MODE": "prod"}, "GBVBOT_MODE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL"),
        ({"GBVBOT_ADMIN_TOKEN": "short"}, "GBVBOT_ADMIN_TOKEN"),
        ({"GBVBOT_MODE": "production"}, "GBVBOT_ADMIN_TOKEN"),
        ({"GBVBOT_SECRET_KEY": "too-short"}, "GBVBOT_SECRET_KEY"),
        ({"GBVBOT_RETENTION_DAYS": "0"}, "GBVBOT_RETENTION_DAYS"),
        ({"GBVBOT_USEFULNESS_PERCENT": "101"}, "GBVBOT_USEFULNESS_PERCENT"),
        ({"GBVBOT_USEFULNESS_PERCENT": "-1"}, "GBVBOT_USEFULNESS_PERCENT"),
    ],
)
def test_invalid_values_stop_with_a_message_naming_the_variable(tmp_path, env, names):
    with pytest.raises(ConfigError, match=names):
        load({"GBVBOT_VAR_DIR": str(tmp_path), **env})


def test_env_file_parsing(tmp_path):
    f = tmp_path / ".env"
    f.write_text("# comment\nGBVBOT_PORT=9000\nGBVBOT_MODE='demo'\n\n")
    assert read_env_file(f) == {"GBVBOT_PORT": "9000", "GBVBOT_MODE": "demo"}
    f.write_text("not a pair\n")
    with pytest.raises(ConfigError, match=":1:"):
        read_env_file(f)


def test_production_refuses_to_start_without_the_secret_key_in_the_environment(tmp_path):
    with pytest.raises(ConfigError, match="GBVBOT_SECRET_KEY must be set in the environment"):
        load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_MODE": "production", "GBVBOT_ADMIN_TOKEN": "a" * 20})
    assert not (tmp_path / "secret.key").exists()  # no key file next to the database
    config = load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_MODE": "production", "GBVBOT_ADMIN_TOKEN": "a" * 20,
                   "GBVBOT_SECRET_KEY": "k" * 40})
    assert config.secret_key == b"k" * 40


def test_demo_mode_listens_on_loopback_unless_the_mode_is_chosen_explicitly(tmp_path):
    with pytest.raises(ConfigError, match="GBVBOT_MODE is not set"):
        load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_HOST": "0.0.0.0"})
    assert load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_HOST": "0.0.0.0", "GBVBOT_MODE": "demo"}).host == "0.0.0.0"


def test_trusted_proxies_are_validated(tmp_path):
    config = load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert [str(n) for n in config.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(ConfigError, match="GBVBOT_TRUSTED_PROXIES"):
        load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_TRUSTED_PROXIES": "nginx"})


PG = "postgresql://gbvbot@127.0.0.1/gbvbot"
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35}


@pytest.mark.parametrize(
    "env, says",
    [
        ({"GBVBOT_GATEWAYS": "2"}, "DATABASE_URL on PostgreSQL"),
        ({"GBVBOT_RASA_SERVERS": "2", "REDIS_URL": "redis://127.0.0.1:6379/0"}, "DATABASE_URL on PostgreSQL"),
        ({"GBVBOT_RASA_SERVERS": "2", "DATABASE_URL": PG}, "REDIS_URL"),
        ({"GBVBOT_GATEWAYS": "2", "DATABASE_URL": PG, "REDIS_URL": "redis://r:6379/0", **TELEGRAM}, "webhook mode"),
        ({"GBVBOT_GATEWAYS": "0"}, "GBVBOT_GATEWAYS"),
    ],
)
def test_several_gateways_or_rasa_servers_need_postgresql_redis_and_telegram_webhooks(tmp_path, env, says):
    with pytest.raises(ConfigError, match=says):
        load({"GBVBOT_VAR_DIR": str(tmp_path), **env})


def test_a_scaled_out_topology_lists_every_rasa_server(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path), "GBVBOT_GATEWAYS": "3", "GBVBOT_RASA_SERVERS": "2",
              "GBVBOT_RASA_PORT": "6000", "DATABASE_URL": PG, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert s.gateways == 3
    assert s.rasa_urls == ("http://127.0.0.1:6000", "http://127.0.0.1:6001")
