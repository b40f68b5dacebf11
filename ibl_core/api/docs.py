"""The API documentation pages (Swagger UI, ReDoc), which fetch nothing from the network.

With ``drf_spectacular_sidecar`` the pages load their scripts and styles from the
project's static files, yet the bundles still name outside hosts: ReDoc's side
menu shows a logo from ``cdn.redoc.ly`` and Swagger UI posts the schema's URL to
``validator.swagger.io`` for its validity badge. The pages therefore carry a
Content-Security-Policy that lets the browser fetch only from this site (and from
``STATIC_URL``'s host when static files live elsewhere): anything else is refused
before a request is made. A refused fetch still logs an error in the browser's
console, so neither is even tried: Swagger UI's validator is switched off, and ReDoc's
bundle is served by :func:`redoc_bundle` with the logo's address replaced by an empty
in-page image (ReDoc's option-less footer has no switch for it).

The policy is about where the browser may connect, not about scripts: the pages'
own inline scripts and the bundles' run-time code generation stay allowed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.parsers import API_PARSERS


def static_origin() -> str | None:
    """The origin of ``STATIC_URL`` when static files are served from another host."""
    parts = urlsplit(str(settings.STATIC_URL or ""))
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def docs_content_security_policy() -> str:
    """Where the documentation pages may fetch from: this site, ``data:`` and ``blob:``."""
    own = " ".join(source for source in ("'self'", static_origin()) if source)
    directives = {
        "default-src": "'self'",
        # The pages' inline initialisation; the bundles compile JSON-schema checks.
        "script-src": f"{own} 'unsafe-inline' 'unsafe-eval'",
        "style-src": f"{own} 'unsafe-inline'",  # styles the UIs inject
        "img-src": f"{own} data: blob:",
        "font-src": f"{own} data:",
        "worker-src": "'self' blob:",  # ReDoc's search index
        "connect-src": "'self'",  # the schema, and "Try it out" requests
        "frame-src": "'none'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


class OfflineDocsMixin:
    """Adds :func:`docs_content_security_policy` to every answer of a docs view."""

    parser_classes: Sequence[type[BaseParser]] = API_PARSERS

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = docs_content_security_policy()
        return response


class SwaggerView(OfflineDocsMixin, SpectacularSwaggerView):
    """Swagger UI, without the online validator badge (it would send the schema's URL
    to validator.swagger.io)."""

    @extend_schema(exclude=True)  # a page about the API, not a part of it
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(ui_settings, dict):  # a project may give it as a JS string instead
            response.data["settings"] = json.dumps({**ui_settings, "validatorUrl": None}, indent=2)
        return response


class RedocView(OfflineDocsMixin, SpectacularRedocView):
    """ReDoc, from a template that preloads no web fonts (the system fonts are used)."""

    template_name = "ibl_core/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        if spectacular_settings.REDOC_DIST == "SIDECAR":
            response.data["redoc_standalone"] = reverse("redoc-bundle")
        return response


REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
#: The side menu's "API docs by Redocly" logo, fetched from a CDN on every load.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
#: An empty image in the page itself: the menu keeps its text, nothing is fetched.
EMPTY_IMAGE = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
)


SOURCE_MAP = "//# sourceMappingURL=redoc.standalone.js.map"


@functools.cache
def _bundle_without_logo(path: Path, modified: float, source_map_url: str) -> bytes:
    """The bundle at ``path`` with the logo's address replaced, and its source map named
    where the static files serve it; read once per version of the file."""
    text = path.read_text(encoding="utf-8").replace(REDOC_LOGO, EMPTY_IMAGE)
    return text.replace(SOURCE_MAP, f"//# sourceMappingURL={source_map_url}").encode()


@require_safe
@cache_control(public=True, max_age=86400)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    """ReDoc's script from ``drf_spectacular_sidecar``, fetching nothing from elsewhere."""
    found = finders.find(REDOC_BUNDLE)
    if not found:
        raise Http404("ReDoc's bundle is not installed (drf_spectacular_sidecar).")
    path = Path(str(found))
    return HttpResponse(
        _bundle_without_logo(path, path.stat().st_mtime, static(f"{REDOC_BUNDLE}.map")),
        content_type="text/javascript; charset=utf-8",
    )
