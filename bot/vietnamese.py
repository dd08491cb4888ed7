"""Vietnamese letters as residents type them: composed or decomposed (NFD, from some
keyboards), with or without marks. Below both the NLU (bot/nlu) and the place names
(bot/geo), which compare words by their folded form; imports nothing of bot."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    """Canonical composition: what the gateway hands to every component."""
    return unicodedata.normalize("NFC", text)


def strip_marks(text: str) -> str:
    """Lowercase, drop every combining mark and fold đ→d ("Hương Trà" → "huong tra")."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).replace("đ", "d")
