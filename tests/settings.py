"""Test settings: the example project with fast password hashing.

``DATABASE_URL`` picks the database (SQLite by default, PostgreSQL in
``make test-postgres``).
"""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789"
)

from example_project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files straight from the apps (no collectstatic before the suite).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests send many requests as one caller: the throttles run on every request but never
# trigger, except where tests/core/test_throttling.py sets small rates. The counts are
# cleared before each test (tests/conftest.py).
IBL_DATA_MANAGER = {
    **IBL_DATA_MANAGER,  # noqa: F405
    "THROTTLE_RATES": dict.fromkeys(("reads", "writes", "bulk", "uploads"), "100000/hour"),
    # Webhook receivers of the suite listen on loopback (tests/core/test_webhooks_delivery.py
    # turns this off to check the refusals).
    "WEBHOOKS_ALLOW_PRIVATE": True,
}

# Tasks are recorded, not run: a test runs the work it checks itself (the delivery of a
# webhook, a fan-out), synchronously. The backends themselves are tested on their own:
# the database queue by its worker command in a subprocess, RQ against a local Redis
# (tests/core/test_tasks.py).
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
