"""The safety net: a lexicon over the whole folded message, independent of Rasa.

It runs in the gateway on every message before Rasa is asked, so an emergency is still
recognised when Rasa is down or misclassifies. Patterns are written on folded text
(no marks, teencode expanded: see bot/nlu/normalize.py), so "cứu tôi", "cuu toi" and
"cuu t" are the same. Idioms ("cười muốn chết", "nóng chết đi được") are removed first,
and a match preceded closely by a negation ("không có ai đánh tôi cả") does not count.

Levels: "urgent" → emergency reply at once (and escalation); "ask" → ask whether the
person is in danger right now; "none".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.normalize import fold, nfc

# Someone: the abuser or "I" as object. Folded words.
_ME = r"(toi|em|minh|con|chau|me|chi|tao|be|co|ba|vo)"
_HIM = r"(no|ong|ong ay|ong ta|chong|anh|anh ay|anh ta|hanh|han|thang|bo|ba|cha|bo duong|cha duong|nguoi yeu|ban trai|ho|chong cu|ong xa|ong chong|ba ay|me chong|anh trai|em trai)"
_NOW = r"(dang|vua|moi|bay gio|luc nay|ngay bay gio|toi nay|dem nay|sap|chuan bi)"
_WEAPON = r"(dao|rua|bua|gay|kiem|keo|xa beng|sung|xang|axit|a xit|dao phay|chai)"

URGENT: dict[str, list[str]] = {
    "danger_to_life": [
        rf"\bcuu\b( {_ME}| voi| giup| tui)",
        r"\b(help|sos|help me)\b",
        r"\bcuu (voi|toi|em|con|minh|chau|me|chi|tui)\b",
        rf"\b{_NOW}( \w+){{0,3}} (danh|dam|chem|bop co|siet co|dap|dot|tat xang|dam chet|giet)\b",
        rf"\b(cam|cam theo|vung|lay|cam san|mai|cam cai|cam con) ?(cai |con |cay |chai )?{_WEAPON}\b",
        rf"\b{_WEAPON} (ke|ke vao|ke co|ke sat|chem|dam|doa)\b",
        r"\b(doa|de doa|tuyen bo|noi se|se|quyet) (giet|chem|dam|dot|tat xang|xit axit|tat axit|lam thit)\b",
        r"\bgiet (toi|em|chet|minh|me con|ca nha|con|het|chau|tui|vo)\b",
        r"\b(bop|siet|boc|that) co\b",
        r"\b(chay|mat|ra|ra nhieu|chay nhieu|be) mau\b",
        r"\bmau (chay|me|dam|khong cam)\b",
        r"\b(nhot|khoa trai|xich) (toi|em|minh|con|chau|me|tui|trong|vo)\b",
        r"\bbi (nhot|giam long|xich|troi|khoa trong|khoa trai)\b",
        r"\bkhong cho (ra khoi nha|ra ngoai|di ra|thoat|bo di)\b",
        r"\b(dot nha|tat xang|tam xang|xit axit|tat axit|phong hoa)\b",
        r"\b(ngat xiu|ngat di|bat tinh|gay xuong|gay tay|gay chan|be dau|thung dau)\b",
        r"\b(goi|bao) (cong an|canh sat|113|115) (giup|ho|giom|gium) (toi|em|minh|voi|tui|con)\b",
        r"\b(dang tron|phai tron|tron (trong|duoi|ra|sang|qua)|dang nap)\b",
        r"\bdang (gap |bi |o trong tinh trang )?(nguy hiem|nguy kich)\b",
        r"\b(danh|dam|chem) (chet|den chet|cho chet)\b",
        r"\bdang (bi )?danh\b",
        r"\bsap (bi )?(danh|giet|chet)\b",
    ],
    "sexual_violence": [
        r"\b(hiep dam|cuong hiep|hiep|cuong dam|hieu dam)\b",
        r"\b(xam hai|lam nhuc|cuong buc) (tinh duc|than the|em|toi|con|chau|be)\b",
        r"\b(ep|bat|cuong ep) (toi|em|con|chau|minh)? ?(quan he|ngu|lam chuyen do)\b.*\b(dang|vua|moi|dem nay|toi nay)\b",
        r"\bbi (xam hai|cuong buc|hiep|lam nhuc)\b",
    ],
    "trafficking": [
        r"\b(bi )?(ban|lua ban|dem ban|bat coc|bat di|lua) (sang|qua|di) (trung quoc|tq|campuchia|cam|lao|nuoc ngoai|bien gioi)\b",
        r"\b(mua ban nguoi|buon nguoi|bi ban|ban nguoi)\b",
        r"\b(giu|thu|lay) (het )?(giay to|ho chieu|cccd|can cuoc|chung minh)\b",
        r"\b(khong cho ve|khong duoc ve|bat lam gai|ep ban dam|ep lam gai)\b",
    ],
    "child": [
        r"\b(danh|dap|dam|chem|bop co|xam hai|hiep) (con|be|chau|dua nho|thang be|con be)\b.*\b(chay mau|ngat|bat tinh|dang|khong tho|chet)\b",
        r"\b(con|be|chau) (dang|vua) bi (danh|xam hai|hiep|bat|nhot|dam)\b",
        r"\b(bat coc|bat mat) (con|be|chau)\b",
    ],
    "self_harm": [
        r"\b(muon|se|dinh|tinh|chi muon|them) (chet|tu tu|tu sat|ket lieu|ra di mai mai)\b",
        r"\b(tu tu|tu sat|quyen sinh|tu ket lieu)\b",
        r"\bkhong (muon|thiet|con muon|con thiet|muon tiep tuc) song\b",
        r"\b(chan song|song lam gi|song de lam gi|song khong noi|chet cho xong|chet di cho roi|chet quach|chet cho roi)\b",
        r"\b(ket thuc|cham dut|ket lieu) (tat ca|cuoc doi|cuoc song|doi minh|mang song|het|moi thu)\b",
        r"\b(uong|nuot) (thuoc ngu|thuoc chuot|thuoc tru sau|ca vi thuoc|nhieu thuoc|het vi thuoc|ca lo thuoc|thuoc diet co|ca hop thuoc)\b",
        r"\b(cat|rach|rach|cua) (tay|co tay|mach|co)\b",
        r"\b(nhay|gieo minh) (song|cau|lau|xuong song|tu tang|xuong)\b",
        r"\btreo co\b",
        r"\b(bien mat|ra di) (mai mai|khoi the gioi nay|vinh vien)\b",
        r"\b(khong|chang) (con )?(ly do|gi) de song\b",
        r"\btu (lam dau|hanh ha|lam hai) (ban than|minh)\b",
        r"\b(dap|dam|dap dau|dam dau|dap dau minh) (dau )?vao (tuong|cua|ban|cot)\b",
        r"\b(lam dau|hanh ha|cao|cat|rach) (ban than|chinh minh)\b",
    ],
}

# Ambiguous words: ask before escalating.
ASK: list[str] = [
    r"\b(chet|giet|chem|danh dap|bop co|nhot|de doa|doa|so qua|so lam|run so|nguy hiem|khan cap|khong an toan|con dao|cam dao)\b",
    r"\b(danh|tat|dap|da|dam|xo|day) (toi|em|minh|tui|con|vo)\b",
]

# Idioms that contain alarming words but mean nothing alarming; removed before matching.
IDIOMS: list[str] = [
    r"\b(cuoi|nong|lanh|met|doi|vui|buon cuoi|no|ngai|buon ngu|ngon|thom|dep|de thuong|nho|yeu|ghet|ban|kho chiu|hoi hop|tuc|chan|thich|dau bung|so) (muon |gan |sap |den )?chet( di duoc| mat| roi| luon| di| thoi)?\b",
    r"\bchet (cuoi|me|tiet|thiet|dieng|roi|that)\b(?! (toi|em|minh|di))",
    r"\b(cuoi|vui|met|nong|doi) (xiu|ngat)\b",
    r"\b(dep|hay|ngon|cute|de thuong) (muon )?xiu\b",
    r"\b(giet thoi gian|het dat song|song chet mac bay|chet mot cai|sinh tu)\b",
    r"\bgiet (thit|ga|heo|lon|vit|bo|ca|muoi|kien|gian)\b",
    r"\b(dao|kiem) (tao|len|duoi|ly|nhu|thuat|kien|phai) ?\b(?=\b)",
    r"\b(phim|game|truyen|bai hat|tieu thuyet)( \w+){0,4} (giet|chet|mau|dam)\b",
    r"\b(khan cap|nguy hiem)( \w+){0,2} (khong|ko|a|nhi|the nao|la gi)\b$",
    r"\b(help|cuu) (desk|ho|tro|giup do cho nguoi khac)\b",
    r"\bcuu (tro|ho|nan|tinh|vot|the|canh|hoa)\b",
]

# Words whose folded form is also an alarming word, but which the resident typed with marks
# that settle the meaning: replaced by a neutral token before folding. Unaccented input
# keeps the alarming reading (recall first).
PHRASES: dict[str, str] = {
    "tự vẫn": "tự sát",  # suicide; "tư vấn" (advice) folds to the same letters
    "từ từ": "dần dần",  # slowly; "tự tử" (suicide) folds to "tu tu"
}
HOMOGRAPHS: frozenset[str] = frozenset(
    "vấn dạo đạo màu mẫu dám đám tròn trọn cưu giảm trời cảm cấm xíu bận gây "
    "từng".split()  # "từng" (used to) marks the past; "tung" (throw, publish photos) does not
)

# A negation or a past marker shortly before a match cancels it ("không có ai đánh tôi cả",
# "có lần còn bóp cổ em", "từng cầm dao dọa giết"): the ASK patterns then still ask whether
# the danger is now.
_NEGATION = re.compile(
    r"\b(khong|chua|chang|cha|dau co|khong co ai|chua bao gio|khong bao gio|het|thoi|dung)\b( \w+){0,3}$"
)
_PAST = re.compile(
    r"\b(nam ngoai|hoi truoc|ngay xua|truoc day|nam xua|da lau|x_tung|da tung|co lan|co lan con|lan truoc)\b( \w+){0,3}$"
)

_COMPILED = {cat: [re.compile(p) for p in pats] for cat, pats in URGENT.items()}
_ASK = [re.compile(p) for p in ASK]
_IDIOMS = [re.compile(p) for p in IDIOMS]
# Cries for help are never cancelled by a negation ("ko ai cứu em").
_NEVER_NEGATED = {"danger_to_life": {0, 1, 2}, "self_harm": set(range(14))}


@dataclass(frozen=True)
class Assessment:
    level: str  # "urgent" | "ask" | "none"
    category: str | None = None  # danger_to_life | sexual_violence | trafficking | child | self_harm
    rule: str | None = None  # "category:index" of the first pattern, for audits (never text)

    @property
    def urgent(self) -> bool:
        return self.level == "urgent"


NONE = Assessment("none")


def _clean(text: str) -> str:
    lowered = nfc(text).lower()
    for phrase, replacement in PHRASES.items():
        lowered = lowered.replace(phrase, replacement)
    words = (f"x_{w}" if w in HOMOGRAPHS else w for w in re.findall(r"\w+", lowered))
    folded = fold(" ".join(words))
    for idiom in _IDIOMS:
        folded = idiom.sub(" ", folded)
    return re.sub(r"\s+", " ", folded).strip()


def _negated(folded: str, start: int, past_too: bool = False) -> bool:
    before = folded[max(0, start - 40):start].rstrip()
    return bool(_NEGATION.search(before) or (past_too and _PAST.search(before)))


def assess(text: str) -> Assessment:
    """Classify the whole message; order of categories decides the reported category."""
    folded = _clean(text)
    if not folded:
        return NONE
    for category in ("self_harm", "child", "sexual_violence", "trafficking", "danger_to_life"):
        for index, pattern in enumerate(_COMPILED[category]):
            for match in pattern.finditer(folded):
                if index in _NEVER_NEGATED.get(category, set()) or not _negated(folded, match.start(), past_too=True):
                    return Assessment("urgent", category, f"{category}:{index}")
    for index, pattern in enumerate(_ASK):
        for match in pattern.finditer(folded):
            if not _negated(folded, match.start()):
                return Assessment("ask", None, f"ask:{index}")
    return NONE
