# Targets mirror CI: .ci/run calls `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test unit fast integration lint typecheck up down clean compose-check bench bench-latency

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

## the fast loop: unit tests and the in-process pipeline steps (under a minute)
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

down: install
	$(BIN)/nazorg airflow down

## benchmarks (minutes; real Airflow): each appends an entry to bench/results.md
bench: bench-latency

## per-melding latency, real scheduler, SQLite and PostgreSQL, against an empty DAG (~20 minutes)
bench-latency: install
	$(BIN)/python bench/latency.py

compose-check: install
	$(BIN)/python scripts/check_compose.py docker-compose.yml

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
