"""The content check: every phone number, legal citation, fine and prison term a resident or
officer can read must be one that the verified lines of docs/facts.md (the repository's copy of
../shared/knowledge/facts.md) support. tests/content/test_content.py enforces it on every text;
`make content-review` writes docs/content_review.md from it.

Only yaml, ast and re: no Rasa import.
"""

from __future__ import annotations

import ast
import json
import re

import yaml

from bot.config import ROOT
from bot.content import texts

DOMAIN_FILE = ROOT / "domain.yml"
FACTS_FILE = ROOT / "docs" / "facts.md"
SHARED_FACTS_FILE = ROOT.parent / "shared" / "knowledge" / "facts.md"
WEB = ROOT / "bot" / "channels" / "static"
CONSOLE_TEMPLATES = ROOT / "bot" / "console" / "templates"
PYTHON_TEXTS = [
    "actions/*.py", "bot/*.py", "bot/channels/*.py", "bot/conversation/*.py", "bot/geo/*.py", "bot/services/*.py",
    "bot/services/*/*.py", "bot/console/*.py",
]


# --- allow-lists (checked against docs/facts.md) -------------------------------------------

# facts.md §6.1: the court fee of a divorce with no property dispute (NQ 326/2016).
COURT_FEE = "Án phí ly hôn không tranh chấp tài sản: 300.000 đồng"

# Which range goes with which act (facts.md §1.4), checked when a line names both.
FINE_FOR_ACT = {
    "đe dọa": (2, 5),
    "đánh đập": (5, 10),
    "lăng mạ": (5, 10),
    "chì chiết": (5, 10),
    "cấp dưỡng": (5, 10),
    "hành hạ": (10, 20),
    "ngược đãi": (10, 20),
    "tiết lộ": (10, 20),
    "phát tán": (10, 20),
    "không giáo dục": (10, 20),
    "quan hệ tình dục": (20, 30),
    "kiểm soát": (20, 30),
    "giam cầm": (20, 30),
}

# facts.md §1.5: prison terms (years; "6 tháng–3 năm" as ("6 tháng", 3)). Đ141 khoản 3
# (12–18 năm) is UNVERIFIED and deliberately absent.
PRISON_TERMS = {("6 tháng", 3), (2, 5), (2, 7), (7, 15), (5, 10), (8, 15), (12, 20), (7, 12), (18, 20)}

# (document, article) pairs whose content facts.md verifies. Deliberately absent:
# PCBLGĐ Điều 29 and 37 (UNVERIFIED), NĐ 282 Điều 45, 46, 53 (amounts UNVERIFIED).
ALLOWED_ARTICLES = {
    "PCBLGD": {2, 3, 9, 19, 25, 26, 36},
    "ND76": {7, 14, 18, 19, 20},
    "ND282": {6, 8, 37, 38, 39, 40, 41, 43, 44},
    "BLHS": {134, 141, 142, 145, 150, 151, 170, 185, 288, 326},
    "TGPL": {6, 7, 8, 11},
    "BDG": {5, 10},
    "HNGD": {5, 8, 51, 56, 59, 63, 81, 82, 116},  # facts.md §6.1, §6.7
    "BLTTHS": {62, 136, 147, 155, 206, 208},  # §6.2, §6.3, §6.10
    "BLLD": {3, 8, 35},  # §6.4
    "PCMBN": {37},  # §6.6
    "NCT": {9, 10},  # §6.8
    "HGCS": {3, 4},  # §6.9
}
# Sub-citations facts.md does not support.
FORBIDDEN_SUBCITES = [
    ("BLHS", 141, r"khoản\s+3"),  # Đ141 k3 penalty UNVERIFIED
    ("PCBLGD", 3, r"điểm\s+[lmnopq]\b"),  # Điều 3 points l–q wording UNVERIFIED
]
# Sections of facts.md that back each document (for the consistency check).
FACTS_SECTIONS = {
    "PCBLGD": ("### 1.1",),
    "ND76": ("### 1.2",),
    "BDG": ("### 1.3",),
    "ND282": ("### 1.4", "### 6.4"),
    "BLHS": ("### 1.5", "### 6.2", "### 6.5"),
    "TGPL": ("### 1.6",),
    "HNGD": ("### 6.1", "### 6.7"),
    "BLTTHS": ("### 6.2", "### 6.3", "### 6.10"),
    "BLLD": ("### 6.4",),
    "PCMBN": ("### 6.6",),
    "NCT": ("### 6.8",),
    "HGCS": ("### 6.9",),
}

