"""What residents and officers read must be true and readable: every phone number, legal
citation and fine in every text (domain.yml responses, the gateway's messages, the texts written
in Python, the web page) is one that the verified lines of docs/facts.md support; every message
fits a phone screen; first messages show nothing on a lock screen.

docs/facts.md is the repository's copy of ../shared/knowledge/facts.md: any clone checks its
content against it, and when ../shared is beside the repository the copy must still agree.
No Rasa import: only yaml, ast and re, so this runs in a second.
"""

from __future__ import annotations

import json
import re

import pytest

from bot.content.check import (
    ALLOWED_ARTICLES,
    ALLOWED_NUMBERS,
    ENTITIES,
    FACTS,
    FACTS_SECTIONS,
    FINE_RANGES,
    INTENTS,
    PAGE,
    PYTHON,
    RESPONSES,
    REVEALING,
    SHARED_FACTS_FILE,
    TEXTS,
    _section,
    phone_numbers,
    problems,
)

MAX_CHARS = 600
MAX_BUTTONS = 6
MAX_TITLE = 40

REQUIRED_RESPONSES = (
    """
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
""".split()
    + [f"utter_risk_q{n}" for n in range(1, 11)]
)
# Every topic the letter reader can find has its own short answer (bot/nlu/letters.py).
TOPIC_RESPONSES = [
    f"utter_topic_{t}"
    for t in (
        "physical psychological economic sexual_violence child_abuse divorce custody property protection_order "
        "report_police penalties forensic legal_aid shelter harassment online_abuse trafficking forced_marriage "
        "elder_abuse mediation threats_stalking self_harm help_other perpetrator emotional"
    ).split()
]
TOPIC_MAX_CHARS = 600
# No buttons of their own: the farewell; what is always followed by another message with
# buttons (acknowledgement, intro, a topic answer, the safety plan); the self-check questions
# and the contact notes, whose buttons the action adds or the gateway follows up.
NO_BUTTONS = {
    "utter_goodbye",
    "utter_urgent_other",
    "utter_letter_heard",
    "utter_answer_intro",
    "utter_safety_plan",
    "utter_risk_intro",
    "utter_contact_noted",
    "utter_contact_noted_shared",
    *TOPIC_RESPONSES,
    *(f"utter_risk_q{n}" for n in range(1, 11)),
}
GATEWAY_KEYS = {
    "degraded",
    "emergency",
    "ask_danger",
    "rate_limited",
    "bad_request",
    "too_large",
    "erased",
    "safe_word_reply",
    "demo_banner",
    "contact_queued",
    "contact_unavailable",
    "escalation_alerting_other",
}

EVERY_TEXT = (
    [
        pytest.param(variant.get("text", ""), id=f"{name}[{i}]")
        for name, variants in RESPONSES.items()
        for i, variant in enumerate(variants)
    ]
    + [pytest.param(text, id=f"text:{name}") for name, text in TEXTS.items()]
    + [pytest.param(text, id=where) for where, text in {**PYTHON, **PAGE}.items()]
)
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
        "100% người có nhu cầu được trợ giúp.",  # a percentage is not a phone number
    ],
)
def test_correct_sample_is_not_flagged(sample):
    assert problems(sample) == []


@pytest.mark.skipif(not SHARED_FACTS_FILE.exists(), reason="../shared is not beside the repository")
def test_the_facts_copy_agrees_with_the_shared_facts():
    assert FACTS == SHARED_FACTS_FILE.read_text(encoding="utf-8"), (
        "refresh docs/facts.md from ../shared/knowledge/facts.md"
    )


def test_allow_lists_agree_with_facts():
    assert {"111", "113", "115", "18001233"} <= ALLOWED_NUMBERS
    assert not {"18001567", "1900969680"} & ALLOWED_NUMBERS  # marked UNVERIFIED there
    assert {(2, 5), (5, 10), (10, 20), (20, 30)} <= FINE_RANGES
    for doc, articles in ALLOWED_ARTICLES.items():
        sections = " ".join(_section(FACTS, heading) for heading in FACTS_SECTIONS[doc])
        for art in articles:
            assert re.search(rf"(?:Điều|Đ|BLHS|BLTTHS)\s*{art}\b|\b{art}\b", sections), (doc, art)
    assert "300.000 đ" in _section(FACTS, "### 6.1")


# --- the content -------------------------------------------------------------------------


def test_every_required_answer_exists():
    assert set(REQUIRED_RESPONSES) <= set(RESPONSES)
    assert set(TOPIC_RESPONSES) <= set(RESPONSES)
    assert GATEWAY_KEYS <= set(TEXTS)


def test_every_topic_of_the_letter_reader_has_a_short_answer_that_names_it_first():
    from bot.nlu.letters import TOPICS

    assert [f"utter_topic_{t}" for t in TOPICS] == TOPIC_RESPONSES
    for name in TOPIC_RESPONSES:
        text = RESPONSES[name][0]["text"]
        assert len(text) <= TOPIC_MAX_CHARS, name
        assert text.startswith("Về "), name


DANGER = re.compile(r"nguy\s+hiểm", re.I)


def test_no_reply_that_mentions_danger_asks_another_yes_no_question():
    """After a mention of danger, "có" confirms the danger (bot/conversation/core.py): a reply
    that speaks of danger must not also ask a different yes/no question."""
    for name, variants in RESPONSES.items():
        for variant in variants:
            payloads = {b["payload"] for b in variant.get("buttons") or []}
            if DANGER.search(variant.get("text") or ""):
                assert "/affirm" not in payloads, name


