"""Every text the product writes itself, outside Rasa's domain.yml, lives in this folder's
YAML files (texts.yml for the gateway and the channels, officer.yml for officers, places.yml
for the directory), one name space checked as a whole by bot/content/check.py; and the
intents that button payloads may name (domain.yml). Both are read once, from the repo."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import ROOT

FOLDER = Path(__file__).parent


@lru_cache(maxsize=1)
def texts() -> dict[str, str]:
    """All texts by name; a name defined in two files is an error, not a silent override."""
    merged: dict[str, str] = {}
    for path in sorted(FOLDER.glob("*.yml")):
        for name, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if name in merged:
                raise ValueError(f"text {name!r} is defined twice ({path.name})")
            merged[name] = value
    return merged


def text(name: str, **fields) -> str:
    """The text called *name*, with its {placeholders} filled from *fields*."""
    return texts()[name].format(**fields) if fields else texts()[name]


@lru_cache(maxsize=1)
def intents() -> frozenset[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(domain["intents"])
