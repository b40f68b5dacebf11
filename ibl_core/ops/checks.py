"""System checks: a bad ``IBL_DATA_MANAGER`` value is reported at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from ibl_core.conf import ibl_settings, throttle_rates, validate_settings

#: Cache backends whose counts no other process sees.
_UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": (
        "is per process (LocMemCache): with several worker processes each one counts "
        "alone, so a caller gets the rate once per worker"
    ),
    "django.core.cache.backends.dummy.DummyCache": (
        "stores nothing (DummyCache): no request is ever throttled"
    ),
}


@register()
def check_ibl_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report each problem of ``settings.IBL_DATA_MANAGER`` as ``ibl_core.E001``."""
    configured = getattr(settings, "IBL_DATA_MANAGER", None)
    return [
        Error(f"IBL_DATA_MANAGER: {problem}", id="ibl_core.E001")
        for problem in validate_settings(configured)
    ]


@register(Tags.caches, deploy=True)
def check_throttle_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """``ibl_core.W001`` (``check --deploy``): the throttles count in a cache that the
    worker processes do not share."""
    if validate_settings(getattr(settings, "IBL_DATA_MANAGER", None)):
        return []  # E001 says what is wrong first
    if all(rate is None for rate in throttle_rates().values()):
        return []
    alias = ibl_settings.THROTTLE_CACHE
    backend = str(settings.CACHES[alias].get("BACKEND", ""))
    problem = _UNSHARED_CACHES.get(backend)
    if problem is None:
        return []
    return [
        Warning(
            f"The throttle cache {alias!r} {problem}.",
            hint=(
                "Use a cache every worker shares (Redis, Memcached, the database cache), "
                "or silence ibl_core.W001 when the server runs a single process."
            ),
            id="ibl_core.W001",
        )
    ]


#: RETURNING (3.35), UPDATE ... FROM (3.33) and MATERIALIZED common table expressions
#: (3.35): the suggestion writer's statements.
SQLITE_MINIMUM = (3, 35, 0)


@register(Tags.database)
def check_sqlite_version(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``ibl_core.E002``: a SQLite library too old for the writes' statements."""
    from django.db import connections

    errors = []
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            continue
        version = connection.Database.sqlite_version_info  # type: ignore[attr-defined]
        if version < SQLITE_MINIMUM:
            errors.append(
                Error(
                    f"Database {alias!r}: SQLite {'.'.join(map(str, version))} is too old; "
                    f"ibl-data-manager needs {'.'.join(map(str, SQLITE_MINIMUM))} or newer.",
                    hint="Use a Python built with a newer SQLite, or PostgreSQL.",
                    id="ibl_core.E002",
                )
            )
    return errors
