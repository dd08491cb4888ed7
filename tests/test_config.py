"""Start-up configuration is validated with messages that name the variable."""

import pytest

from bot.config import ConfigError, load, read_env_file


def test_defaults_are_demo_mode_on_sqlite_in_var(tmp_path):
    s = load({"GBVBOT_VAR_DIR": str(tmp_path)})
    assert s.mode == "demo" and s.demo
    assert s.database_url == f"sqlite:///{tmp_path / 'gbvbot.sqlite3'}"
    assert (s.host, s.port) == ("127.0.0.1", 8080)


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
        ({"GBVBOT_ADMIN_TOKEN": "short"}, "GBVBOT_ADMIN_TOKEN"),
        ({"GBVBOT_MODE": "production"}, "GBVBOT_ADMIN_TOKEN"),
        ({"GBVBOT_SECRET_KEY": "too-short"}, "GBVBOT_SECRET_KEY"),
        ({"GBVBOT_RETENTION_DAYS": "0"}, "GBVBOT_RETENTION_DAYS"),
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
