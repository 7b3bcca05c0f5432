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

.PHONY: setup browser run test lint bench bench-first-run eval train-places serve clean-data help docs-check
help:
	@echo "make run    - set up .venv from uv.lock and run the pipeline on seeds/ -> data/newsfacts.duckdb"
	@echo "make test   - set up and run the test suite"
	@echo "make eval   - quality figures against the seeds gold and the shared data sets"
	@echo "make bench  - speed and memory benchmarks (make bench-first-run: first runs on empty Prefect homes)"
	@echo "make train-places - retrain the place ranker on LGL + GeoVirus (cross-corpus figures in its metadata)"
	@echo "make serve  - Prefect server on 127.0.0.1:4200 + the scheduled-inbox and backfill deployments"
	@echo "make lint   - ruff"
	@echo "make docs-check - README and docs/ against the code: contract, layout, settings, links"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Byte-compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on the CI machine) Python never writes
# .pyc files itself, and every process recompiled every module it imported (about half of start-up).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

setup: $(VENV)/.synced

run: setup
	$(VENV)/bin/newsfacts run

# The UI and report tests drive Debian's headless Chromium. `make test` installs it where it can (root with
# apt-get); elsewhere those tests skip and say how to enable them. CI sets NEWSFACTS_REQUIRE_BROWSER=1.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests (once) ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	else echo "no /usr/bin/chromium and no root to install it: the browser tests will be skipped"; fi

test: setup browser
	$(PY) -m pytest -q -rs

lint: setup
	$(VENV)/bin/ruff check flows tests bench

docs-check: setup
	$(PY) -m pytest -q tests/test_docs.py tests/test_dictionary.py

eval: setup
	$(PY) bench/eval_all.py --shared $(SHARED)

train-places: setup   # the place ranker: leave-one-corpus-out models + production model (docs/places.md)
	$(PY) bench/train_places.py --shared $(SHARED)

BENCH_SIZES ?= 181,1000
EDITION_SIZES ?= 1000
bench: setup   # make bench BENCH_SIZES=181,1000,10000 for the 10,000-document corpus too
	$(PY) bench/bench_pipeline.py --shared $(SHARED) --sizes $(BENCH_SIZES) --edition-sizes $(EDITION_SIZES)

bench-first-run: setup   # a new user's first run, 10 times, each on a new, empty Prefect home
	$(PY) bench/bench_first_run.py --tries 10

serve: setup
	$(VENV)/bin/newsfacts serve

clean-data:
	rm -rf data/newsfacts.duckdb data/.newsfacts.work data/gx
