"""The example project's settings plus the bench-only reference route (``bench.urls``)."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "bench-only-secret-key-never-used-in-production-0123456789"
)

from example_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The bench measures throughput from one API key: throttling would measure the limits.
IBL_DATA_MANAGER = {
    **IBL_DATA_MANAGER,  # noqa: F405
    "THROTTLE_RATES": dict.fromkeys(("reads", "writes", "bulk", "uploads")),
}
