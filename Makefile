# Every target creates the virtualenv it needs; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deps-stamp

.PHONY: install browser peers run test lint typecheck migrations-check bench bench-accounts ci clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# The one file the server serves to developer machines, built from limiter/client/ and the server's pure modules.
install: $(STAMP)
	$(BIN)/python limiter/hook_client/build.py

run: install  ## The whole service (web + worker + beat) on SQLite at http://127.0.0.1:8000/
	$(BIN)/python manage.py serve

# Page tests drive Debian's Chromium; installed from the distribution, never downloaded by a test tool.
browser:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the page tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium; else sudo apt-get install -y -q chromium; fi; }

# The single sign-on tests run a real OpenID Connect provider (npm oidc-provider) from the committed lock file.
PEERS := tests/peers
$(PEERS)/node_modules/.package-lock.json: $(PEERS)/package-lock.json
	@command -v npm >/dev/null || { \
		echo "Installing Debian's nodejs and npm for the single sign-on tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -q nodejs npm; else sudo apt-get install -y -q nodejs npm; fi; }
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

peers: $(PEERS)/node_modules/.package-lock.json

test: install browser peers  ## The test suite (SQLite by default; DATABASE_URL / REDIS_URL switch it)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) typecheck
	$(BIN)/ruff check .

typecheck: $(STAMP)  ## mypy with the Django and DRF plugins over the product's apps (settings in pyproject.toml)
	$(BIN)/mypy

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(BIN)/python bench/hot_path.py

bench-accounts: $(STAMP)  ## One polling cycle of 1,000 accounts against the fake with 50 ms latency
	$(BIN)/python bench/accounts_poll.py --concurrency 32

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
