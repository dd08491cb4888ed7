"""`make eval` on real letters: each text of a split is sent through `/api/chat` of the real
stack (Rasa, action server, gateway) as a new resident would, as written and without marks,
and the resident answers the bot's question truthfully (the labels say whether they are in
danger now):

- the bot asks "are you in danger now?" → "có" if the text is labelled danger now, else "không";
- the bot asks "is it safe to talk?" → "có".

Measured, per variant (accented, unaccented):
- topic: at least one labelled topic answered (first reply or the reply after the question),
  over texts not labelled danger now (those get the emergency answer);
- fallback: the first reply is the low-confidence fallback;
- danger-now recall: escalated at once, or after "có" to the danger question;
- danger-now precision: of the texts escalated at once, the share labelled danger now;
- none alerts: texts labelled none that opened an urgent case.

    python -m tests.letters.evaluate [--split test|dev|train] [--enforce] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import unicodedata
import uuid
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# The targets of the real-letters and danger-now issues, checked per variant (accented, unaccented).
TARGETS = {"topic": 0.90, "fallback_max": 0.05, "recall": 1.00, "precision": 0.90, "none_alerts_max": 0.03}
# What `--enforce` fails on: the targets, except where a measured value is still below its
# target; then the measured value, so that nothing gets worse (README, "Quality figures").
# Every target is met today (2026-12-02), so there is no floor.
FLOORS: dict[str, dict[str, float]] = {}
FALLBACK_TEXT = "Mình chưa chắc đã hiểu đúng ý bạn"
# Answers that are not utter_topic_* but answer a topic (intent answers, the directory).
RESPONSE_TOPICS = {
    "utter_divorce_custody": ("divorce", "custody"),
    "utter_child_abuse": ("child_abuse",),
    "utter_sexual_harassment": ("harassment", "online_abuse"),
    "utter_protection_order": ("protection_order",),
    "utter_penalties": ("penalties",),
    "utter_legal_aid": ("legal_aid",),
    "utter_how_to_report": ("report_police",),
    "utter_help_someone_else": ("help_other",),
    "utter_perpetrator_help": ("perpetrator",),
    "utter_emotional_support": ("emotional",),
    "utter_self_harm": ("self_harm",),
    "utter_forms_violence": ("physical", "psychological", "economic", "sexual_violence"),
    "utter_rights": ("shelter", "protection_order"),
}


def unaccent(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)))


def load(split: str) -> list[dict]:
    path = HERE / "test.jsonl" if split == "test" else ROOT / "nlu_data" / "letters" / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def answer_signatures() -> list[tuple[str, tuple[str, ...]]]:
    """(the first 60 characters of an answer, the topics it answers)."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    signatures = [(v[0]["text"][:60], (name.removeprefix("utter_topic_"),))
                  for name, v in responses.items() if name.startswith("utter_topic_")]
    signatures += [(responses[name][0]["text"][:60], topics) for name, topics in RESPONSE_TOPICS.items()]
    return signatures


def answered_topics(messages: list[dict], signatures) -> set[str]:
    found: set[str] = set()
    for message in messages:
        text = message.get("text") or ""
        for start, topics in signatures:
            if text.startswith(start):
                found |= set(topics)
        if any(b.get("payload") in ("/find_shelter", "/find_police") for b in message.get("buttons") or []) \
                and ("địa chỉ tin cậy" in text.lower() or "nơi tạm lánh" in text.lower()):
            found.add("shelter")
    return found


def asks_danger(messages: list[dict]) -> bool:
    """The reply speaks of danger and asks no other yes/no question (as the gateway decides)."""
    from bot.conversation.core import Reply, _mentions_danger
    from bot.messages import BotMessage

    return _mentions_danger(Reply([BotMessage.from_json(m) for m in messages]))


def asks_safe(messages: list[dict]) -> bool:
    return any(b.get("payload") == "/affirm" for m in messages for b in m.get("buttons") or [])


def run_one(stack, record: dict, text: str, signatures) -> dict:
    session = "ev" + uuid.uuid4().hex[:16]
    status, first = stack.chat(session, text=text)
    assert status == 200, (status, first)
    messages = first["messages"]
    out = {
        "id": record["id"], "urgency": record["urgency"], "escalated": first["escalation"] is not None,
        "fallback": any(FALLBACK_TEXT in (m.get("text") or "") for m in messages),
        "asked": None, "confirmed": False,
    }
    answered = answered_topics(messages, signatures)
    if not out["escalated"] and asks_danger(messages):
        out["asked"] = "danger"
        reply = "có" if record["urgency"] == "danger_now" else "không"
        status, second = stack.chat(session, text=reply)
        out["confirmed"] = second["escalation"] is not None
        answered |= answered_topics(second["messages"], signatures)
    elif not out["escalated"] and asks_safe(messages):
        out["asked"] = "safe"
        status, second = stack.chat(session, text="có")
        answered |= answered_topics(second["messages"], signatures)
    out["answered"] = sorted(answered)
    out["topic_hit"] = bool(answered & set(record["topics"]))
    return out


