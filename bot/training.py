"""Which model is current: a content hash of everything training reads.

`gbvbot train` retrains only when nlu_data/, config.yml, domain.yml or the custom NLU code
(and its tables) changed; the model file is named after the hash.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT

MODELS = ROOT / "models"
# What the NLU reads: its data, its code and what that code imports from bot (the folding, the place names).
INPUTS = ["nlu_data", "config.yml", "domain.yml", "bot/nlu", "bot/vietnamese.py", "bot/geo/names.py", "bot/geo/gazetteer.yml"]


def content_hash() -> str:
    digest = hashlib.sha256()
    for entry in INPUTS:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def current_model() -> Path:
    return MODELS / f"gbvbot-{content_hash()}.tar.gz"


def train(force: bool = False) -> Path:
    model = current_model()
    if model.exists() and not force:
        print(f"model is up to date: {model.relative_to(ROOT)}")
        return model
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [
        sys.executable, "-m", "rasa", "train", "--data", "nlu_data", "--domain", "domain.yml",
        "--config", "config.yml", "--out", str(MODELS), "--fixed-model-name", model.name[: -len(".tar.gz")],
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    for old in MODELS.glob("gbvbot-*.tar.gz"):
        if old != model:
            old.unlink()
    return model
