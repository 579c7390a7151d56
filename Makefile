# `make run` and `make test` each set up what they need, once: a .venv built from python3 and the
# pinned requirements.lock (reinstalled only when the lock or pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench lock clean system-deps

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || { PYTHON=$(PYTHON) bash scripts/system-deps.sh python && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway serve

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

system-deps:
	@bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each peer library in a virtualenv of its own, from its pinned bench/peers/<peer>/requirements.txt
# (made anew when that file changes), so that the project's lock stays as it is.
PEER_STAMPS := $(patsubst bench/peers/%/requirements.txt,bench/.venvs/%/.installed,$(wildcard bench/peers/*/requirements.txt))

bench/.venvs/%/.installed: bench/peers/%/requirements.txt | $(STAMP)
	rm -rf bench/.venvs/$*
	$(BIN)/python -m venv bench/.venvs/$*
	bench/.venvs/$*/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	touch $@

# Benchmarks on loopback: the gateway against hand-written FastAPI apps and peer libraries,
# dispatch, logins and start-up (bench/run.py). A few minutes; longer with BENCH_SECONDS=10
# BENCH_ROUNDS=9, one section with BENCH_ARGS=dispatch. Installs wrk when missing (as root).
bench: $(STAMP) $(PEER_STAMPS)
	@bash scripts/system-deps.sh bench
	$(BIN)/python -m bench.run $(BENCH_ARGS)

typecheck: $(STAMP)
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/gateway check

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) bench/.venvs var .mypy_cache .ruff_cache .pytest_cache
