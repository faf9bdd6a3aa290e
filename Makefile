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
define sync
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	uv sync --frozen
endef

.PHONY: help up demo test chaos lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

up: ## broker + database + migrations + all services, until Ctrl-C (ARGS="--no-services" ...)
	$(sync)
	uv run --frozen python -m devstack up --state-dir $(STATE_DIR) --broker-port $(BROKER_PORT) $(ARGS)

demo: ## the stack plus the simulator for one shop day, then a summary (SEED, SPEED, HOURS)
	$(sync)
	uv run --frozen python -m devstack demo --state-dir $(STATE_DIR) --broker-port $(BROKER_PORT) \
		--seed $(SEED) --speed $(SPEED) --hours $(HOURS) $(ARGS)

test: ## the test suite (starts its own broker and database on free ports)
	$(sync)
	uv run --frozen pytest $(ARGS)

FUZZ_RECORDS ?= 10000
chaos: ## the chaos and fuzz suites, soak size: FUZZ_RECORDS (10000) hostile records on every consumed topic (FUZZ_SEED replays)
	$(sync)
	FUZZ_RECORDS=$(FUZZ_RECORDS) uv run --frozen pytest tests/chaos --timeout=3600 $(ARGS)

lint: ## ruff lint + format check + import contracts
	$(sync)
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .
	uv run --frozen lint-imports

clean: ## remove the dev stack's state (logs, database, tokens)
	rm -rf $(STATE_DIR)
