"""The limit of a public path: the same bytes and content type, from memory.

``GET /bench/same-bytes/?path=/ob/v2/assertions/x`` answers what ``path`` answered the
first time this worker was asked for it (with the same ``Accept`` header): the body,
status and content type are kept in a dict of the worker, and every later request is a
dictionary lookup and an ``HttpResponse``. It runs in the same gunicorn, through the same
middleware, so a public path's ratio to it measures everything the path does beyond
handing out bytes it already has.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import resolve

#: (path with its query string, Accept) -> (status, body, content type)
KEPT: dict[tuple[str, str], tuple[int, bytes, str]] = {}


def same_bytes(request: HttpRequest) -> HttpResponse:
    target = request.GET.get("path", "")
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    found = KEPT.get((target, accept))
    if found is None:
        inner = RequestFactory().get(target, HTTP_ACCEPT=accept, HTTP_HOST=request.get_host())
        match = resolve(inner.path_info)
        answer = match.func(inner, *match.args, **match.kwargs)
        if hasattr(answer, "render"):
            answer.render()
        found = (answer.status_code, answer.content, answer["Content-Type"])
        KEPT[(target, accept)] = found
    status, body, content_type = found
    return HttpResponse(body, status=status, content_type=content_type)
