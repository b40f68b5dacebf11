"""The reference for the list: the same page and the same bytes, from a bare Django view.

No DRF request, filter set, pagination class, serializer or renderer. What the API
does in SQL, this view does with the project's own functions, so the comparison
measures the framework around the queries, not different queries:

* authentication: the same ``APIKeyAuthentication.authenticate_key`` (one query, and
  the same once-a-minute ``last_used`` write), the active platform (one query) and the
  caller's membership (one query), as the API's permission class reads them;
* the page: the ids first through ``ExactCountPaginator`` (``ibl_core/api/paginator.py``),
  with the same count strategy as the API: the count the database keeps
  (``counts.platform_count``) for an unfiltered list, the paginator's join-free exact
  count for a ``query=`` list; then ``selectors.rows_in_order`` for the rows;
* ``query=`` through ``search.search``, ``sort=`` through ``selectors.sort_columns``
  with the API's id tie-break;
* the body: the API's envelope (``count``, ``next``, ``previous``, ``results``), its
  field order, timestamps and links (pointing at the API's path), encoded as DRF's
  ``JSONRenderer`` encodes (compact, UTF-8). The bench checks that both answers are
  byte-identical before it times anything.

Parameters are trusted beyond what is needed to answer a well-formed request: the
API's validation of ``sort``/``query`` (django-filter) is part of what is measured.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import InvalidPage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS as KIND
from ibl_catalog.suggestions import counts, search, selectors
from ibl_catalog.suggestions.serializers import build_serializers
from ibl_core.api.paginator import ExactCountPaginator
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform, PlatformMembership
from ibl_core.tenancy.authentication import APIKeyAuthentication

DEFAULT_SORT = "-id"
SORT_COLUMNS = selectors.sort_columns(KIND)
#: The API's output fields in its order, and which of them are timestamps.
_OUTPUT = build_serializers(KIND).output()
FIELDS = list(_OUTPUT.fields)
TIMESTAMPS = {
    name for name, field in _OUTPUT.fields.items() if type(field).__name__ == "DateTimeField"
}


def error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def timestamp(value: Any) -> str | None:
    """DRF's ``DateTimeField`` output: ISO 8601 in the current time zone, ``Z`` for UTC."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def reference_suggestions(request: HttpRequest) -> HttpResponse:
    """``GET ?platform_key=&page=&page_size=&sort=&query=``: the API's page, bare."""
    parts = request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0] not in APIKeyAuthentication.keywords():
        return error(401, "Authentication credentials were not provided.")
    try:
        user, api_key = APIKeyAuthentication().authenticate_key(parts[1])
    except AuthenticationFailed as failure:
        return error(401, str(failure.detail))
    platform = Platform.objects.filter(key=request.GET.get("platform_key"), active=True).first()
    if platform is None:
        return error(404, "Platform not found.")
    if api_key.platform_id != platform.pk and not user.is_superuser:
        return error(403, "Not your platform.")
    membership = PlatformMembership.objects.filter(user=user, platform=platform).first()
    if not user.is_superuser and not (membership and membership.active and membership.is_admin):
        return error(403, "Not an admin of this platform.")
    try:
        page_number = int(request.GET.get("page", 1))
        page_size = min(int(request.GET.get("page_size", ibl_settings.PAGE_SIZE)),
                        ibl_settings.MAX_PAGE_SIZE)  # fmt: skip
    except ValueError:
        return error(400, "page and page_size must be integers.")

    suggestions = selectors.suggestions_of_platform(KIND, platform)
    text = request.GET.get("query")
    if text:
        suggestions = search.search(KIND, suggestions, text)
    sort = request.GET.get("sort") or DEFAULT_SORT
    prefix = "-" if sort.startswith("-") else ""
    suggestions = suggestions.order_by(f"{prefix}{SORT_COLUMNS[sort.lstrip('-')]}", f"{prefix}id")
    # The kept count for an unfiltered list, the paginator's exact count otherwise.
    total = None if text else (lambda: counts.platform_count(KIND, platform))
    # The API's strategy (views.page_in_one_query): the first pages in id order are
    # read in one query with their joins, the others ids first.
    one_query = not text and sort in ("id", "-id") and (page_number - 1) * page_size <= 1000
    source = (
        selectors.suggestion_rows(KIND, suggestions, platform)
        if one_query
        else suggestions.values_list("id", flat=True)
    )
    paginator = ExactCountPaginator(source, page_size, total=total)
    try:
        page = paginator.page(page_number)
    except InvalidPage:
        return error(404, "Invalid page.")
    rows = list(page) if one_query else selectors.rows_in_order(KIND, list(page), platform)

    url = request.build_absolute_uri(reverse("program-suggestions-manage"))
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    previous = None
    if page.has_previous():
        number = page.previous_page_number()
        previous = remove_query_param(url, "page") if number == 1 else (
            replace_query_param(url, "page", number)
        )  # fmt: skip
    following = (
        replace_query_param(url, "page", page.next_page_number()) if page.has_next() else None
    )
    body = {
        "count": paginator.count,
        "next": following,
        "previous": previous,
        "next_page": following,
        "previous_page": previous,
        "results": [
            {name: timestamp(row[name]) if name in TIMESTAMPS else row[name] for name in FIELDS}
            for row in rows
        ],
    }
    text_body = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text_body = text_body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(text_body.encode(), content_type="application/json")
