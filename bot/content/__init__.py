"""Resident-facing text the gateway sends itself (bot/content/gateway.yml) and the
intents that button payloads may name (domain.yml): both read once, from the repo."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import ROOT

GATEWAY_FILE = Path(__file__).with_name("gateway.yml")


@lru_cache(maxsize=1)
def gateway_messages() -> dict[str, str]:
    return yaml.safe_load(GATEWAY_FILE.read_text(encoding="utf-8"))


def text(name: str) -> str:
    return gateway_messages()[name]


@lru_cache(maxsize=1)
def intents() -> frozenset[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(domain["intents"])
