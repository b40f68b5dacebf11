"""What every suggestion endpoint shares: the base view and the errors of ``manage``.

Its own module so that the list, bulk and learner views (``views.py``) and the group
views (``group_views.py``) both build on it without importing each other.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from ibl_catalog.suggestions import selectors
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.serializers import SuggestionSerializers
from ibl_core.api.filter_backends import PlatformFilterBackend
from ibl_core.api.views import PlatformScopedView
from ibl_core.models import Platform
from ibl_core.tenancy.permissions import CanManagePlatform
from ibl_core.tenancy.platforms import department_mode_requested, platform_for_request
from ibl_core.tenancy.roles import managed_user_ids


class SuggestionBaseView(PlatformScopedView):
    """What the endpoints of a kind share: the kind, its access rule, JSON bodies, and
    for lists their filter set (``query``, ``sort``)."""

    kind: SuggestionKind
    serializers: SuggestionSerializers
    permission_classes = [CanManagePlatform]
    filter_backends = [PlatformFilterBackend]
    filterset_class: Any = None  # set per kind by suggestion_urls

    def filter_queryset(self, queryset: Any) -> Any:
        # Without a filter parameter there is nothing to check or apply: skip building
        # the filter set and its form (about 8 % of a plain list request).
        filters = self.filterset_class
        params = self.request.query_params
        if filters is None or params.keys().isdisjoint(filters.base_filters):
            return queryset
        # A valid sort alone: the filter set would order the queryset just so (the
        # form, its validation and the filter set cost more than the page's query).
        sort, sort_filter = params.get("sort"), filters.base_filters.get("sort")
        if (
            sort
            and sort_filter is not None
            and params.keys() & filters.base_filters.keys() == {"sort"}
            and sort in {value for value, _ in sort_filter.extra.get("choices", ())}
            and callable(sort_filter.method)
        ):
            return sort_filter.method(queryset, "sort", sort)
        return super().filter_queryset(queryset)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A malformed department_mode is a 400 for every caller, not only for the
        # department admins whose permission class happens to read it.
        department_mode_requested(request)

    def get_platform(self) -> Platform:
        return platform_for_request(self.request, self)

    def managed_suggestions(self) -> Any:
        """The platform's suggestions of the users the caller may manage."""
        platform = self.get_platform()
        return selectors.suggestions_of_platform(
            self.kind, platform, managed_user_ids(self.request, platform)
        )
