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

# Serves the map, dashboard and API with demo reports for us-ru-2016-09; prints the URL
# and an admin token. DEMO_PORT=0 picks any free port.
DEMO_PORT ?= 8000
demo: install
	mkdir -p $(DEMO_DIR)
	TRUCE_DB_PATH=$(DEMO_DIR)/truce.sqlite TRUCE_DEFAULT_AGREEMENT=us-ru-2016-09 \
		$(TRUCE) serve --demo --port $(DEMO_PORT)

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
