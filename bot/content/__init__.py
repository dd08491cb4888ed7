"""Every text the product writes itself, outside Rasa's domain.yml: bot/content/texts.yml
(resident and officer texts, one place, all checked by bot/content/check.py), and the
intents that button payloads may name (domain.yml): both read once, from the repo."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import ROOT

TEXTS_FILE = Path(__file__).with_name("texts.yml")


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def text(name: str, **fields) -> str:
    """The text called *name*, with its {placeholders} filled from *fields*."""
    return texts()[name].format(**fields) if fields else texts()[name]


@lru_cache(maxsize=1)
def intents() -> frozenset[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(domain["intents"])