# How each document is named right after "Điều N [khoản k] [điểm x]"; the year, when
# written, must be the current one.
DOCUMENTS = [
    ("PCBLGD", r"Luật\s+(?:Phòng,?\s+chống\s+bạo\s+lực\s+gia\s+đình|PCBLGĐ)(?:\s+(?:năm\s+)?(\d{4}))?", "2022"),
    ("ND76", r"Nghị\s+định\s+(?:số\s+)?76/(\d{4})", "2023"),
    ("ND282", r"Nghị\s+định\s+(?:số\s+)?282/(\d{4})", "2025"),
    ("BLHS", r"Bộ\s+luật\s+Hình\s+sự(?:\s+(?:năm\s+)?(\d{4}))?", "2015"),
    ("TGPL", r"Luật\s+Trợ\s+giúp\s+pháp\s+lý(?:\s+(?:năm\s+)?(\d{4}))?", "2017"),
    ("BDG", r"Luật\s+Bình\s+đẳng\s+giới(?:\s+(?:năm\s+)?(\d{4}))?", "2006"),
    ("HNGD", r"Luật\s+Hôn\s+nhân\s+và\s+gia\s+đình(?:\s+(?:năm\s+)?(\d{4}))?", "2014"),
    ("BLTTHS", r"Bộ\s+luật\s+Tố\s+tụng\s+hình\s+sự(?:\s+(?:năm\s+)?(\d{4}))?", "2015"),
    ("BLLD", r"Bộ\s+luật\s+Lao\s+động(?:\s+(?:năm\s+)?(\d{4}))?", "2019"),
    ("PCMBN", r"Luật\s+Phòng,?\s+chống\s+mua\s+bán\s+người(?:\s+(?:năm\s+)?(\d{4}))?", "2024"),
    ("NCT", r"Luật\s+Người\s+cao\s+tuổi(?:\s+(?:năm\s+)?(\d{4}))?", "2009"),
    ("HGCS", r"Luật\s+Hòa\s+giải\s+ở\s+cơ\s+sở(?:\s+(?:năm\s+)?(\d{4}))?", "2013"),
]

# Things that must never reach a resident (case-insensitive regexes).
FORBIDDEN = [
    (r"1800\s*\.?1567", "old child line 1800 1567 (replaced by 111; current use UNVERIFIED)"),
    (r"144/2021", "Nghị định 144/2021 was replaced by Nghị định 282/2025"),
    (r"(?<!\d)30\s*(?:m|mét)\b", "the 30 m rule is obsolete (100 m, NĐ 76/2023 Điều 19)"),
    (r"12\s*[–—-]\s*18\s*năm", "Đ141 khoản 3 penalty is UNVERIFIED"),
    (r"thị\s+xã\s+Hương\s+Trà", "thị xã Hương Trà no longer exists (2025 merger)"),
    (
        r"Luật\s+Phòng,?\s+chống\s+bạo\s+lực\s+gia\s+đình\s+(?:năm\s+)?2007",
        "the 2007 law was replaced by Luật 13/2022/QH15",
    ),
    (r"Nghị\s+định\s+(?:số\s+)?08/2009", "NĐ 08/2009 is obsolete"),
    (r"(?:NĐ|Nghị\s+định)\s*(?:số\s+)?(?:144/2021|12/2022|15/2020|14/2022)", "a replaced decree (facts.md §6)"),
]

