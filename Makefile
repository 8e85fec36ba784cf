PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The tests run on SQLite and on PostgreSQL; TEST_DB=sqlite (or postgresql) runs one only.
TEST_DB ?=
# Test processes running at once (pytest-xdist): one per core; 0 runs them in this process.
TEST_WORKERS ?= auto
# make run: the settings file and the port (app.base_url follows the port).
INI ?= development.ini
PORT ?= 6543

.PHONY: run test lint format migrate bench clean

run: $(VENV)/.app-installed var
	$(BIN)/alembic -c $(INI) upgrade head
	PORT=$(PORT) $(BIN)/pserve $(INI) http_port=$(PORT)

test: $(VENV)/.testing-installed
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(if $(TEST_DB),--db=$(TEST_DB)) $(PYTEST_ARGS)

lint: $(VENV)/.testing-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.testing-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(VENV)/.app-installed var
	$(BIN)/alembic -c $(INI) upgrade head

var:
	mkdir -p var/mail

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.app-installed: setup.py $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.testing-installed: setup.py $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[testing]'
	touch $@ $(VENV)/.app-installed

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis

# Load benchmark (wrk against waitress, SQLite and PostgreSQL); appends to bench/RESULTS.md.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--backends sqlite --duration 5".
bench: $(VENV)/.testing-installed
	@command -v wrk >/dev/null || { echo "make bench: wrk is not installed; install it with: apt-get install wrk" >&2; exit 1; }
	test -x $(BIN)/py-spy || $(BIN)/pip install --quiet py-spy
	$(BIN)/python -m bench.run $(BENCH_ARGS)
