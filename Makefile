# Every target creates the virtualenv it needs; `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deps-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel test workers (pytest-xdist); 0 runs the suite in one process.
TEST_WORKERS ?= 2

.PHONY: install lock _relock browser proxy peers run test lint typecheck migrations-check bench bench-accounts ci clean

# Installs exactly the lock file: every transitive dependency pinned with its hashes (requirements*.txt are
# the human-edited lists; `make lock` resolves them). --no-deps: nothing outside the lock can slip in.
# A pin added to requirements*.txt without `make lock` re-resolves here first (keeping every other pin), so
# the new dependency is installed hashed too; commit the lock files it rewrites.
$(STAMP): requirements-dev.lock requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	@$(BIN)/python tools/lockfiles.py || { \
		echo "make: requirements*.txt changed since the lock files were made: running make lock"; \
		$(MAKE) --no-print-directory _relock && \
		$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock; }
	@touch $(STAMP)

# The one file the server serves to developer machines, built from limiter/client/ and the server's pure modules.
install: $(STAMP)
	$(BIN)/python limiter/hook_client/build.py

# Re-resolve after editing requirements.txt or requirements-dev.txt. Pins already in the lock files are kept
# unless a requirement changed; `make lock UPGRADE=1` moves everything to the newest allowed versions.
lock: $(STAMP) _relock

_relock:
	$(BIN)/uv pip compile requirements.txt --generate-hashes --universal --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) --quiet -o requirements.lock
	$(BIN)/uv pip compile requirements-dev.txt --generate-hashes --universal --python-version 3.11 \
		$(if $(UPGRADE),--upgrade) --quiet -c requirements.lock -o requirements-dev.lock

run: install  ## The whole service (web + worker + beat) on SQLite; `make run PORT=8080 HOST=0.0.0.0`
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Installs one Debian package set only when its command is missing, saying what and why. `apt-get update`
# first, because a fresh machine's package lists are often stale; no recommended packages (chromium's pull in
# systemd, udev and avahi, none of which a headless test needs).
define apt_install
	@command -v $(1) >/dev/null || { \
		echo "make: installing Debian's $(2) (--no-install-recommends): $(3)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(2); }
endef

# Page tests drive Debian's Chromium; installed from the distribution, never downloaded by a test tool.
browser:
	$(call apt_install,chromium,chromium fonts-liberation,the page tests drive a headless browser)

# The front-door and topology tests run deploy/Caddyfile with Debian's caddy (compose: Caddy's image).
proxy:
	$(call apt_install,caddy,caddy,the front-door tests run the production Caddyfile on loopback)
	$(call apt_install,curl,curl,the front-door tests check that clients negotiate HTTP/2)

# The single sign-on tests run a real OpenID Connect provider (npm oidc-provider) from the committed lock file.
PEERS := tests/peers
$(PEERS)/node_modules/.package-lock.json: $(PEERS)/package-lock.json
	$(call apt_install,npm,nodejs npm,the sign-in tests run a real OpenID Connect provider on Node.js)
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

peers: $(PEERS)/node_modules/.package-lock.json

# loadgroup: tests sharing a costly fixture (xdist_group, e.g. the topology) run on one worker.
test: install browser peers proxy  ## The test suite (SQLite by default; DATABASE_URL / REDIS_URL switch it)
	$(BIN)/python -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)

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
