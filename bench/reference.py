"""The reference for the list: the same page written as a plain Django view.

No DRF request, filter set, paginator or serializer: the API key is checked with
the same ``APIKeyAuthentication.authenticate_key`` (one query, and the same
once-a-minute ``last_used`` write), the caller must be an active admin member of
the platform (one query), then one COUNT and one ``values()`` page query, the same
columns as ``ibl_catalog.suggestions.selectors.suggestion_rows``, out through
``JsonResponse``.
"""

from __future__ import annotations

from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Trim
from django.http import HttpRequest, JsonResponse
from rest_framework.exceptions import AuthenticationFailed

from ibl_catalog.models import ProgramSuggestion
from ibl_core.authentication import APIKeyAuthentication
from ibl_core.models import Platform, PlatformMembership

PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def reference_suggestions(request: HttpRequest) -> JsonResponse:
    """``GET ?platform_key=&page=&page_size=``: the platform's suggestions, newest first."""
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
    is_admin = PlatformMembership.objects.filter(
        user=user, platform=platform, active=True, is_admin=True
    ).exists()
    if not (is_admin or user.is_superuser):
        return error(403, "Not an admin of this platform.")
    try:
        page = int(request.GET.get("page", 1))
        page_size = min(int(request.GET.get("page_size", PAGE_SIZE)), MAX_PAGE_SIZE)
    except ValueError:
        return error(400, "page and page_size must be integers.")
    if page < 1 or page_size < 1:
        return error(400, "page and page_size must be positive.")

    suggestions = ProgramSuggestion.objects.filter(platform=platform)
    count = suggestions.count()
    bottom = (page - 1) * page_size
    if page > 1 and bottom >= count:
        return error(404, "Invalid page.")
    rows = suggestions.order_by("-id").values(
        "id",
        "user_id",
        "accepted",
        "visible",
        "created",
        "modified",
        "metadata",
        username=F("user__username"),
        name=Trim(Concat(F("user__first_name"), Value(" "), F("user__last_name"))),
        platform_key=Value(platform.key, output_field=CharField()),
        program_key=F("program__program_key"),
        program_name=F("program__name"),
    )[bottom : bottom + page_size]
    return JsonResponse(
        {
            "count": count,
            "next": page_url(request, page + 1) if bottom + page_size < count else None,
            "previous": page_url(request, page - 1) if page > 1 else None,
            "results": list(rows),
        }
    )
