# Targets mirror CI: .ci/run calls `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test unit fast integration lint typecheck up up-celery down clean compose-check bench bench-latency bench-throughput

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25"
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## the main job on the embedded default: real Airflow, SQLite, simulated sources
demo: install
	$(BIN)/nazorg demo

## all tests (unit + integration); PostgreSQL on 127.0.0.1:5432 is used where present
test: install lint
	$(BIN)/nazorg register check
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m unit

## the fast loop: unit tests and the in-process pipeline steps (no Airflow; a few minutes)
fast: install
	$(BIN)/pytest -m "unit or pipeline"

integration: install
	$(BIN)/pytest -m integration

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: install
	$(BIN)/mypy

up: install
	$(BIN)/nazorg airflow up

## the same on the CeleryExecutor: 2 workers, Redis (db $(REDIS_DB)) and PostgreSQL on this machine
REDIS_DB ?= 0
WORKERS ?= 2
up-celery: install
	$(BIN)/nazorg airflow up --celery --workers $(WORKERS) --redis-db $(REDIS_DB)

down: install
	$(BIN)/nazorg airflow down

## throughput of `nazorg batch` vs. the bare minimum, 1k/10k/50k meldingen, HC at 0 and 20 ms
## (PostgreSQL on 127.0.0.1; ~30 minutes; appends to bench/results.md). Smoke: BENCH_ARGS="--sizes 1000 --latencies 0"
bench-throughput: install
	$(BIN)/python bench/throughput.py $(BENCH_ARGS)
## benchmarks (minutes; real Airflow): each appends an entry to bench/results.md
bench: bench-latency bench-throughput

## per-melding latency, real scheduler, SQLite and PostgreSQL, against an empty DAG (~20 minutes)
bench-latency: install
	$(BIN)/python bench/latency.py

compose-check: install
	$(BIN)/python scripts/check_compose.py docker-compose.yml

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## the intake API on its own (NAZORG_INTAKE_TOKENS or _FILE must be set); `make up` starts it beside Airflow
.PHONY: intake-serve
intake-serve: install
	$(BIN)/nazorg intake serve