def summarise(rows: list[dict]) -> dict:
    not_now = [r for r in rows if r["urgency"] != "danger_now"]
    now = [r for r in rows if r["urgency"] == "danger_now"]
    none = [r for r in rows if r["urgency"] == "none"]
    direct = [r for r in rows if r["escalated"]]
    caught = [r for r in now if r["escalated"] or r["confirmed"]]
    return {
        "texts": len(rows),
        "topic": round(sum(r["topic_hit"] for r in not_now) / max(1, len(not_now)), 4),
        "fallback": round(sum(r["fallback"] for r in rows) / max(1, len(rows)), 4),
        "recall": round(len(caught) / max(1, len(now)), 4),
        "danger_now_texts": len(now),
        "recall_direct": round(sum(r["escalated"] for r in now) / max(1, len(now)), 4),
        "precision": round(sum(r["urgency"] == "danger_now" for r in direct) / max(1, len(direct)), 4),
        "none_alerts": round(sum(r["escalated"] for r in none) / max(1, len(none)), 4),
        "asked_danger_on_none": round(sum(r["asked"] == "danger" for r in none) / max(1, len(none)), 4),
        "missed": [r["id"] for r in now if not (r["escalated"] or r["confirmed"])],
        "false_alerts": [r["id"] for r in direct if r["urgency"] != "danger_now"],
        "no_topic": [r["id"] for r in not_now if not r["topic_hit"]],
    }


def failures(name: str, s: dict, limits: dict) -> list[str]:
    found = []
    if s["topic"] < limits["topic"]:
        found.append(f"{name}: topic answered {s['topic']:.3f} < {limits['topic']}")
    if s["fallback"] > limits["fallback_max"]:
        found.append(f"{name}: fallback {s['fallback']:.3f} > {limits['fallback_max']}")
    if s["recall"] < limits["recall"]:
        found.append(f"{name}: danger-now recall {s['recall']:.3f} < {limits['recall']} (missed {s['missed']})")
    if s["precision"] < limits["precision"]:
        found.append(f"{name}: danger-now precision {s['precision']:.3f} < {limits['precision']}")
    if s["none_alerts"] > limits["none_alerts_max"]:
        found.append(f"{name}: urgent alerts on 'none' {s['none_alerts']:.3f} > {limits['none_alerts_max']}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=("test", "dev", "train"))
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "letters.json")
    args = parser.parse_args()
    from tests.e2e.conftest import start_stack, stop_stack

    records = load(args.split)
    signatures = answer_signatures()
    tmp = Path(tempfile.mkdtemp(prefix="letters-eval-"))
    stack = start_stack(tmp, f"sqlite:///{tmp / 'eval.sqlite3'}", {"GBVBOT_RATE_PER_MINUTE": "100000"})
    try:
        results = {name: [run_one(stack, r, variant(r["text"]), signatures) for r in records]
                   for name, variant in (("accented", str), ("unaccented", unaccent))}
    finally:
        stop_stack(stack)
    summary = {name: summarise(rows) for name, rows in results.items()}
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({"split": args.split, "summary": summary, "rows": results},
                                      ensure_ascii=False, indent=1))
    urgency = Counter(r["urgency"] for r in records)
    print(f"\n== real letters, {args.split} split: {len(records)} texts ({dict(urgency)})")
    for name, s in summary.items():
        print(f"  {name:10s} topic {s['topic']:.3f}  fallback {s['fallback']:.3f}  danger-now recall {s['recall']:.3f} "
              f"(at once {s['recall_direct']:.3f}, n={s['danger_now_texts']})  precision {s['precision']:.3f}  "
              f"alerts on none {s['none_alerts']:.3f}  danger question on none {s['asked_danger_on_none']:.3f}")
    missed = [f for name, s in summary.items() for f in failures(name, s, TARGETS)]
    if missed:
        print("\nTargets not yet met:\n  " + "\n  ".join(missed), file=sys.stderr)
    else:
        print("all real-letter targets met")
    if args.split != "test":
        return 0
    below = [f for name, s in summary.items() for f in failures(name, s, {**TARGETS, **FLOORS.get(name, {})})]
    if below:
        print("\nBELOW the enforced floors:\n  " + "\n  ".join(below), file=sys.stderr)
        return 1 if args.enforce else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
