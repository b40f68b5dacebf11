"""The example project's own pages: a landing page at ``/`` and ``/favicon.ico``."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.settings import spectacular_settings

FAVICON = Path(__file__).resolve().parent / "static" / "example_project" / "favicon.ico"


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """Where a browser pointed at the server lands: links to the docs, admin and probes."""
    context = {"description": spectacular_settings.DESCRIPTION}  # the API docs' own words
    return render(request, "example_project/index.html", context)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    """``/favicon.ico``, which browsers ask for on every page (the admin's too)."""
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
