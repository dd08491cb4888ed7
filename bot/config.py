"""One typed settings object, read from the environment and an optional `.env` file.

Every value is validated at start-up; a bad value stops the program with a message that
names the variable and what it accepts. The secret key is generated into `var/` on first
run when unset, and never printed.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
ZALO_API_BASE_URL = "https://openapi.zalo.me"
ZALO_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
ZALO_CREDENTIALS = ("ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN", "ZALO_REFRESH_TOKEN")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str
    port: int
    rasa_port: int
    actions_port: int
    mode: str
    admin_token: str | None = field(repr=False)
    secret_key: bytes = field(repr=False)
    retention_days: int
    case_retention_days: int
    rate_per_minute: int
    log_level: str
    var_dir: Path
    ack_timeout: int  # seconds an alert waits for "Nhận xử lý" before the next rung
    # Abuse limits: per client address (behind a trusted proxy, from X-Forwarded-For), and
    # how many new cases in five minutes are alerted one by one before a summary replaces them.
    previous_secret_keys: tuple = field(default=(), repr=False)  # after a rotation, newest first
    trusted_proxies: tuple = ()
    rate_per_address: int = 120
    new_sessions_per_address: int = 30
    cases_per_5_minutes: int = 10
    console_idle_minutes: int = 30  # a console session unused this long is signed out
    usefulness_percent: int = 50  # share of conversations asked "Câu trả lời này có hữu ích …?"
    # Telegram: on when the token is set; webhook mode when the URL is set, polling otherwise.
    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    # Zalo Official Account: on when the app id is set (then the secrets are required).
    zalo_app_id: str | None = None
    zalo_app_secret: str | None = field(default=None, repr=False)
    zalo_oa_secret_key: str | None = field(default=None, repr=False)
    zalo_access_token: str | None = field(default=None, repr=False)
    zalo_refresh_token: str | None = field(default=None, repr=False)
    zalo_api_base_url: str = ZALO_API_BASE_URL
    zalo_oauth_base_url: str = ZALO_OAUTH_BASE_URL
    # Zalo's reply window (2026 rules): free within 48 h of the resident's last message (cap:
    # 0 = none, as since 01/01/2026), billed until day 7, refused after.
    zalo_free_hours: int = 48
    zalo_free_messages: int = 0
    zalo_reply_days: int = 7
    # Public links to the bot, shown on the web page for receiving campaign messages.
    telegram_bot_url: str | None = None
    zalo_oa_url: str | None = None
    # Several gateways and Rasa servers share state through Redis (unset: one gateway, in memory).
    redis_url: str | None = field(default=None, repr=False)
    # `gbvbot run` topology: gateways on the one public port, Rasa servers on consecutive ports.
    gateways: int = 1
    rasa_servers: int = 1

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def zalo_enabled(self) -> bool:
        return self.zalo_app_id is not None

    @property
    def follow_links(self) -> dict[str, str]:
        """App name → public link of the bot there, for the web page; only those configured."""
        links = {"Telegram": self.telegram_bot_url, "Zalo": self.zalo_oa_url}
        return {name: url for name, url in links.items() if url}

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """Every Rasa server: GBVBOT_RASA_PORT and the ports after it."""
        return tuple(f"http://127.0.0.1:{self.rasa_port + n}" for n in range(self.rasa_servers))

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; '#' comments; optional single or double quotes."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key.strip()):
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number 1-65535, got {raw!r}")
    return int(raw)


def _positive(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def _whole(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), got {raw!r}")
    return int(raw)


def _percent(env: dict[str, str], name: str, default: int) -> int:
    value = _whole(env, name, default)
    if value > 100:
        raise ConfigError(f"{name} must be a percentage 0-100, got {value}")
    return value


def _networks(env: dict[str, str], name: str) -> tuple:
    """Comma-separated IP addresses or CIDR networks."""
    import ipaddress

    networks = []
    for part in (env.get(name) or "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ConfigError(f"{name} must be comma-separated IP addresses or networks, got {part.strip()!r}") from None
    return tuple(networks)


def _secret_key(env: dict[str, str], var: Path, production: bool) -> bytes:
    raw = env.get("GBVBOT_SECRET_KEY")
    if raw:
        if len(raw) < 32:
            raise ConfigError("GBVBOT_SECRET_KEY must be at least 32 characters")
        return raw.encode()
    if production:  # a key file next to the database would be stolen with it
        raise ConfigError("GBVBOT_SECRET_KEY must be set in the environment in production mode "
                          "(at least 32 characters; keep a copy apart from the database backups)")
    key_file = var / "secret.key"
    if not key_file.exists():
        var.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip().encode()


def _previous_keys(env: dict[str, str]) -> tuple:
    keys = tuple(k.strip().encode() for k in (env.get("GBVBOT_PREVIOUS_SECRET_KEYS") or "").split(",") if k.strip())
    if any(len(k) < 32 for k in keys):
        raise ConfigError("GBVBOT_PREVIOUS_SECRET_KEYS must be comma-separated keys of at least 32 characters each")
    return keys


def _url(env: dict[str, str], name: str, default: str | None = None, https_only: bool = False) -> str | None:
    raw = env.get(name) or default
    if raw is None:
        return None
    scheme = r"https" if https_only else r"https?"
    if not re.fullmatch(scheme + r"://[^\s/?#]+[^\s]*", raw):
        need = "an https:// URL" if https_only else "an http:// or https:// URL"
        raise ConfigError(f"{name} must be {need}, got {raw!r}")
    return raw


def _telegram(env: dict[str, str]) -> dict:
    token = env.get("TELEGRAM_BOT_TOKEN") or None
    webhook_url = _url(env, "TELEGRAM_WEBHOOK_URL", https_only=True)
    secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    if token is not None and not re.fullmatch(r"\d{1,20}:[A-Za-z0-9_-]{20,200}", token):
        raise ConfigError("TELEGRAM_BOT_TOKEN must look like 123456789:AAE... (the token from @BotFather)")
    if webhook_url is not None and token is None:
        raise ConfigError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 32-256 characters of A-Z, a-z, 0-9, _ and -")
    if webhook_url is not None and secret is None:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set")
    return {
        "telegram_bot_token": token,
        "telegram_webhook_url": webhook_url,
        "telegram_webhook_secret": secret,
        "telegram_api_base_url": _url(env, "TELEGRAM_API_BASE_URL", TELEGRAM_API_BASE_URL),
    }


def _zalo(env: dict[str, str]) -> dict:
    given = {name: env.get(name) or None for name in ZALO_CREDENTIALS}
    if any(given.values()):
        for name in ("ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN"):
            if given[name] is None:
                raise ConfigError(f"{name} is required when the Zalo channel is configured (a ZALO_* credential is set)")
        if not re.fullmatch(r"\d{1,32}", given["ZALO_APP_ID"]):
            raise ConfigError("ZALO_APP_ID must be the numeric app id from developers.zalo.me")
    return {
        "zalo_app_id": given["ZALO_APP_ID"],
        "zalo_app_secret": given["ZALO_APP_SECRET"],
        "zalo_oa_secret_key": given["ZALO_OA_SECRET_KEY"],
        "zalo_access_token": given["ZALO_ACCESS_TOKEN"],
        "zalo_refresh_token": given["ZALO_REFRESH_TOKEN"],
        "zalo_api_base_url": _url(env, "ZALO_API_BASE_URL", ZALO_API_BASE_URL).rstrip("/"),
        "zalo_oauth_base_url": _url(env, "ZALO_OAUTH_BASE_URL", ZALO_OAUTH_BASE_URL).rstrip("/"),
        "zalo_free_hours": _positive(env, "ZALO_FREE_WINDOW_HOURS", 48),
        "zalo_free_messages": _whole(env, "ZALO_FREE_MESSAGES", 0),
        "zalo_reply_days": _positive(env, "ZALO_REPLY_DAYS", 7),
    }


def check_topology(settings: Settings) -> None:
    """Several gateways or Rasa servers need what they share: PostgreSQL (conversations, jobs,
    the leader lock), Redis (Rasa's conversation locks, the gateways' shared state), and
    Telegram in webhook mode (polling cannot be shared)."""
    if settings.gateways == 1 and settings.rasa_servers == 1:
        return
    what = (f"{settings.gateways} gateway{'s' if settings.gateways > 1 else ''} and "
            f"{settings.rasa_servers} Rasa server{'s' if settings.rasa_servers > 1 else ''}")
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError(f"{what} need DATABASE_URL on PostgreSQL (SQLite serves one gateway and one Rasa server)")
    if settings.redis_url is None:
        raise ConfigError(f"{what} need REDIS_URL (Rasa's conversation locks and the gateways' shared state live there)")
    if settings.gateways > 1 and settings.telegram_enabled and settings.telegram_webhook_url is None:
        raise ConfigError(f"{what}: Telegram needs webhook mode (set TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET); "
                          "polling works with one gateway only")
    if settings.rasa_port + settings.rasa_servers - 1 > 65535:
        raise ConfigError(f"GBVBOT_RASA_PORT {settings.rasa_port} leaves no room for {settings.rasa_servers} Rasa servers")


def load(environ: dict[str, str] | None = None) -> Settings:
    env = {**read_env_file(ROOT / ".env"), **(os.environ if environ is None else environ)}
    var = Path(env.get("GBVBOT_VAR_DIR") or ROOT / "var")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var / 'gbvbot.sqlite3'}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError("DATABASE_URL must start with sqlite:// or postgresql://")
    mode = env.get("GBVBOT_MODE", "demo")
    if mode not in ("demo", "production"):
        raise ConfigError(f"GBVBOT_MODE must be 'demo' or 'production', got {mode!r}")
    host = env.get("GBVBOT_HOST", "127.0.0.1")
    if "GBVBOT_MODE" not in env and host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(f"GBVBOT_HOST is {host!r} but GBVBOT_MODE is not set: demo mode (sample places, "
                          "no admin token) only listens on loopback. Set GBVBOT_MODE=production, or "
                          "GBVBOT_MODE=demo to show the demo to others on purpose")
    admin_token = env.get("GBVBOT_ADMIN_TOKEN") or None
    if admin_token is not None and len(admin_token) < 16:
        raise ConfigError("GBVBOT_ADMIN_TOKEN must be at least 16 characters")
    if mode == "production" and admin_token is None:
        raise ConfigError("GBVBOT_ADMIN_TOKEN is required in production mode")
    redis_url = env.get("REDIS_URL") or None
    if redis_url is not None and not re.match(r"^rediss?://[^/]", redis_url):
        raise ConfigError("REDIS_URL must look like redis://host:port/db")
    log_level = env.get("GBVBOT_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("GBVBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    var.mkdir(parents=True, exist_ok=True)
    loaded = Settings(
        database_url=database_url,
        host=host,
        port=_port(env, "GBVBOT_PORT", 8080),
        rasa_port=_port(env, "GBVBOT_RASA_PORT", 5005),
        actions_port=_port(env, "GBVBOT_ACTIONS_PORT", 5055),
        mode=mode,
        admin_token=admin_token,
        secret_key=_secret_key(env, var, mode == "production"),
        previous_secret_keys=_previous_keys(env),
        var_dir=var,
        retention_days=_positive(env, "GBVBOT_RETENTION_DAYS", 30),
        case_retention_days=_positive(env, "GBVBOT_CASE_RETENTION_DAYS", 90),
        rate_per_minute=_positive(env, "GBVBOT_RATE_PER_MINUTE", 30),
        ack_timeout=_positive(env, "GBVBOT_ACK_TIMEOUT_SECONDS", 180),
        trusted_proxies=_networks(env, "GBVBOT_TRUSTED_PROXIES"),
        rate_per_address=_positive(env, "GBVBOT_RATE_PER_ADDRESS", 120),
        new_sessions_per_address=_positive(env, "GBVBOT_NEW_SESSIONS_PER_ADDRESS", 30),
        cases_per_5_minutes=_positive(env, "GBVBOT_CASES_PER_5_MINUTES", 10),
        console_idle_minutes=_positive(env, "GBVBOT_CONSOLE_IDLE_MINUTES", 30),
        usefulness_percent=_percent(env, "GBVBOT_USEFULNESS_PERCENT", 50),
        log_level=log_level,
        redis_url=redis_url,
        gateways=_positive(env, "GBVBOT_GATEWAYS", 1),
        rasa_servers=_positive(env, "GBVBOT_RASA_SERVERS", 1),
        telegram_bot_url=_url(env, "GBVBOT_TELEGRAM_BOT_URL", https_only=True),
        zalo_oa_url=_url(env, "GBVBOT_ZALO_OA_URL", https_only=True),
        **_telegram(env),
        **_zalo(env),
    )
    check_topology(loaded)
    return loaded


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load()