# A first line that names any of these could tell an abuser reading a lock screen what the
# chat is about (tests/content/test_content.py checks the product's first messages; campaigns are
# checked when they are created).
REVEALING = re.compile(
    r"bạo\s+lực|bạo\s+hành|xâm\s+hại|đánh|hiếp|nguy\s+hiểm|cán\s+bộ|công\s+an|tự\s+tử|tố\s+giác|khẩn\s+cấp", re.I
)

# --- facts.md parsing --------------------------------------------------------------------

UNVERIFIED_MARK = re.compile(r"UNVERIFIED|NOT FOUND|UNKNOWN")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    level = heading.split()[0] + " "
    rest = text[start + len(heading) :]
    match = re.search(rf"^#{{2,{len(level) - 1}}} ", rest, re.M)
    return rest[: match.start()] if match else rest


def facts_numbers(text: str) -> set[str]:
    """Numbers in the hotline table whose row is not marked UNVERIFIED / NOT FOUND, and the
    hotlines added in §6.15 ("- 1800 1233: …")."""
    numbers = set()
    for line in _section(text, "## 2. Hotlines").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or UNVERIFIED_MARK.search(line):
            continue
        if re.fullmatch(r"\d[\d .]*\d", cells[0]):
            numbers.add(re.sub(r"\D", "", cells[0]))
    for line in _section(text, "### 6.15").splitlines():
        match = re.match(r"- (\d[\d ]*\d):", line)
        if match and not UNVERIFIED_MARK.search(line):
            numbers.add(re.sub(r"\D", "", match.group(1)))
    return numbers


def facts_fines(text: str) -> tuple[set[tuple[int, int]], set[int]]:
    """NĐ 282/2025 ranges from verified bullets of §1.4 and the NĐ 282 lines of §6.4, and the
    stated maxima."""
    ranges, singles = set(), set()
    for line in _section(text, "### 1.4").splitlines():
        if UNVERIFIED_MARK.search(line) or line.startswith("- Historical"):
            continue
        if line.startswith("- "):
            ranges |= {(int(a), int(b)) for a, b in re.findall(r"(\d+)–(\d+) tr\b", line)}
        elif line.startswith("Max"):
            singles |= {int(n) for n in re.findall(r"(\d+) triệu", line)}
    for line in _section(text, "### 6.4").splitlines():
        for clause in re.split(r"(?<=\.)\s", line):
            if "282" in clause or "Đ8 k5" in clause:
                ranges |= {(int(a), int(b)) for a, b in re.findall(r"(\d+)–(\d+) tr\b", clause)}
    return ranges, singles


FACTS = FACTS_FILE.read_text(encoding="utf-8")
ALLOWED_NUMBERS = facts_numbers(FACTS)
FINE_RANGES, FINE_SINGLES = facts_fines(FACTS)

# --- extractors --------------------------------------------------------------------------

