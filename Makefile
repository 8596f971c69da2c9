# The two commands: `make run` and `make test`.  Both bootstrap .venv themselves
# (re-installing only when pyproject.toml changed).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Test modules spread over worker processes (each its own database); PYTEST_WORKERS=0 runs
# everything in one process.
PYTEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

.PHONY: run test test-pg test-brokers lint browser-deps clean bench-rollup bench-load

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m app up --port $${PORT:-8000}

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests piccolo_conf.py
	$(VENV)/bin/ruff format --check app tests piccolo_conf.py
	$(VENV)/bin/mypy app

browser-deps:
	@bash tests/browser/ensure-chromium.sh

# The whole suite on SQLite, plus lint and types.  Browser tests run when chromium is
# present (installed with apt when possible); REQUIRE_BROWSER=1 makes its absence a failure.
test: $(STAMP)
	@bash tests/browser/ensure-chromium.sh || true
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -m "not brokers" $(XDIST)

# The suite against a real PostgreSQL: TEST_PG_ADMIN_URL is a superuser DSN; the tests
# create their own database, maintenance role (BYPASSRLS) and app role.
test-pg: $(STAMP)
	@test -n "$$TEST_PG_ADMIN_URL" || { echo "TEST_PG_ADMIN_URL is not set"; exit 2; }
	$(PY) -m pytest -m "not browser and not brokers" $(XDIST)

# Jobs through the real brokers (a worker SIGKILLed mid-job, two schedulers, /metrics and
# /healthz against each broker): TEST_REDIS_URL, TEST_AMQP_URL and TEST_PG_ADMIN_URL must
# all be set (.ci/run starts what is missing); a missing one fails, it does not skip.
test-brokers: $(STAMP)
	$(PY) -m pytest -m brokers tests/jobs tests/ops

# The roll-up benchmark (issue 6; not part of `make test`): a throwaway database, generated
# data, timings.  PostgreSQL needs a superuser DSN in TEST_PG_ADMIN_URL (default
# postgresql://postgres@127.0.0.1:5432/postgres).  Sizes and engine through BENCH_ARGS, e.g.
#   make bench-rollup BENCH_ARGS="--tenants 200 --months 36 --cases 10000000"
#   make bench-rollup BENCH_ARGS="--engine sqlite --tenants 20 --months 12 --cases 200000"
bench-rollup: $(STAMP)
	$(PY) -m tests.bench.rollup $(BENCH_ARGS)

# The load benchmark (issue 8; not part of `make test`): the busiest pages under wrk (Debian's
# `wrk`) on uvicorn and granian next to a bare Starlette + Jinja2 + asyncpg page, on PostgreSQL
# (2 workers; TEST_PG_ADMIN_URL as above) and SQLite (1 worker).  Full run ≈ 15–20 min on a quiet
# machine; a quick look:
#   make bench-load BENCH_ARGS="--engines pg --centres 5 --months 3 --duration 3 --warmup 1"
bench-load: $(STAMP)
	$(PY) -m tests.bench.load $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
