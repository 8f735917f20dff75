# The two commands a user needs: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TRUCE  := $(VENV)/bin/truce
HASH   := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
# What the server needs (and the guide's builder); the test tools come only with `make test`.
STAMP      := $(VENV)/.installed-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
DEMO_DIR ?= .demo
# The users' guide: docs/ built by MkDocs into the package, served by `truce serve` at /guide.
GUIDE_DIR := src/truce/web/guide
GUIDE     := $(GUIDE_DIR)/index.html
export NO_MKDOCS_2_WARNING := 1

.PHONY: install install-test docs demo test lint bench clean test-env

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[docs]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[docs,test]'
	touch $(TEST_STAMP)

install: $(STAMP)
install-test: $(TEST_STAMP)

$(GUIDE): $(STAMP) mkdocs.yml $(wildcard docs/*.md)
	$(PY) -m mkdocs build --strict --quiet --site-dir $(GUIDE_DIR)

docs: $(GUIDE)

# Serves the map, dashboard, API and guide with demo reports for us-ru-2016-09, and
# prints a one-time link that signs the browser in. DEMO_PORT=0 picks any free port.
DEMO_PORT ?= 8000
demo: install docs
	mkdir -p $(DEMO_DIR)
	TRUCE_DB_PATH=$(DEMO_DIR)/truce.sqlite TRUCE_DEFAULT_AGREEMENT=us-ru-2016-09 \
		$(TRUCE) serve --demo --port $(DEMO_PORT)

# System packages the tests use (PostgreSQL + PostGIS, Chromium); idempotent.
test-env:
	bash scripts/setup-test-env.sh

# Lint, types, the docstring examples in src/truce, then the suite.
test: install-test test-env
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m mypy
	$(PY) -m pytest --doctest-modules src/truce
	$(PY) -m pytest

lint: install-test
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

bench: install-test
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) bench/evaluate.py --n 1000000

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(GUIDE_DIR) .pytest_cache
