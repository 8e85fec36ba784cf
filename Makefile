PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format migrate bench clean

run: $(VENV)/.app-installed var
	$(BIN)/alembic -c development.ini upgrade head
	$(BIN)/pserve development.ini

test: $(VENV)/.testing-installed
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.testing-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.testing-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(VENV)/.app-installed var
	$(BIN)/alembic -c development.ini upgrade head

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
