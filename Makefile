# OpenIOP: two commands do all the set-up on a fresh machine.
#   make demo   - create .venv, install, migrate, seed a demo program, serve on 127.0.0.1:8000
#   make test   - the whole suite on SQLite and on PostgreSQL at the real time, then on SQLite
#                 again under clocks shifted to instants that break date code (installs Chromium
#                 if missing)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/openiop
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: install demo test test-sqlite test-postgres test-clock lint chromium check-postgres bench clean

$(STAMP): pyproject.toml
	@echo "==> Creating $(VENV) and installing OpenIOP with its test tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/openiop demo

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "==> Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	fi
	@command -v chromium >/dev/null 2>&1 || { echo "ERROR: chromium is missing; browser tests cannot run" >&2; exit 1; }

check-postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "ERROR: PostgreSQL is not reachable on 127.0.0.1:5432; start it (see README) - the suite must run on both databases" >&2; exit 1; }

# Instants chosen to break date code (docs/architecture.md, "One clock"); the clock keeps ticking:
#   Monday 00:05 UTC, New York still on Sunday (another date and another ISO week)
#   US spring-forward day, 03:05 EDT just after the jump (a 23-hour day)
#   US fall-back day, 01:30 EST in the repeated hour (a 25-hour day)
#   New Year in UTC, still 31 December 19:30 in New York
#   1 March in UTC, still 29 February (leap day) 22:00 in New York
CLOCK_INSTANTS ?= 2027-01-04T00:05:00+00:00 2027-03-14T07:05:00+00:00 \
	2027-11-07T06:30:00+00:00 2028-01-01T00:30:00+00:00 2028-03-01T03:00:00+00:00

test: install chromium check-postgres
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-clock

test-sqlite: install
	@echo "==> Test suite on SQLite"
	OPENIOP_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider

test-clock: install
	@set -e; n=0; total=$$(echo $(CLOCK_INSTANTS) | wc -w); \
	for instant in $(CLOCK_INSTANTS); do \
	  n=$$((n + 1)); \
	  echo "==> Test suite on SQLite with the clock at $$instant ($$n of $$total)"; \
	  OPENIOP_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider --clock-at=$$instant; \
	done

test-postgres: install check-postgres
	@echo "==> Test suite on PostgreSQL"
	DATABASE_URL=$(PG_URL) OPENIOP_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy openiop bench
	$(BIN)/openiop makemigrations --check --dry-run
	OPENIOP_ENV=production OPENIOP_SECRET_KEY=ci-only-$$(printf 'k%.0s' $$(seq 1 60)) \
	  OPENIOP_ALLOWED_HOSTS=iop.example.org OPENIOP_VAR_DIR=$$(mktemp -d) \
	  $(BIN)/openiop check --deploy --fail-level WARNING

bench: install
	$(BIN)/python bench/planner_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
