# The two commands a user needs: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TRUCE  := $(VENV)/bin/truce
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEMO_DIR ?= .demo

.PHONY: install demo test lint bench clean test-env

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p $(DEMO_DIR)
	$(TRUCE) demo-data --agreement us-ru-2016-09 --out $(DEMO_DIR)/reports.csv
	$(TRUCE) evaluate --agreement us-ru-2016-09 --reports $(DEMO_DIR)/reports.csv --as-of 2016-09-20T00:00:00+03:00 --format table

# System packages the tests use (PostgreSQL + PostGIS, Chromium); idempotent.
test-env:
	bash scripts/setup-test-env.sh

test: install test-env
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy src

bench: install
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) bench/evaluate.py --n 1000000

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
