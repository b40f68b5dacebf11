"""``manage.py check --deploy`` is clean for the example project configured for production.

Run in a subprocess: the settings module reads the environment once, at import.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
CLEAN = "System check identified no issues (0 silenced)."


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without project settings, plus a production setup."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "IBL_", "AWS_", "DATABASE_", "REDIS_"))
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://api.example.com",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        # The throttles count in a cache every worker shares (not contacted by the check).
        "REDIS_URL": "redis://cache.internal:6379/0",
        **extra,
    }


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "storage",
    [
        {},
        {"IBL_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "ibl-media", "AWS_S3_REGION_NAME": "eu"},
    ],
    ids=["local-media", "s3-media"],
)
def test_production_settings_pass_the_deploy_check(tmp_path, storage):
    result = deploy_check(production_env(tmp_path, **storage))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == CLEAN
    assert result.stderr == ""  # no warning of any kind, Python's included


def test_the_development_defaults_are_reported(tmp_path):
    # Without the HTTPS variables the check must complain: it proves the test above
    # really runs the deployment checks.
    env = production_env(tmp_path)
    for name in (
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "DJANGO_SECURE_HSTS_PRELOAD",
    ):
        del env[name]
    result = deploy_check(env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008"):
        assert warning in result.stderr
    # Secure cookies are on by default whenever DEBUG is off.
    assert "security.W012" not in result.stderr
    assert "security.W016" not in result.stderr


def test_debug_and_the_development_secret_key_are_reported(tmp_path):
    env = production_env(tmp_path, DJANGO_DEBUG="true")
    del env["DJANGO_SECRET_KEY"]
    result = deploy_check(env)
    assert result.returncode != 0
    for warning in ("security.W018", "security.W009"):
        assert warning in result.stderr
    assert "example_project.W001" not in result.stderr  # DEBUG on: a local run


def test_a_cache_the_workers_do_not_share_is_reported(tmp_path):
    env = production_env(tmp_path)
    del env["REDIS_URL"]
    result = deploy_check(env)
    assert result.returncode != 0
    assert "ibl_core.W001" in result.stderr
    assert "per process (LocMemCache)" in result.stderr


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_development_secret_key_is_one_warning_per_start(tmp_path):
    (tmp_path / "static").mkdir()  # as after collectstatic
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    del env["DJANGO_SECRET_KEY"]
    # `make run` and `make serve` start with migrate, which runs the system checks once.
    migrate = run_python(env, "manage.py", "migrate", "--noinput", "-v0")
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stderr.count("DJANGO_SECRET_KEY is not set") == 1
    assert "?: (example_project.W001) DJANGO_SECRET_KEY is not set" in migrate.stderr
    # Every other process (each gunicorn worker loads the WSGI app) says nothing.
    worker = run_python(env, "-W", "error", "-c", "import example_project.wsgi")
    assert (worker.returncode, worker.stdout, worker.stderr) == (0, "", "")
    demo = run_python(env, "manage.py", "ibl_demo", "--skip-checks")
    assert (demo.returncode, demo.stderr) == (0, "")
