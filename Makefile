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

.PHONY: run create-admin test lint format migrate bench clean translations mutate

# Pyramid 2 still imports pkg_resources, whose deprecation setuptools announces with a
# warning at every start; it says nothing about this app, so a plain start hides it.
QUIET_START := PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning"

run: $(VENV)/.app-installed var
	$(QUIET_START) $(BIN)/alembic -c $(INI) upgrade head
	$(QUIET_START) PORT=$(PORT) $(BIN)/pserve $(INI) http_port=$(PORT)

# make create-admin EMAIL=you@example.com [PORT=7201]: an administrator, and the link to
# choose its password on the port `make run PORT=...` serves.
create-admin: $(VENV)/.app-installed var
	@test -n "$(EMAIL)" || { echo "usage: make create-admin EMAIL=you@example.com [PORT=$(PORT)]"; exit 2; }
	$(QUIET_START) $(BIN)/alembic -c $(INI) upgrade head
	$(QUIET_START) PORT=$(PORT) $(BIN)/app-create-admin $(INI) $(EMAIL)

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

# Extract every message (lingua), then update each language's catalogue; the catalogues
# are compiled when the app starts.
translations: $(VENV)/.testing-installed
	$(BIN)/pot-create -c lingua.cfg -d app -o app/locale/app.pot app
	$(BIN)/python -m app.scripts.translations

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
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis mutants

# Mutation testing of app/services/, app/mail/, app/operations/, app/security.py,
# app/viewmodels/ and app/controllers/ with mutmut, on
# SQLite only (setup.cfg [mutmut]; docs/mutation-testing.md has the recorded score).
# Not in CI: it is slow. It runs two mutants at a time (one per core of a 2-core machine)
# and stops after MUTATE_BUDGET (default 150 minutes: the ~5,200 mutants take about 90 at
# the 60 a minute measured here, more when another job slows the machine down); whatever
# was left unchecked is listed, and the score is printed either way. mutmut's progress
# goes to mutants/run.log.
# MUTATE_FRESH=0 keeps the last run's results and checks only what is left or changed
# (after a budget ran out, or an edit). MUTANTS="app.services.admin.account_admin*" re-runs only the
# mutants named (globs allowed), e.g. after adding the tests that kill them.
# MUTATE_RESTATS=1 (with MUTATE_FRESH=0) keeps the results but runs every test once more to
# learn which functions each reaches: mutmut learns it only for tests it has not seen, so
# code changed since the first run may be missing old tests that now reach it.
MUTATE_BUDGET ?= 150m
MUTATE_CHILDREN ?= 2
MUTATE_FRESH ?= 1
MUTATE_RESTATS ?= 0
MUTANTS ?=
mutate: $(VENV)/.testing-installed
	$(if $(MUTANTS)$(filter 0,$(MUTATE_FRESH)),,rm -rf mutants)
	$(if $(filter 1,$(MUTATE_RESTATS)),rm -f mutants/mutmut-stats.json)
	mkdir -p mutants/app
	# mutmut copies the app's other files (templates, CSS) only into a new mutants/
	# folder: when results are re-used, bring them up to date first.
	cd app && find . -type f ! -name '*.py' ! -path '*/__pycache__/*' \
		-exec cp --parents {} ../mutants/app/ \;
	@echo "make mutate: at most $(MUTATE_BUDGET), progress in mutants/run.log"
	# PYTHONPATH: a test that starts the app in a subprocess (tests/functional/
	# test_oidc_races.py) runs the mutated copy too, not the installed code.
	timeout --signal=TERM --kill-after=60 $(MUTATE_BUDGET) \
		env PYTHONPATH=$(CURDIR)/mutants $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN) \
		$(MUTANTS) >>mutants/run.log 2>&1 || true
	$(BIN)/python -m tests.mutation_score

# Load benchmark (wrk against waitress, SQLite and PostgreSQL); appends to bench/RESULTS.md.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--backends sqlite --duration 5".
bench: $(VENV)/.testing-installed
	@command -v wrk >/dev/null || { echo "make bench: wrk is not installed; install it with: apt-get install wrk" >&2; exit 1; }
	test -x $(BIN)/py-spy || $(BIN)/pip install --quiet py-spy
	$(BIN)/python -m bench.run $(BENCH_ARGS)
