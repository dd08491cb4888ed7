"""Vietnamese text folding shared by the NLU pipeline, the safety net and the gazetteer.

Residents type with diacritics, without them, in teencode, with old tone placement
("hoà") and in NFD from some keyboards. Everything that compares words compares their
*folded* form: NFC, lowercase, marks stripped, đ→d, teencode expanded. The original text
is never changed, so entity offsets stay valid.
"""

from __future__ import annotations

import re
import unicodedata

# Chat abbreviations → folded standard word(s). Keys and values are already folded.
# Only tokens that are unambiguous once marks are stripped are listed: "o" (ở/ơ/ô),
# "rang" (rằng/răng), "te" (tế/tê), "ca" (cả/cá), "hong" (Hồng Tiến), "kho" (khó) are not.
TEENCODE: dict[str, str] = {
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "khum": "khong",
    "kg": "khong", "hem": "khong", "hk": "khong",
    "dc": "duoc", "dk": "duoc", "dcj": "duoc", "ck": "chong", "chg": "chong",
    "vk": "vo", "vs": "voi", "j": "gi", "gj": "gi", "e": "em", "c": "chi", "cj": "chi",
    "mk": "minh", "mik": "minh", "mjk": "minh", "bt": "biet", "bik": "biet",
    "ns": "noi", "ng": "nguoi", "nguoj": "nguoi", "ntn": "nhu the nao", "r": "roi",
    "oy": "roi", "ruj": "roi", "z": "vay", "v": "vay", "dzay": "vay", "zay": "vay",
    "wa": "qua", "qa": "qua", "bh": "bao gio", "bjo": "bay gio", "bg": "bay gio",
    "h": "gio", "ms": "moi", "mn": "moi nguoi", "tks": "cam on", "thanks": "cam on",
    "thank": "cam on", "cmon": "cam on", "oke": "ok", "okie": "ok", "dg": "dang",
    "trc": "truoc", "t": "toi", "tui": "toi", "ik": "di", "nhaa": "nha", "lm": "lam",
    "lun": "luon", "vl": "qua", "sdt": "so dien thoai", "dt": "dien thoai",
    "bv": "benh vien", "cs": "canh sat", "tgpl": "tro giup phap ly",
    "blgd": "bao luc gia dinh", "ubnd": "uy ban nhan dan", "cx": "cung",
    "ny": "nguoi yeu", "bme": "bo me", "bm": "bo me", "ae": "anh em",
    # Huế / central words whose folded form is not another common word
    "ni": "nay", "rua": "vay", "eng": "anh",
}

_WORD = re.compile(r"\w+", re.UNICODE)


def strip_marks(text: str) -> str:
    """Lowercase, drop every combining mark and fold đ→d ("Hương Trà" → "huong tra")."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).replace("đ", "d")


def fold_word(word: str) -> str:
    """Fold one token: marks stripped, teencode expanded (may return several words)."""
    plain = strip_marks(word)
    return TEENCODE.get(plain, plain)


def fold(text: str) -> str:
    """Fold a whole message into space-separated plain words."""
    return " ".join(fold_word(w) for w in _WORD.findall(nfc(text)))


def nfc(text: str) -> str:
    """Canonical composition: what the gateway hands to every component."""
    return unicodedata.normalize("NFC", text)
