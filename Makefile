# Nơi tin cậy — every command a developer, CI and README use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

# Python 3.10 (Rasa 3.6 needs it): PYTHON=… from the user, else python3.10 on PATH, else pyenv's.
PYTHON ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { command -v $$p; break; }; done)

MODEL = $(shell $(BIN)/python -c 'from bot.training import current_model; print(current_model())' 2>/dev/null)
RASA_IO = --data nlu_data --domain domain.yml

.PHONY: help install train run test unit e2e faults eval validate content-review core-test lint bench soak browser office clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.10 is required (Rasa 3.6). Install it (e.g. pyenv install 3.10.13) or pass PYTHON=/path/to/python3.10" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' || { echo "$(PYTHON) is not Python 3.10" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==24.2"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## create .venv and install pinned dependencies (idempotent)

train: install ## train the Rasa model if nlu_data/, config.yml, domain.yml or bot/nlu changed
	$(BIN)/gbvbot train

run: install train ## migrate, train if stale, start everything: web chat on http://127.0.0.1:8080
	$(BIN)/gbvbot run

browser: ## install Debian chromium + chromedriver if missing (for the page test)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

office: ## install Debian LibreOffice Writer (headless) + poppler if missing (the report's page test)
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui poppler-utils fonts-liberation; }

lint: install ## ruff
	$(BIN)/ruff check bot actions tests bench

content-review: install ## rewrite docs/content_review.md (every text, its facts, length, date checked)
	$(BIN)/python -m bot.content.review

validate: install ## rasa data validate (warnings fail)
	$(BIN)/python -m bot.validate

unit: install ## unit tests only (no Rasa server, no PostgreSQL, no Redis)
	$(BIN)/python -m pytest -q -m "not e2e and not postgres and not redis"

e2e: install train browser ## end-to-end tests: real Rasa, action server, gateway, browser; SQLite and PostgreSQL
	$(BIN)/python -m pytest -q -m e2e

faults: install train ## fault tests: 2 gateways + 2 Rasa servers on PostgreSQL and their own redis-server, parts killed under load (prints figures)
	$(BIN)/python -m pytest -q -s -m faults

eval: install train ## held-out NLU files and real letters through the real stack; enforces every target
	$(BIN)/python -m tests.nlu.evaluate --model $(MODEL)
	$(BIN)/python -m tests.letters.evaluate --split test --enforce

core-test: install train ## conversation tests with --fail-on-prediction-errors
	$(BIN)/rasa test core --model $(MODEL) --stories tests/conversations --fail-on-prediction-errors --out reports/core

test: install train browser office lint validate ## everything CI runs
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory eval core-test

bench: install train ## latency/throughput benchmarks (prints figures)
	$(BIN)/python -m bench.run
	$(BIN)/python bench/bench_nearest.py
	$(BIN)/python -m bench.bench_escalation
	$(BIN)/python -m bench.bench_outbound
	$(BIN)/python -m bench.bench_timings
	$(BIN)/python -m bench.bench_flood
	$(BIN)/python -m bench.bench_campaign
	$(BIN)/python -m bench.bench_shared
	$(BIN)/python -m bench.bench_scale

soak: install train ## 30 min at 20 turns/s (GBVBOT_SOAK_MINUTES, GBVBOT_SOAK_RATE): latency and RSS stay flat?
	$(BIN)/python -m bench.soak

clean: ## remove models, reports and runtime data (not the venv)
	rm -rf models reports var/*.runtime.yml
