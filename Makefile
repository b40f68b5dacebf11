# Entry points. Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/ibl_data_manager
PYTEST_ARGS ?=

.PHONY: run serve test test-postgres lint format schema bench clean

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

run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ibl_demo --base-url http://127.0.0.1:$(PORT)
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(BIN)/gunicorn example_project.wsgi \
		--bind 127.0.0.1:$(PORT) --workers 2 --access-logfile -

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-dev
	DATABASE_URL=$${DATABASE_URL:-$(POSTGRES_URL)} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ibl_core ibl_catalog ibl_credentials example_project

# Regenerate the committed OpenAPI schema (tests/test_schema.py fails when it is stale).
schema: $(VENV)/.installed-dev
	DJANGO_SECRET_KEY=schema-generation-only $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file docs/openapi.yaml

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles

# Production-style serving: configuration from the environment (docs/production.md),
# gunicorn.conf.py for the server, no demo data. The s3 extra too, for IBL_STORAGE=s3.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[server,postgres,s3]'
	touch $@

serve: $(VENV)/.installed-serve
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py

# Benchmarks (not part of `make test`): gunicorn on 127.0.0.1, each number a ratio to a
# reference measured in the same run; the table is also written to
# bench/results/<database>.json (docs/performance.md). SQLite by default; with
# DATABASE_URL=postgres://... a database `ibl_bench` on that server (dropped after).
BENCH_ARGS ?=
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(BENCH_ARGS)