ARTS = r"\d+(?:\s*(?:,|và|/|hoặc)\s*(?:Điều\s+)?\d+)*"
CITE_RE = re.compile(
    rf"Điều\s+(?P<arts>{ARTS})(?P<sub>(?:\s*,?\s*(?:khoản|điểm)\s+[0-9a-zđ]+)*)(?=(?P<rest>[^\n]{{0,80}}))"
)
MASKS = [
    re.compile(rf"Điều\s+{ARTS}"),  # article numbers
    re.compile(r"\d+(?:/[0-9A-Za-zĐđ-]+)+"),  # 282/2025/NĐ-CP, 13/2022/QH15, 15/12/2025, 24/7
    re.compile(r"(?:khoản|điểm)\s+\w+"),
    re.compile(r"\d+\s*(?:(?:m|mét|km|giờ|ngày|tháng|năm|tuổi|triệu)\b|%)"),  # "%" then a space has no \b
]
YEAR_RE = re.compile(r"((?:Luật|luật|năm)[^\d\n]{0,60}?)(?<!\d)((?:19|20)\d\d)(?!\d)")
PHONE_RE = re.compile(r"(?<!\d)\+?\d(?:[ .]?\d){2,}(?!\d)")
DASH = r"\s*(?:–|—|-|đến)\s*"
MONEY_RE = re.compile(rf"(?<![\d.,])(\d+(?:[.,]\d+)?)(?:{DASH}(\d+(?:[.,]\d+)?))?\s*triệu")
OTHER_MONEY_RE = re.compile(r"\d[\d.,]*\s*(?:tỷ|tỉ|nghìn|ngàn|đồng|đ\b|VNĐ|VND)", re.I)
PRISON_RE = re.compile(rf"(?<!\d)(\d+)\s*(tháng)?{DASH}(\d+)\s*năm")
DOC_NUMBER_RE = re.compile(r"Nghị\s+định\s+(?:số\s+)?(\d+/\d{4})")


def _mask(text: str) -> str:
    for pattern in MASKS:
        text = pattern.sub(lambda m: "#" * len(m.group(0)), text)
    return YEAR_RE.sub(lambda m: m.group(1) + "#" * len(m.group(2)), text)


def phone_numbers(text: str) -> list[str]:
    """Every phone-number-like token (3+ digits, optional spaces/dots), digits only."""
    return [re.sub(r"\D", "", m.group(0)) for m in PHONE_RE.finditer(_mask(text))]


def citations(text: str) -> list[tuple[str | None, int, str, str]]:
    """(document or None, article, khoản/điểm text, the citation as written)."""
    found = []
    for m in CITE_RE.finditer(text):
        rest = m.group("rest").lstrip(" (")
        rest = re.sub(r"^của\s+", "", rest)
        doc, year_ok = None, True
        for name, pattern, year in DOCUMENTS:
            dm = re.match(pattern, rest)
            if dm:
                doc, year_ok = name, dm.group(1) in (None, year)
                break
        for art in re.findall(r"\d+", m.group("arts")):
            found.append((doc if year_ok else None, int(art), m.group("sub"), m.group(0) + rest[:40]))
    return found


def _num(raw: str) -> float:
    return float(raw.replace(",", "."))


def money(text: str) -> list[tuple[float, float | None, int]]:
    return [(_num(m.group(1)), _num(m.group(2)) if m.group(2) else None, m.start()) for m in MONEY_RE.finditer(text)]


def problems(text: str) -> list[str]:
    """Everything in one resident-facing text that facts.md does not support."""
    found = []
    for number in phone_numbers(text.replace(COURT_FEE, "")):
        if number not in ALLOWED_NUMBERS:
            found.append(f"phone number {number} is not a verified hotline")
    for doc, art, sub, written in citations(text):
        if doc is None:
            found.append(f"citation without a known current document: {written!r}")
        elif art not in ALLOWED_ARTICLES[doc]:
            found.append(f"{doc} Điều {art} is not supported by facts.md: {written!r}")
        else:
            for fdoc, fart, fsub in FORBIDDEN_SUBCITES:
                if (doc, art) == (fdoc, fart) and re.search(fsub, sub):
                    found.append(f"unverified sub-citation {written!r}")
    for number in DOC_NUMBER_RE.findall(text):
        if number not in ("282/2025", "76/2023"):
            found.append(f"Nghị định {number} is not a current decree in facts.md")
    for lo, hi, _ in money(text):
        if hi is None and lo not in FINE_SINGLES:
            found.append(f"amount {lo:g} triệu is not in NĐ 282/2025")
        elif hi is not None and (lo, hi) not in FINE_RANGES:
            found.append(f"range {lo:g}–{hi:g} triệu is not in NĐ 282/2025")
    other = OTHER_MONEY_RE.search(re.sub(r"triệu\s+đồng", "triệu", text.replace(COURT_FEE, "")))
    if other:
        found.append(f"money amount not in triệu: {other.group(0)!r}")
    for clause in re.split(r"[\n;]", text):
        amounts = money(clause)
        if len(amounts) != 1 or amounts[0][1] is None:
            continue
        lo, hi, where = amounts[0]
        for act, expected in FINE_FOR_ACT.items():
            if act in clause[:where].lower() and (lo, hi) != expected:
                found.append(f"'{act}' is fined {expected[0]}–{expected[1]} triệu, not {lo:g}–{hi:g}")
    for lo, months, hi in PRISON_RE.findall(text):
        term = (f"{lo} tháng", int(hi)) if months else (int(lo), int(hi))
        if term not in PRISON_TERMS:
            found.append(f"prison term {term} is not in facts.md")
    flat = re.sub(r"\s+", " ", text)
    for pattern, why in FORBIDDEN:
        if re.search(pattern, flat, re.I):
            found.append(why)
    return found


