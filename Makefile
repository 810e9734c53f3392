# Aisle's two commands: `make run` and `make test`. Everything installs itself:
# uv comes from PyPI into .tools/ when missing, the machine's Python is used.
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test test-pgbouncer restore-check lint format check-migrations messages clean help

help:
	@echo "make run    install, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   install and run lint-imports, ruff and the whole test suite"
	@echo "make test-pgbouncer  orders, stock and webhook tests through PgBouncer (transaction mode)"
	@echo "make restore-check   seed, pg_dump, pg_restore into a fresh database and check it"

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Aisle is starting at http://$(HOST):$(PORT)/ (stop with Ctrl-C). The demo logins are above."
	@echo "The scheduler runs the periodic tasks (outbox republishing, expiry, reminders) beside it."
	trap 'kill 0' EXIT INT TERM; \
	$(PY) manage.py run_scheduler & \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

# Two passes: everything but the browser tests on two processes (pytest-xdist, a test
# file per process at a time, each with its own test database and Redis databases:
# tests/parallel.py), then the browser tests in one process (one server, one browser).
TEST_PROCESSES ?= 2
test: lint check-migrations
	$(PY) -m pytest -p tests.parallel -n $(TEST_PROCESSES) --dist loadfile --ignore=tests/browser
	$(PY) -m pytest tests/browser

# PostgreSQL at PG_HOST:PG_PORT (127.0.0.1:5432) as PG_USER (postgres); Debian's pgbouncer.
test-pgbouncer: install
	bin/pgbouncer-test

restore-check: install
	bin/backup-restore-check

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	$(PY) manage.py makemessages --locale zh_Hans --ignore ".venv/*" --ignore ".tools/*" --ignore "tests/*" --ignore "bench/*" --no-obsolete --no-location
	$(PY) manage.py compilemessages --locale zh_Hans --ignore ".venv/*" --ignore ".tools/*"

clean:
	rm -rf $(VENV) .tools aisle.sqlite3 aisle.sqlite3-* staticfiles