@pytest.mark.parametrize("text", EVERY_TEXT)
def test_text_is_supported_by_facts(text):
    assert text.strip()
    assert problems(text) == []


@pytest.mark.parametrize("text", EVERY_TEXT)
def test_text_fits_a_phone_screen(text):
    assert len(text) <= MAX_CHARS


# Messages that can be the first in a chat or arrive unasked: a lock-screen preview shows
# their first line, so it names nothing an abuser could read. (Whatever an officer or a timer
# sends starts with unsolicited_first_line: bot/services/escalation.py, _to_resident.)
FIRST_MESSAGES = {
    "utter_greet": lambda: RESPONSES["utter_greet"][0]["text"],
    **{
        f"text:{k}": (lambda k=k: TEXTS[k])
        for k in (
            "telegram_intro",
            "zalo_intro",
            "unsolicited_first_line",
            "zalo_anonymous_notice",
        )
    },
    "web welcome": lambda: next(t for t in PAGE.values() if t.startswith("Xin chào")),
}


@pytest.mark.parametrize("name", sorted(FIRST_MESSAGES))
def test_first_messages_start_with_a_line_a_lock_screen_can_show(name):
    first_line = FIRST_MESSAGES[name]().split("\n")[0]
    assert len(first_line) <= 60, first_line
    assert not REVEALING.search(first_line), first_line


LABEL = re.compile(r"^([A-ZĐ][^:\n•]{3,40}):\s", re.M)


def test_no_boilerplate_label_repeats_across_answers():
    seen: dict[str, set[str]] = {}
    for name, variants in RESPONSES.items():
        for variant in variants:
            for label in LABEL.findall(variant.get("text") or ""):
                seen.setdefault(label, set()).add(name)
    repeated = {label: sorted(names) for label, names in seen.items() if len(names) > 3}
    assert not repeated


# Answers (not questions, acknowledgements or menus) end with something to do today.
ANSWERS = [
    "utter_what_is_violence",
    "utter_forms_violence",
    "utter_rights",
    "utter_how_to_report",
    "utter_protection_order",
    "utter_penalties",
    "utter_legal_aid",
    "utter_child_abuse",
    "utter_sexual_harassment",
    "utter_divorce_custody",
    "utter_help_someone_else",
    "utter_perpetrator_help",
    "utter_privacy",
    "utter_quick_exit",
    *TOPIC_RESPONSES,
]
STEP = re.compile(
    r"\b(gọi|đến|mang|báo|hỏi|nhờ|giữ|ghi|đi khám|nhắn|gõ|bấm|chọn|cất|kể|hẹn|nói|xóa|làm đơn|tìm|liên hệ)\b", re.I
)


@pytest.mark.parametrize("name", ANSWERS + sorted(n for n in RESPONSES if n.endswith("_more")))
def test_every_answer_ends_with_a_step_to_take_today(name):
    last = RESPONSES[name][0]["text"].strip().split("\n\n")[-1]
    assert STEP.search(last), last


def test_a_long_answer_continues_with_xem_them():
    """An answer split in two offers "Xem thêm", and action_more finds its second half."""
    from actions.more import continuation

    halves = [n for n in RESPONSES if n.endswith("_more")]
    for more in halves:
        first = more[: -len("_more")]
        assert first in RESPONSES, more
        assert {"title": "Xem thêm", "payload": "/more"} in (RESPONSES[first][0].get("buttons") or []), first
        events = [{"event": "bot", "metadata": {"utter_action": first}}, {"event": "user", "text": "/more"}]
        assert continuation(events, RESPONSES) == more


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
    for text in (RESPONSES["utter_urgent"][0]["text"], TEXTS["emergency"]):
        assert phone_numbers(text)[0] == "113"
        assert {"113", "115", "111"} <= set(phone_numbers(text))
        assert "trợ lý tự động" in text
    assert {"113", "115", "111"} <= set(phone_numbers(TEXTS["degraded"]))
    assert TEXTS["ask_danger"] == "Bạn có đang gặp nguy hiểm ngay lúc này không?"


def test_self_harm_answer_points_to_115_and_no_invented_line():
    text = RESPONSES["utter_self_harm"][0]["text"]
    assert "115" in phone_numbers(text)
    assert set(phone_numbers(text)) <= {"113", "115"}


ALERT_CLAIM = re.compile(r"(?:đang|đã|sẽ)\s+(?:gửi\s+cảnh\s+)?báo\s+(?:cho\s+|đến\s+|tới\s+)?cán\s+bộ", re.IGNORECASE)


def test_only_the_escalation_message_says_an_officer_is_being_alerted():
    """The gateway sends `escalation_alerting` only after a case was opened and someone on
    duty can be reached; no other text may claim that an officer is alerted."""
    alerting = ("escalation_alerting", "escalation_alerting_other")
    assert all(ALERT_CLAIM.search(TEXTS[k]) for k in alerting)
    others = [(f"text:{k}", v) for k, v in TEXTS.items() if k not in alerting]
    others += [(name, item["text"]) for name, items in RESPONSES.items() for item in items if item.get("text")]
    assert [name for name, text in others if ALERT_CLAIM.search(text)] == []
    assert "113" in TEXTS["escalation_unreached"]


def test_the_content_review_lists_every_text_as_it_is_now():
    """docs/content_review.md is regenerated (make content-review) whenever a text changes."""
    from bot.content.review import previous, stale, texts

    assert stale() == [], "run make content-review and read the texts dated today"
    assert set(previous()) == set(texts())
