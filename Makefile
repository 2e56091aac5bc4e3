# `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11, or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The venv's own pip (23.2 with Python 3.11.7) installs the project as it is; upgrading it first
# cost a download and an install on every fresh clone. --no-compile: pip would byte-compile all
# ~35,000 modules installed (botocore alone is most of them; 42 s for the step here, 23 s without);
# Python compiles the ~1,500 a run imports on first import instead (~2.5 s of CPU, once).
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/weekly-report demo

# mypy (cold on a fresh clone: ~12 s of CPU, 20-45 s here) checks while the tests run, which
# mostly wait; either failing fails `make test`.
test: lint
	@$(MAKE) --no-print-directory -j2 types unit

lint: $(STAMP)
	$(BIN)/ruff check core bot tests bench
	$(BIN)/ruff format --check core bot tests bench

types: $(STAMP)
	$(BIN)/mypy

# Four workers on two cores: many tests wait (subprocesses, servers, Slack pacing) rather than
# compute; worksteal keeps them busy to the end (a few tests take 5-25 s).
# A single module or test runs faster in one process: .venv/bin/pytest tests/test_x.py
# PYTHONDONTWRITEBYTECODE (set in some shells) would make every worker and every `python -m bot`
# the tests start compile core/ and bot/ again, and pytest rewrite the test modules' asserts
# again on every run: the bytecode is written once instead.
unit: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n 4 --dist worksteal

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
	$(BIN)/python bench/stream_latency.py
	$(BIN)/python bench/charts.py
	$(BIN)/python bench/charts_run.py

clean:
	rm -rf $(VENV) .weekly-report .pytest_cache .mypy_cache .ruff_cache
