# Entry points. Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/ibl_data_manager
PYTEST_ARGS ?=
# The worker `make run` starts beside gunicorn: the database queue's, or RQ's when
# TASKS_BACKEND=rq (docs/events.md). migrate already ran the system checks.
TASK_WORKER := $(if $(filter rq,$(TASKS_BACKEND)),rqworker --with-scheduler default,db_worker --no-reload) --skip-checks

.PHONY: help run serve test test-fast test-postgres lint docs format schema bench bench-table soak clean browser
.DEFAULT_GOAL := help

# `make run` on a busy port stops here, in one line, before the venv, the database or
# the running demo's API key are touched (example_project/check_port.py).
ifneq ($(filter run,$(MAKECMDGOALS)),)
BUSY_PORT := $(shell $(PYTHON) -m example_project.check_port 127.0.0.1 $(PORT))
ifneq ($(BUSY_PORT),)
$(error $(BUSY_PORT))
endif
endif

help: ## List the targets
	@echo "make <target>    variables: PORT=$(PORT) PYTHON=$(PYTHON) POSTGRES_URL=$(POSTGRES_URL)"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[server,postgres]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# The port is known to be free (above): only then may ibl_demo replace the demo's key.
# migrate ran the system checks; ibl_demo need not repeat their warnings. One log line
# per request: the JSON line of ibl.request (gunicorn's access log stays off).
run: $(VENV)/.installed-run ## Demo server on 127.0.0.1:PORT: venv, migrate, demo data and key, gunicorn and a task worker
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ibl_demo --skip-checks --base-url http://127.0.0.1:$(PORT)
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/python manage.py $(TASK_WORKER) & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/gunicorn example_project.wsgi \
		--bind 127.0.0.1:$(PORT) --workers 2 --threads 4

# The browser tests (tests/credentials/test_pages_browser.py) drive Debian's chromium with Playwright,
# never a downloaded browser. Installed when missing and possible (root, apt-get);
# otherwise those tests are skipped with the reason.
browser: ## Install Debian's chromium for the browser tests, when missing
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive; \
			{ apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } \
				>/dev/null 2>&1 || echo "!! could not install chromium: the browser tests will be skipped"; \
		else echo "!! chromium is missing (apt-get install chromium): the browser tests will be skipped"; fi; }

TEST_WORKERS ?= 2

# The whole suite runs on TEST_WORKERS processes (pytest-xdist; 0 runs it in this
# process), a module per process at a time (--dist loadfile): a module's live server,
# host project or worker is started once. Modules go out longest first, as
# tests/conftest.py orders them (--no-loadscope-reorder keeps that order).
test: $(VENV)/.installed-dev browser ## The whole pytest suite on SQLite, on 2 processes (PYTEST_ARGS to narrow it): about 4 min
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The tiers left out are pytest markers (pyproject.toml; docs/development.md), and what
# is left runs on TEST_WORKERS processes (pytest-xdist; 0 runs it in this process).
# The fuzz module is not even collected: building its schema at import costs each
# process about 6 s of CPU.
FAST_MARKERS := not live and not fuzz and not slow
test-fast: $(VENV)/.installed-dev ## The suite without live servers, fuzzing and slow tests, on 2 processes: about 1.5 min
	$(BIN)/python -m pytest -m "$(FAST_MARKERS)" --ignore=tests/project/test_fuzz.py \
		-n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev browser ## The same suite on PostgreSQL (DATABASE_URL, default POSTGRES_URL), on 2 processes: about 5 min
	DATABASE_URL=$${DATABASE_URL:-$(POSTGRES_URL)} $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## ruff (lint and format check) and mypy: 30 s
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ibl_core ibl_catalog ibl_credentials example_project

# --strict: a broken link, anchor or include fails the build. Nothing is fetched.
docs: $(VENV)/.installed-dev ## Build the documentation site into site/ (mkdocs --strict): 6 s
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Regenerate the committed OpenAPI schema (tests/project/test_schema.py fails when it is stale).
schema: $(VENV)/.installed-dev ## Regenerate docs/openapi.yaml (the suite fails when it is stale)
	DJANGO_SECRET_KEY=schema-generation-only $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file docs/openapi.yaml

format: $(VENV)/.installed-dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the venv, the SQLite database, media, collected static files and the built docs
	rm -rf $(VENV) db.sqlite3* media staticfiles site

# Production-style serving: configuration from the environment (docs/production.md),
# gunicorn.conf.py for the server, no demo data. The s3 extra too, for IBL_STORAGE=s3.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[server,postgres,s3]'
	touch $@

serve: $(VENV)/.installed-serve ## Production-style: migrate, collectstatic, gunicorn.conf.py, no demo data
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py

# Benchmarks (not part of `make test`): gunicorn on 127.0.0.1, each target a ratio to a
# reference measured in the same run; the table is also written to
# bench/results/<database>.json (docs/performance.md), then docs/performance.md's
# table is regenerated from both results files. SQLite by
# default; with DATABASE_URL=postgres://... a scratch database on that server
# (`ibl_bench`, or BENCH_DB_NAME; dropped and created).
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev ## Benchmarks through gunicorn (not part of make test): about 7 minutes on SQLite, 9 on PostgreSQL
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.table

bench-table: $(VENV)/.installed-dev ## Rewrite docs/performance.md's bench table from bench/results
	$(BIN)/python -m bench.table

# Soak (not part of `make test`): SOAK_SECONDS of concurrent mixed traffic through
# gunicorn, webhooks delivered by two db_worker processes, on SQLite then on PostgreSQL
# (a scratch database `ibl_soak` on the server of DATABASE_URL, default POSTGRES_URL).
# Fails on any 5xx, a row the load generator cannot account for, or an event not
# delivered exactly once (docs/performance.md, "Soak").
SOAK_SECONDS ?= 600
soak: $(VENV)/.installed-dev ## Mixed traffic for SOAK_SECONDS (600) per database, SQLite then PostgreSQL: 0 x 5xx, nothing lost
	DATABASE_URL= SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m bench.soak
	DATABASE_URL=$${DATABASE_URL:-$(POSTGRES_URL)} SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m bench.soak
