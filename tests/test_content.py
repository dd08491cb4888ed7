"""What residents read must be true: every phone number, legal citation and fine in the
answers (domain.yml responses and the gateway's own messages) is one that the verified
lines of shared/knowledge/facts.md support.

No Rasa import: only yaml and re, so this runs in a second. facts.md lives in the shared
folder beside the repository (../shared/knowledge/facts.md); when it is absent the in-test
allow-lists below (copied from it) are used, and when it is present they must agree with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_FILE = ROOT / "domain.yml"
GATEWAY_FILE = ROOT / "bot" / "content" / "gateway.yml"
FACTS_FILE = ROOT.parent / "shared" / "knowledge" / "facts.md"

MAX_CHARS = 1200
MAX_BUTTONS = 6
MAX_TITLE = 40

# --- allow-lists (copied from facts.md; checked against it when it is present) -------------

# facts.md §2: verified hotlines only (1800 1567, 1900 969 680, the national DV hotline and
# a Huế legal-aid number are marked UNVERIFIED / NOT FOUND / UNKNOWN there).
FALLBACK_NUMBERS = {"111", "112", "113", "114", "115", "18001233"}

# facts.md §1.4: Nghị định 282/2025/NĐ-CP fine ranges (triệu đồng) and the two maxima.
FALLBACK_FINE_RANGES = {(2, 5), (5, 10), (10, 20), (20, 30), (6, 8)}
# facts.md §6.1: the court fee of a divorce with no property dispute (NQ 326/2016).
COURT_FEE = "Án phí ly hôn không tranh chấp tài sản: 300.000 đồng"
FALLBACK_FINE_SINGLES = {30, 60}

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
    (r"Luật\s+Phòng,?\s+chống\s+bạo\s+lực\s+gia\s+đình\s+(?:năm\s+)?2007", "the 2007 law was replaced by Luật 13/2022/QH15"),
    (r"Nghị\s+định\s+(?:số\s+)?08/2009", "NĐ 08/2009 is obsolete"),
]

REQUIRED_RESPONSES = """
utter_greet utter_goodbye utter_thank utter_menu utter_bot_challenge utter_privacy
utter_what_is_violence utter_forms_violence utter_rights utter_how_to_report
utter_protection_order utter_penalties utter_legal_aid utter_child_abuse
utter_sexual_harassment utter_divorce_custody utter_help_someone_else utter_perpetrator_help
utter_letter_heard utter_ask_danger utter_ask_danger_other utter_answer_intro utter_letter_next
utter_ask_safe_to_talk utter_safe_to_talk_yes utter_safe_to_talk_no
utter_disclose_options utter_emotional_support utter_urgent utter_urgent_other utter_self_harm
utter_subscribe utter_unsubscribe utter_ask_erase utter_erase_cancelled utter_quick_exit
utter_out_of_scope utter_chitchat utter_affirm_no_context utter_risk_intro utter_risk_result_high
utter_risk_result_lower utter_safety_plan utter_ask_share_risk utter_contact_noted
""".split() + [f"utter_risk_q{n}" for n in range(1, 11)]
# Every topic the letter reader can find has its own short answer (bot/nlu/letters.py).
TOPIC_RESPONSES = [f"utter_topic_{t}" for t in (
    "physical psychological economic sexual_violence child_abuse divorce custody property protection_order "
    "report_police penalties forensic legal_aid shelter harassment online_abuse trafficking forced_marriage "
    "elder_abuse mediation threats_stalking self_harm help_other perpetrator emotional").split()]
TOPIC_MAX_CHARS = 600
# No buttons of their own: the farewell; what is always followed by another message with
# buttons (acknowledgement, intro, a topic answer, the safety plan); the self-check questions
# and the contact notes, whose buttons the action adds or the gateway follows up.
NO_BUTTONS = {
    "utter_goodbye", "utter_urgent_other", "utter_letter_heard", "utter_answer_intro", "utter_safety_plan", "utter_risk_intro",
    "utter_contact_noted", "utter_contact_noted_shared", *TOPIC_RESPONSES, *(f"utter_risk_q{n}" for n in range(1, 11)),
}
GATEWAY_KEYS = {
    "degraded", "emergency", "ask_danger", "rate_limited", "bad_request", "too_large",
    "erased", "safe_word_reply", "demo_banner", "contact_queued", "contact_unavailable",
    "escalation_alerting_other",
}

# --- facts.md parsing --------------------------------------------------------------------

UNVERIFIED_MARK = re.compile(r"UNVERIFIED|NOT FOUND|UNKNOWN")


def _facts_text() -> str | None:
    return FACTS_FILE.read_text(encoding="utf-8") if FACTS_FILE.exists() else None


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    level = heading.split()[0] + " "
    rest = text[start + len(heading):]
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


FACTS = _facts_text()
ALLOWED_NUMBERS = facts_numbers(FACTS) if FACTS else FALLBACK_NUMBERS
FINE_RANGES, FINE_SINGLES = facts_fines(FACTS) if FACTS else (FALLBACK_FINE_RANGES, FALLBACK_FINE_SINGLES)

# --- extractors --------------------------------------------------------------------------

ARTS = r"\d+(?:\s*(?:,|và|/|hoặc)\s*(?:Điều\s+)?\d+)*"
CITE_RE = re.compile(
    rf"Điều\s+(?P<arts>{ARTS})(?P<sub>(?:\s*,?\s*(?:khoản|điểm)\s+[0-9a-zđ]+)*)(?=(?P<rest>[^\n]{{0,80}}))"
)
MASKS = [
    re.compile(rf"Điều\s+{ARTS}"),  # article numbers
    re.compile(r"\d+(?:/[0-9A-Za-zĐđ-]+)+"),  # 282/2025/NĐ-CP, 13/2022/QH15, 15/12/2025, 24/7
    re.compile(r"(?:khoản|điểm)\s+\w+"),
    re.compile(r"\d+\s*(?:m|mét|km|giờ|ngày|tháng|năm|tuổi|triệu|%)\b"),
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


# --- loading -----------------------------------------------------------------------------

DOMAIN = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
RESPONSES = DOMAIN.get("responses") or {}
GATEWAY = yaml.safe_load(GATEWAY_FILE.read_text(encoding="utf-8")) if GATEWAY_FILE.exists() else {}
INTENTS = set(DOMAIN["intents"])
ENTITIES = set(DOMAIN.get("entities") or [])

TEXTS = [
    pytest.param(variant.get("text", ""), id=f"{name}[{i}]")
    for name, variants in RESPONSES.items()
    for i, variant in enumerate(variants)
] + [pytest.param(text, id=f"gateway:{name}") for name, text in GATEWAY.items()]
VARIANTS = [
    pytest.param(name, variant, id=f"{name}[{i}]")
    for name, variants in RESPONSES.items()
    for i, variant in enumerate(variants)
]


# --- the extractors can fail -------------------------------------------------------------


@pytest.mark.parametrize(
    "sample",
    [
        "Gọi 1800 1567 để được tư vấn.",
        "Gọi tổng đài 1900 969 680.",
        "Số điện thoại: 0234.896.392",
        "Đánh vợ bị phạt 50–70 triệu đồng.",
        "Đánh đập: 10–20 triệu đồng",
        "Phạt đến 100 triệu đồng.",
        "Phạt 500.000 đồng.",
        "Theo Điều 53 Nghị định 282/2025/NĐ-CP.",
        "Theo Điều 52 Nghị định 144/2021/NĐ-CP.",
        "Theo Điều 29 Luật Phòng, chống bạo lực gia đình 2022.",
        "Theo Điều 9 Luật Phòng, chống bạo lực gia đình 2007.",
        "Theo Điều 25 luật này.",
        "Điều 141 khoản 3 Bộ luật Hình sự: tù 12–18 năm.",
        "Điều 3 khoản 1 điểm m Luật Phòng, chống bạo lực gia đình 2022.",
        "Không được lại gần trong vòng 30 m.",
        "Án phí ly hôn: 500.000 đồng.",
        "Theo Điều 52 Luật Hôn nhân và gia đình 2014.",
        "Gọi 1800 1234 để được trợ giúp pháp lý.",
        "Quấy rối ở nơi làm việc bị phạt 15–30 triệu (Điều 8 Nghị định 282/2025/NĐ-CP).",
    ],
)
def test_wrong_sample_is_flagged(sample):
    assert problems(sample), f"not flagged: {sample!r}"


@pytest.mark.parametrize(
    "sample",
    [
        "Gọi 113, bị thương gọi 115, trẻ em gọi 111.",
        "Điều 25 Luật Phòng, chống bạo lực gia đình 2022: tối đa 03 ngày, quyết định trong 12 giờ.",
        "Đánh đập: 5–10 triệu đồng (Điều 37 Nghị định 282/2025/NĐ-CP, hiệu lực 15/12/2025).",
        "Trong phạm vi 100 m (Điều 19 Nghị định 76/2023/NĐ-CP).",
        "Điều 7 khoản 7 điểm e Luật Trợ giúp pháp lý 2017; Điều 6 và Điều 8 Luật Trợ giúp pháp lý 2017.",
        "Điều 134, 185, 141 Bộ luật Hình sự: tù 6 tháng–3 năm.",
    ],
)
def test_correct_sample_is_not_flagged(sample):
    assert problems(sample) == []


def test_allow_lists_agree_with_facts():
    if FACTS is None:
        pytest.skip(f"{FACTS_FILE} not present; using the in-test allow-lists")
    assert FALLBACK_NUMBERS == facts_numbers(FACTS)
    assert (FALLBACK_FINE_RANGES, FALLBACK_FINE_SINGLES) == facts_fines(FACTS)
    for doc, articles in ALLOWED_ARTICLES.items():
        sections = " ".join(_section(FACTS, heading) for heading in FACTS_SECTIONS[doc])
        for art in articles:
            assert re.search(rf"(?:Điều|Đ|BLHS|BLTTHS)\s*{art}\b|\b{art}\b", sections), (doc, art)
    assert "300.000 đ" in _section(FACTS, "### 6.1")


# --- the content -------------------------------------------------------------------------


def test_every_required_answer_exists():
    assert set(REQUIRED_RESPONSES) <= set(RESPONSES)
    assert set(TOPIC_RESPONSES) <= set(RESPONSES)
    assert GATEWAY_KEYS <= set(GATEWAY)


def test_every_topic_of_the_letter_reader_has_a_short_answer_that_names_it_first():
    from bot.nlu.letters import TOPICS

    assert [f"utter_topic_{t}" for t in TOPICS] == TOPIC_RESPONSES
    for name in TOPIC_RESPONSES:
        text = RESPONSES[name][0]["text"]
        assert len(text) <= TOPIC_MAX_CHARS, name
        assert text.startswith("Về "), name
        assert "Việc bạn có thể làm hôm nay" in text, name


DANGER = re.compile(r"nguy\s+hiểm", re.I)


def test_no_reply_that_mentions_danger_asks_another_yes_no_question():
    """After a mention of danger, "có" confirms the danger (bot/conversation/core.py): a reply
    that speaks of danger must not also ask a different yes/no question."""
    for name, variants in RESPONSES.items():
        for variant in variants:
            payloads = {b["payload"] for b in variant.get("buttons") or []}
            if DANGER.search(variant.get("text") or ""):
                assert "/affirm" not in payloads, name


@pytest.mark.parametrize("text", TEXTS)
def test_text_is_supported_by_facts(text):
    assert text.strip()
    assert problems(text) == []


@pytest.mark.parametrize("text", TEXTS)
def test_text_fits_a_phone_screen(text):
    assert len(text) < MAX_CHARS


@pytest.mark.parametrize("name,variant", VARIANTS)
def test_buttons_name_known_intents(name, variant):
    buttons = variant.get("buttons") or []
    if name not in NO_BUTTONS:
        assert 1 <= len(buttons) <= MAX_BUTTONS
    for button in buttons:
        assert button["title"].strip() and len(button["title"]) <= MAX_TITLE
        match = re.fullmatch(r"/(\w+)(\{.*\})?", button["payload"])
        assert match, button["payload"]
        assert match.group(1) in INTENTS, button["payload"]
        if match.group(2):
            assert set(json.loads(match.group(2))) <= ENTITIES, button["payload"]


def _payloads(name: str) -> dict[str, str]:
    return {b["title"]: b["payload"] for b in RESPONSES[name][0]["buttons"]}


def test_fixed_button_contracts():
    assert _payloads("utter_ask_safe_to_talk") == {
        "Có, mình nói chuyện được": "/affirm",
        "Không an toàn lúc này": "/deny",
        "Tôi đang gặp nguy hiểm": "/urgent_danger",
    }
    assert _payloads("utter_ask_erase") == {"Xóa hết": "/affirm", "Không xóa": "/deny"}


def test_emergency_answers_put_113_first():
    for text in (RESPONSES["utter_urgent"][0]["text"], GATEWAY["emergency"]):
        assert phone_numbers(text)[0] == "113"
        assert {"113", "115", "111"} <= set(phone_numbers(text))
        assert "trợ lý tự động" in text
    assert {"113", "115", "111"} <= set(phone_numbers(GATEWAY["degraded"]))
    assert GATEWAY["ask_danger"] == "Bạn có đang gặp nguy hiểm ngay lúc này không?"


def test_self_harm_answer_points_to_115_and_no_invented_line():
    text = RESPONSES["utter_self_harm"][0]["text"]
    assert "115" in phone_numbers(text)
    assert set(phone_numbers(text)) <= {"113", "115"}


ALERT_CLAIM = re.compile(r"(?:đang|đã|sẽ)\s+(?:gửi\s+cảnh\s+)?báo\s+(?:cho\s+|đến\s+|tới\s+)?cán\s+bộ", re.IGNORECASE)


def test_only_the_escalation_message_says_an_officer_is_being_alerted():
    """The gateway sends `escalation_alerting` only after a case was opened and someone on
    duty can be reached; no other text may claim that an officer is alerted."""
    alerting = ("escalation_alerting", "escalation_alerting_other")
    assert all(ALERT_CLAIM.search(GATEWAY[k]) for k in alerting)
    others = [(f"gateway:{k}", v) for k, v in GATEWAY.items() if k not in alerting]
    others += [(name, item["text"]) for name, items in RESPONSES.items() for item in items if item.get("text")]
    assert [name for name, text in others if ALERT_CLAIM.search(text)] == []
    assert "113" in GATEWAY["escalation_unreached"]
