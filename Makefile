# Set-up and entry points. `make run` and `make test` each install what they need first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

CHROMIUM := /usr/bin/chromium
DEPLOY_STAMP := $(VENV)/.installed-deploy

.PHONY: install run test ui lint format bench bench-quick browser deploy-deps postgres redis docs bench-distributed reliability

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser test (driven by Playwright with executable_path).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

browser: $(CHROMIUM)

# The deploy extra (dagster-postgres, dagster-aws, dagster-k8s) for the Postgres-instance tests.
$(DEPLOY_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,deploy]"
	@touch $(DEPLOY_STAMP)

deploy-deps: $(DEPLOY_STAMP)

# Debian's PostgreSQL server for the throwaway test clusters. Debian installs initdb/postgres in
# /usr/lib/postgresql/<major>/bin, not on PATH; the test helper looks there too.
postgres:
	@if command -v initdb >/dev/null && command -v postgres >/dev/null; then exit 0; fi; \
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql

# Debian's Redis server: the Celery broker of the distributed-execution test (one throwaway server
# per test on a free loopback port; stuut_pipeline_tests/servers/redis.py).
redis:
	@if command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

docs: install  ## regenerate docs/data-dictionary.md from the contracts
	$(BIN)/stuut-pipeline docs data-dictionary

run: install  ## install, then run the whole pipeline on the embedded simulator
	$(BIN)/stuut-pipeline run

test: install deploy-deps browser postgres redis  ## install, then run lint and the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

ui: install  ## the Dagster web UI on the same instance and data as `make run`
	$(BIN)/dagster dev -w workspace.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install  ## the full benchmark run (~15 min): ours vs dlt vs the lower bound, scaling, rollups
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py

bench-distributed: deploy-deps postgres redis  ## Celery topology backfill vs `stuut-pipeline run`
	$(BIN)/python benchmarks/distributed.py

bench-quick: install  ## a smoke check of the benchmarks (~2-3 min)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py --quick

reliability: install  ## the reliability suite at full size (kill -9 local and on S3, disk full, readers): RELIABILITY.md
	$(BIN)/python -m reliability