def sources(text: str) -> list[str]:
    """The sections of facts.md that back what `text` states (numbers, citations, money)."""
    found = set()
    for number in phone_numbers(text.replace(COURT_FEE, "")):
        found.add("§6.15" if number == "18001233" else "§2")
    for doc, _art, _sub, _written in citations(text):
        if doc:
            found.update("§" + heading.split()[1] for heading in FACTS_SECTIONS[doc])
    if money(text):
        found.add("§1.4")
    if COURT_FEE in text or "300.000" in text:
        found.add("§6.1")
    if PRISON_RE.search(text):
        found.add("§1.5")
    return sorted(found, key=lambda s: [int(n) for n in s[1:].split(".")])


# --- loading -----------------------------------------------------------------------------

DOMAIN = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
RESPONSES = DOMAIN.get("responses") or {}
TEXTS = texts()
INTENTS = set(DOMAIN["intents"])
ENTITIES = set(DOMAIN.get("entities") or [])

VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I)


def python_texts() -> dict[str, str]:
    """Every Vietnamese string literal in the code that talks to people (not docstrings, not
    the lexicons of bot/nlu), keyed by file:line."""

    texts = {}
    for path in sorted(p for pattern in PYTHON_TEXTS for p in ROOT.glob(pattern)):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if VIETNAMESE.search(node.value):
                    texts[f"{path.relative_to(ROOT)}:{node.lineno}"] = node.value
    return texts


def web_texts() -> dict[str, str]:
    """The web page's visible text and the strings of its script (concatenations joined)."""
    script = (WEB / "app.js").read_text(encoding="utf-8")
    script = re.sub(r"^\s*//.*$|/\*.*?\*/", "", script, flags=re.M | re.S)
    script = re.sub(r'"\s*\+\s*"', "", script)
    strings = [json.loads(f'"{m}"') for m in re.findall(r'"((?:[^"\\\n]|\\.)*)"', script)]
    texts = {f"app.js:{i}": t for i, t in enumerate(strings) if VIETNAMESE.search(t)}
    page = re.sub(r"<[^>]+>", "\n", (WEB / "index.html").read_text(encoding="utf-8"))
    texts.update(
        {f"index.html:{i}": line.strip() for i, line in enumerate(page.splitlines()) if VIETNAMESE.search(line)}
    )
    for template in sorted(CONSOLE_TEMPLATES.glob("*.html")):  # the web console's labels
        page = re.sub(r"\{[{%].*?[%}]\}|<[^>]+>", "\n", template.read_text(encoding="utf-8"), flags=re.S)
        texts.update({f"console/{template.name}:{i}": line.strip()
                      for i, line in enumerate(page.splitlines()) if VIETNAMESE.search(line)})
    return texts


PYTHON = python_texts()
PAGE = web_texts()
