# GNU make. Needs only python3 (>= 3.11) on the machine; everything else goes into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.DEFAULT_GOAL := test
.PHONY: $(VENV) lint test run bench schema clean

$(VENV): $(VENV)/.installed

# The stamp is newer than pyproject.toml once the dependencies it names are installed.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

lint: $(VENV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The PostgreSQL run skips itself when the server is down, unless HUB_REQUIRE_SERVICES=1.
test: lint
	HUB_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	HUB_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_ARGS)

run: $(VENV)
	$(BIN)/coalition-hub migrate && $(BIN)/coalition-hub seed-demo && $(BIN)/coalition-hub serve --port $${PORT:-8000}

bench: $(VENV)
	$(BIN)/python bench/portal_query.py
	$(BIN)/python bench/feed_fanout.py
	$(BIN)/python bench/portal_vs_postgraphile.py
	$(BIN)/python bench/abuse.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/matching.py

schema: $(VENV)
	$(BIN)/coalition-hub export-schema

# Leaves databases (hub.db) alone: they hold data, not build output.
clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
