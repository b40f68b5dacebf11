"""The probe URLs, for the host project's root: ``path("", include("ibl_core.ops.health_urls"))``.

Separate from :mod:`ibl_core.urls` so a project can mount the probes at the root
while its API lives under a prefix, or leave them out.
"""

from django.urls import URLPattern, path

from ibl_core.ops.health import liveness, readiness

urlpatterns: list[URLPattern] = [
    path("healthz", liveness, name="healthz"),
    path("readyz", readiness, name="readyz"),
]
