"""System checks of the example project.

A system check rather than a warning at import: settings are imported by every
process (each gunicorn worker, each management command), so an import-time warning
was printed five times per ``make run``; a check is reported once, by ``migrate`` or
``check``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

#: The key used when DJANGO_SECRET_KEY is not set; fine for a local demo only.
DEVELOPMENT_SECRET_KEY = "django-insecure-ibl-data-manager-development-only"


@register()
def development_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when a server without DEBUG signs sessions with the published key."""
    if settings.SECRET_KEY != DEVELOPMENT_SECRET_KEY or settings.DEBUG:
        return []
    return [
        Warning(
            "DJANGO_SECRET_KEY is not set: using the development secret key.",
            hint="Set DJANGO_SECRET_KEY to 50 or more random characters before real users "
            "log in (it signs sessions and CSRF tokens; API keys do not depend on it).",
            id="example_project.W001",
        )
    ]
