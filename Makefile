# Every target creates the virtualenv it needs; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deps-stamp

.PHONY: install run test lint migrations-check bench bench-accounts ci clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## The whole service (web + worker + beat) on SQLite at http://127.0.0.1:8000/
	$(BIN)/python manage.py serve

test: $(STAMP)  ## The test suite (SQLite by default; DATABASE_URL / REDIS_URL switch it)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(BIN)/python bench/check_throughput.py

bench-accounts: $(STAMP)  ## One polling cycle of 1,000 accounts against the fake with 50 ms latency
	$(BIN)/python bench/accounts_poll.py --concurrency 32

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
