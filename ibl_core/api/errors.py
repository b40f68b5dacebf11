"""JSON error answers for the API's paths: Django's ``handler400/403/404/500``.

Django answers a URL that matches no pattern, and an exception that no view
handled, with HTML pages. A client of the API reads JSON, so under the API's paths
(``API_PATH_PREFIXES``, ``["/api/"]`` by default) these handlers answer with DRF's
error body, ``{"detail": "..."}``; elsewhere (the admin, a landing page) they hand
over to Django's own pages. Wire them in the project's root URLconf::

    handler400 = "ibl_core.api.errors.bad_request"
    handler403 = "ibl_core.api.errors.permission_denied"
    handler404 = "ibl_core.api.errors.page_not_found"
    handler500 = "ibl_core.api.errors.server_error"

With ``DEBUG`` on, Django shows its debug pages instead, as it always does.

A request for an API URL without its trailing slash gets a 404 that names the URL
with the slash. The API's views opt out of ``CommonMiddleware``'s ``APPEND_SLASH``
redirect (:class:`ibl_core.api.views.PlatformScopedView`): a 301 would turn a POST into a
GET, and the client would read a list where it meant to write.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import is_valid_path
from django.views import defaults

from ibl_core.conf import ibl_settings

NOT_FOUND = "Not found."


def is_api_path(request: HttpRequest) -> bool:
    """Whether ``request`` is for the API (its path is under ``API_PATH_PREFIXES``)."""
    return request.path_info.startswith(tuple(ibl_settings.API_PATH_PREFIXES))


def error_response(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request):
        return error_response("Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request):
        return error_response("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request):
        return error_response(not_found_detail(request), 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request):
        return error_response("A server error occurred.", 500)
    return defaults.server_error(request)


def not_found_detail(request: HttpRequest) -> str:
    """``Not found.``, naming the URL with its trailing slash when that one exists."""
    path = request.path_info
    urlconf = getattr(request, "urlconf", None)
    if not path.endswith("/") and is_valid_path(f"{path}/", urlconf):
        url = request.get_full_path(force_append_slash=True)
        return f"Not found. This URL ends with a slash: {url}"
    return NOT_FOUND
