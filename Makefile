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

.PHONY: install demo test test-sqlite test-postgres test-clock lint chromium check-postgres bench bench-quick clean

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
#   Monday 1 January 2029 00:05 UTC: New York still on Sunday 31 December (another date, another
#     ISO week, another year)
#   US spring-forward day, 03:05 EDT just after the jump (a 23-hour day)
#   US fall-back day, 01:30 EST in the repeated hour (a 25-hour day)
#   1 March in UTC, still 29 February (leap day) 22:00 in New York
# The demo seed's tests are left out of these runs: they are the slowest (a seeded world each)
# and set their own clocks already (midnight UTC, both DST days, a late Sunday evening).
CLOCK_INSTANTS ?= 2029-01-01T00:05:00+00:00 2027-03-14T07:05:00+00:00 \
	2027-11-07T06:30:00+00:00 2028-03-01T03:00:00+00:00

# Two test processes (pytest-xdist) for the machine's two cores, test by test; tests that share
# something outside the database (a Redis database) carry one xdist_group mark and run in one
# process (--dist loadgroup). PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
PYTEST := OPENIOP_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
	-n $(PYTEST_WORKERS) --dist loadgroup

test: install chromium check-postgres
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-clock

test-sqlite: install
	@echo "==> Test suite on SQLite"
	$(PYTEST)

test-clock: install
	@set -e; n=0; total=$$(echo $(CLOCK_INSTANTS) | wc -w); \
	for instant in $(CLOCK_INSTANTS); do \
	  n=$$((n + 1)); \
	  echo "==> Test suite on SQLite with the clock at $$instant ($$n of $$total)"; \
	  $(PYTEST) --clock-at=$$instant --ignore=openiop/demo/tests; \
	done

test-postgres: install check-postgres
	@echo "==> Test suite on PostgreSQL"
	DATABASE_URL=$(PG_URL) $(PYTEST)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy openiop bench
	$(BIN)/openiop makemigrations --check --dry-run
	OPENIOP_ENV=production OPENIOP_SECRET_KEY=ci-only-$$(printf 'k%.0s' $$(seq 1 60)) \
	  OPENIOP_ALLOWED_HOSTS=iop.example.org OPENIOP_VAR_DIR=$$(mktemp -d) \
	  $(BIN)/openiop check --deploy --fail-level WARNING

# All four benchmarks, one after another (never in parallel: the machine has 2 cores), at the
# sizes docs/benchmarks.md reports; each rewrites its page in docs/. Takes a long while
# (the planner alone solves 18 weeks with up to 60 s each). `make bench-quick` runs each at
# its smallest size in about two minutes to check that they work, writing nothing in docs/.
bench: install
	@echo "==> Benchmark 1 of 4: audit chain verification, 100,000 events (bench/audit_bench.py)"
	$(BIN)/python bench/audit_bench.py
	@echo "==> Benchmark 2 of 4: growth model fit, 5,000 x 12 (bench/growth_model_bench.py)"
	$(BIN)/python bench/growth_model_bench.py
	@echo "==> Benchmark 3 of 4: not-on-track alert validation (bench/outcomes_validation.py)"
	$(BIN)/python bench/outcomes_validation.py
	@echo "==> Benchmark 4 of 4: weekly planner, CP-SAT vs greedy (bench/planner_bench.py)"
	$(BIN)/python bench/planner_bench.py
	@echo "==> Benchmarks done: see docs/benchmarks.md and the pages it links"

bench-quick: install
	@set -e; out=$$(mktemp -d); \
	echo "==> Benchmark 1 of 4 (quick): audit chain verification, 2,000 events"; \
	$(BIN)/python bench/audit_bench.py --events 2000 --no-write; \
	echo "==> Benchmark 2 of 4 (quick): growth model fit, 500 x 12, one run"; \
	$(BIN)/python bench/growth_model_bench.py --participants 500 --runs 1 --output $$out/growth.md; \
	echo "==> Benchmark 3 of 4 (quick): not-on-track alert validation, 1 seed, 150 participants"; \
	$(BIN)/python bench/outcomes_validation.py --seeds 1 --train-participants 150 \
	  --test-participants 150 --output $$out/outcomes.md --no-data; \
	echo "==> Benchmark 4 of 4 (quick): weekly planner, 50 participants, tight, 10 s"; \
	$(BIN)/python bench/planner_bench.py --sizes 50 --availability tight --mixed-sizes \
	  --target-seeds --time-limit 10 --output $$out/planner.md; \
	echo "==> Quick benchmarks done; reports in $$out (docs/ untouched)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
