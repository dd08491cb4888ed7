"""`make eval`, first part: the intent classifier on the held-out files, per-intent F1,
enforced thresholds.

Three files: test_accented.yml, an unaccented copy generated from it, and test_teencode.yml.
The trained model parses every example in process. What is scored is the classifier's own
intent (after the fallback), before `LetterReader` settles the dialogue act (a letter becomes
`disclose_abuse`, unconfirmed danger is asked about): that routing is measured on real letters
by tests/letters/evaluate.py. Urgent recall counts an urgent or self-harm example as caught when
the bot escalates it at once (classifier or triage) or asks "are you in danger now?" (yes escalates).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REPORTS = ROOT / "reports"
URGENT = {"urgent_danger", "self_harm", "report_danger"}
THRESHOLDS = {"accented": 0.95, "unaccented": 0.92, "teencode": 0.90}


def unaccent(text: str) -> str:
    """Drop every Vietnamese mark but keep case: "Đánh" → "Danh"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((block["intent"], line[2:].strip()))
    return pairs


async def parse_all(model: str, texts: list[str]) -> list[dict]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug log would print every parsed text
    agent = Agent.load(model)
    return [await agent.parse_message(text) for text in texts]


def classified(parse: dict) -> str:
    return (parse.get("letter") or {}).get("classified") or (parse.get("intent") or {}).get("name") or "nlu_fallback"


def caught(parse: dict) -> bool:
    letter = parse.get("letter") or {}
    return (parse.get("intent") or {}).get("name") in URGENT or letter.get("triage") in ("danger_now", "high_risk")


def evaluate(name: str, pairs: list[tuple[str, str]], parses: list[dict]) -> tuple[dict, list[str]]:
    from sklearn.metrics import classification_report

    gold = [intent for intent, _ in pairs]
    predicted = [classified(p) for p in parses]
    report = classification_report(gold, predicted, labels=sorted(set(gold)), output_dict=True, zero_division=0)
    urgent = [(text, parse) for (intent, text), parse in zip(pairs, parses) if intent in URGENT]
    missed = [text for text, parse in urgent if not caught(parse)]
    recall = 1 - len(missed) / len(urgent) if urgent else 0.0
    out = REPORTS / name
    out.mkdir(parents=True, exist_ok=True)
    errors = [{"text": t, "intent": g, "predicted": p} for (g, t), p in zip(pairs, predicted) if g != p]
    (out / "intent_errors.json").write_text(json.dumps(errors, ensure_ascii=False, indent=1))
    (out / "urgent_missed.json").write_text(json.dumps(missed, ensure_ascii=False, indent=1))
    macro = report["macro avg"]["f1-score"]
    print(f"\n== {name}: {len(pairs)} examples, macro F1 {macro:.3f}, urgent recall {recall:.3f}")
    for intent in sorted(set(gold)):
        print(f"  {intent:24s} F1 {report[intent]['f1-score']:.2f}  (support {report[intent]['support']:.0f})")
    failures = []
    if macro < THRESHOLDS[name]:
        failures.append(f"{name}: macro F1 {macro:.3f} < {THRESHOLDS[name]}")
    if recall < 1.0:
        failures.append(f"{name}: urgent recall {recall:.3f} < 1.00 ({len(missed)} missed: {out / 'urgent_missed.json'})")
    return {"examples": len(pairs), "macro_f1": round(macro, 4), "urgent_recall": round(recall, 4)}, failures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    accented = examples(HERE / "test_accented.yml")
    files = {
        "accented": accented,
        "unaccented": [(intent, unaccent(text)) for intent, text in accented],
        "teencode": examples(HERE / "test_teencode.yml"),
    }
    texts = [text for pairs in files.values() for _, text in pairs]
    parses = asyncio.run(parse_all(args.model, texts))
    summary, failures, start = {}, [], 0
    for name, pairs in files.items():
        summary[name], found = evaluate(name, pairs, parses[start:start + len(pairs)])
        failures += found
        start += len(pairs)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "summary.json").write_text(json.dumps(summary, indent=2))
    print("\n" + json.dumps(summary, indent=2))
    if failures:
        print("\nFAILED thresholds:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("all NLU thresholds met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
