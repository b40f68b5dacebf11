"""``ibl_core.sql.cursor.fetch_one``: a hot path's one read, which is also the health
check of a persistent connection, and the example project's prepared statements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from ibl_core.sql.cursor import fetch_one

ROOT = Path(__file__).resolve().parents[2]

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a PostgreSQL server's connection; run make test-postgres",
)


@pytest.mark.django_db
def test_the_first_row_or_none():
    assert fetch_one("SELECT %s, %s", [7, "seven"]) == (7, "seven")
    assert fetch_one("SELECT 1 WHERE 1 = %s", [2]) is None


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    """End the server process of ``pid`` from another connection, as a database restart
    or an idle timeout would."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_dead_persistent_connection_is_replaced_and_the_read_answers():
    fetch_one("SELECT 1", [])
    dead = backend_pid()
    terminate(dead)
    # A new request: Django would ping the kept connection before its first query.
    connection.health_check_enabled = True
    connection.health_check_done = False

    assert fetch_one("SELECT %s", ["still answered"]) == ("still answered",)
    assert backend_pid() != dead


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_error_of_the_statement_is_raised_once_on_the_same_connection():
    fetch_one("SELECT 1", [])
    pid = backend_pid()
    connection.health_check_enabled = True
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")
    try:
        connection.health_check_done = False
        with pytest.raises(OperationalError, match="statement timeout"):
            fetch_one("SELECT pg_sleep(1)", [])
        assert backend_pid() == pid  # not mistaken for a dead connection
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")


def example_database_settings(**environ: str) -> dict:
    """The example project's ``DATABASES["default"]`` for ``environ``."""
    code = (
        "import json, example_project.settings as s;"
        "d = s.DATABASES['default'];"
        "print(json.dumps({'CONN_MAX_AGE': d['CONN_MAX_AGE'], 'OPTIONS': d.get('OPTIONS', {})}))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_SETTINGS"))
    }
    env.update(environ, DJANGO_SECRET_KEY="x" * 50)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


POSTGRES = "postgres://u@db.internal:5432/ibl"


def test_prepared_statements_follow_persistent_connections():
    kept = example_database_settings(DATABASE_URL=POSTGRES, DATABASE_CONN_MAX_AGE="60")
    assert kept["OPTIONS"]["prepare_threshold"] == 5
    # No persistent connections (the default, and behind PgBouncer in transaction
    # mode): Django's default, nothing prepared.
    fresh = example_database_settings(DATABASE_URL=POSTGRES)
    assert "prepare_threshold" not in fresh["OPTIONS"]
    # Either way, the variable decides: empty turns them off, a number sets the count.
    off = example_database_settings(
        DATABASE_URL=POSTGRES, DATABASE_CONN_MAX_AGE="60", DATABASE_PREPARE_THRESHOLD=""
    )
    assert "prepare_threshold" not in off["OPTIONS"]
    on = example_database_settings(DATABASE_URL=POSTGRES, DATABASE_PREPARE_THRESHOLD="2")
    assert on["OPTIONS"]["prepare_threshold"] == 2
    sqlite = example_database_settings(DATABASE_CONN_MAX_AGE="60")
    assert "prepare_threshold" not in sqlite["OPTIONS"]
