"""URLs of the example project: landing page, admin, API, API docs, health probes, media."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from example_project.views import favicon, landing

urlpatterns: list[URLPattern | URLResolver] = [
    path("", landing, name="landing"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("ibl_core.urls")),
    path("", include("ibl_core.ops.health_urls")),
    path("", include("ibl_core.api.docs_urls")),
]


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve an uploaded file from MEDIA_ROOT, read per request (tests override it)."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


if not settings.MEDIA_URL.startswith(("http://", "https://")):
    # Uploaded images live on the local file system: serve them ourselves so the
    # URLs the API returns can be fetched from the running server (gunicorn too).
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media))

# JSON errors under /api/ (Django's HTML pages elsewhere), with DEBUG off too.
handler400 = "ibl_core.api.errors.bad_request"
handler403 = "ibl_core.api.errors.permission_denied"
handler404 = "ibl_core.api.errors.page_not_found"
handler500 = "ibl_core.api.errors.server_error"
