"""Vietnamese text folding for the NLU pipeline and the safety net.

Residents type with diacritics, without them, in teencode, with old tone placement
("hoà") and in NFD from some keyboards. Everything that compares words compares their
*folded* form: NFC, lowercase, marks stripped, đ→d (bot/vietnamese.py, shared with the
place names), teencode expanded. The original text is never changed, so entity offsets
stay valid.
"""

from __future__ import annotations

import re

from bot.vietnamese import nfc, strip_marks

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


def fold_word(word: str) -> str:
    """Fold one token: marks stripped, teencode expanded (may return several words)."""
    plain = strip_marks(word)
    return TEENCODE.get(plain, plain)


def fold(text: str) -> str:
    """Fold a whole message into space-separated plain words."""
    return " ".join(fold_word(w) for w in _WORD.findall(nfc(text)))


# --- Matching that respects the marks a resident typed -------------------------------------
# A pattern is written in Vietnamese with its marks ("giết cá"). A word typed with marks must
# match them exactly ("giết cả" is not "giết cá"); a word typed without any mark matches the
# pattern's bare letters ("giet ca"), because then nothing settles which word was meant.



def _bare(ch: str) -> str:
    return strip_marks(ch) if ch != "đ" else "d"


def marked_regex(pattern: str, exact: bool = False) -> re.Pattern:
    """Compile a pattern written with marks so that unmarked letters in the text also match
    (unless `exact`). Letters inside character classes are widened the same way."""
    pattern = nfc(pattern)
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        bare = _bare(ch)
        widen = not exact and ch.isalpha() and bare != ch and not escaped
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "[" and not in_class:
            in_class = True
            out.append(ch)
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        elif widen:
            out.append(ch + bare if in_class else f"[{ch}{bare}]")
        else:
            out.append(ch)
    return re.compile("".join(out))


def matchable(text: str) -> str:
    """Lowercase NFC words separated by single spaces, marks kept; a teencode word with no
    mark but đ is expanded ("ck" → "chong", "đg" → "dang"), other marked words stay as typed."""
    words = []
    for word in _WORD.findall(nfc(text).lower()):
        plain = strip_marks(word)
        words.append(TEENCODE.get(plain, word) if plain == word.replace("đ", "d") else word)
    return " ".join(words)

