# newsfacts: `make run` and `make test` set everything up from the lock file first.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
SHARED ?= ../shared

.PHONY: setup run test lint bench eval train-places serve clean-data help
help:
	@echo "make run    - set up .venv from uv.lock and run the pipeline on seeds/ -> data/newsfacts.duckdb"
	@echo "make test   - set up and run the test suite"
	@echo "make eval   - quality figures against the seeds gold and the shared data sets"
	@echo "make bench  - speed and memory benchmarks"
	@echo "make train-places - retrain the place ranker on LGL + GeoVirus (cross-corpus figures in its metadata)"
	@echo "make serve  - Prefect server on 127.0.0.1:4200 + the scheduled-inbox and backfill deployments"
	@echo "make lint   - ruff"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

setup: $(VENV)/.synced

run: setup
	$(VENV)/bin/newsfacts run

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check flows tests bench

eval: setup
	$(PY) bench/eval_all.py --shared $(SHARED)

train-places: setup   # the place ranker: leave-one-corpus-out models + production model (docs/places.md)
	$(PY) bench/train_places.py --shared $(SHARED)

BENCH_SIZES ?= 181,1000
bench: setup   # make bench BENCH_SIZES=181,1000,10000 for the 10,000-document corpus too
	$(PY) bench/bench_pipeline.py --shared $(SHARED) --sizes $(BENCH_SIZES)

serve: setup
	$(VENV)/bin/newsfacts serve

clean-data:
	rm -rf data/newsfacts.duckdb data/.newsfacts.work data/gx
