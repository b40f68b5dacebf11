"""System checks: a bad ``IBL_DATA_MANAGER`` value is reported at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import ibl_settings, throttle_rates, validate_settings

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
