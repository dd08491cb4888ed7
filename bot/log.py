"""Logging that never carries message text, ids or tokens: callers log events and counts only."""

from __future__ import annotations

import logging
import sys


def setup(level: str = "INFO", process: str | None = None) -> None:
    """`process` prefixes every line (the supervisor's own lines read "[supervisor] …")."""
    prefix = f"[{process}] " if process else ""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(prefix + "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs would print request paths and client addresses; we do not need them.
    for noisy in ("aiohttp.access", "apscheduler.executors.default", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # httpx logs every request URL, and Telegram's URLs contain the bot token; PTB's debug
    # logs contain whole updates (text, names). Only their warnings, at any level.
    for chatty in ("httpx", "httpcore", "telegram"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
