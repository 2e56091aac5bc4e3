# `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11, or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/weekly-report demo

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check core bot tests bench
	$(BIN)/ruff format --check core bot tests bench

types: $(STAMP)
	$(BIN)/mypy

# Four workers on two cores: many tests wait (subprocesses, servers, Slack pacing) rather than
# compute; worksteal keeps them busy to the end (a few tests take 5-25 s).
# A single module or test runs faster in one process: .venv/bin/pytest tests/test_x.py
unit: $(STAMP)
	$(BIN)/pytest -n 4 --dist worksteal

# The benchmarks print tables (see README, Performance); they are not part of `make test`.
bench: $(STAMP)
	$(BIN)/python bench/embedded.py --customers 10000
	$(BIN)/python bench/cortex.py
	$(BIN)/python bench/slack_ack.py
	$(BIN)/python bench/followup.py
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/coaching_generate.py --reps 10000
	$(BIN)/python bench/coaching_email.py --reps 10000
	$(BIN)/python bench/coaching_followup.py
	$(BIN)/python bench/charts_run.py

clean:
	rm -rf $(VENV) .weekly-report .pytest_cache .mypy_cache .ruff_cache
