"""`make eval`: `rasa test nlu` on the held-out files, per-intent F1, enforced thresholds.

Three files: test_accented.yml, an unaccented copy generated from it, and
test_teencode.yml. Urgent recall counts a message as caught when Rasa predicts
urgent_danger or self_harm, or the gateway's safety net flags it (both lead to the
emergency answer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REPORTS = ROOT / "reports"
URGENT = {"urgent_danger", "self_harm"}
THRESHOLDS = {"accented": 0.95, "unaccented": 0.92, "teencode": 0.90}


def unaccent(text: str) -> str:
    """Drop every Vietnamese mark but keep case: "Đánh" → "Danh"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def write_unaccented(source: Path, target: Path) -> None:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for block in data["nlu"]:
        block["examples"] = unaccent(block["examples"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((block["intent"], line[2:].strip()))
    return pairs


def run_rasa(model: str, nlu_file: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(
        [sys.executable, "-m", "rasa", "test", "nlu", "--model", model, "--nlu", str(nlu_file),
         "--out", str(out), "--successes", "--no-plot", "--domain", "domain.yml"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    return json.loads((out / "intent_report.json").read_text())


def urgent_recall(out: Path) -> tuple[float, list[str]]:
    from bot.nlu.triage import assess

    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        file = out / name
        if file.exists():
            rows += json.loads(file.read_text())
    urgent = [r for r in rows if r["intent"] in URGENT]
    missed = [
        r["text"] for r in urgent
        if (r["intent_prediction"]["name"] not in URGENT) and not assess(r["text"]).urgent
    ]
    return (1 - len(missed) / len(urgent)) if urgent else 0.0, missed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    generated = REPORTS / "generated" / "test_unaccented.yml"
    write_unaccented(HERE / "test_accented.yml", generated)
    files = {"accented": HERE / "test_accented.yml", "unaccented": generated, "teencode": HERE / "test_teencode.yml"}
    failures, summary = [], {}
    for name, path in files.items():
        out = REPORTS / name
        report = run_rasa(args.model, path, out)
        macro = report["macro avg"]["f1-score"]
        recall, missed = urgent_recall(out)
        (out / "urgent_missed.json").write_text(json.dumps(missed, ensure_ascii=False, indent=2))
        summary[name] = {"examples": len(examples(path)), "macro_f1": round(macro, 4), "urgent_recall": round(recall, 4)}
        print(f"\n== {name}: {len(examples(path))} examples, macro F1 {macro:.3f}, urgent recall {recall:.3f}")
        for intent, row in sorted(report.items()):
            if isinstance(row, dict) and "f1-score" in row and intent not in ("macro avg", "weighted avg", "micro avg"):
                print(f"  {intent:24s} F1 {row['f1-score']:.2f}  (support {row['support']})")
        if macro < THRESHOLDS[name]:
            failures.append(f"{name}: macro F1 {macro:.3f} < {THRESHOLDS[name]}")
        if recall < 1.0:
            failures.append(f"{name}: urgent recall {recall:.3f} < 1.00 ({len(missed)} missed: {out / 'urgent_missed.json'})")
    (REPORTS / "summary.json").write_text(json.dumps(summary, indent=2))
    print("\n" + json.dumps(summary, indent=2))
    if failures:
        print("\nFAILED thresholds:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("all NLU thresholds met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
