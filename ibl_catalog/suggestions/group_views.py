"""The ``manage/group/`` endpoint, built once per suggestion kind by ``suggestion_urls``."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_catalog.suggestions import groups
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.base_views import SuggestionBaseView
from ibl_catalog.suggestions.schema import document_group_view
from ibl_catalog.suggestions.serializers import (
    GroupSuggestionSerializers,
    represent_rows,
)
from ibl_core.api.pagination import CatalogPagination, positive_int_param


class GroupSuggestionManageView(SuggestionBaseView):
    """GET (list), POST (create or update, fanned out) and DELETE of group suggestions."""

    group_serializers: GroupSuggestionSerializers
    pagination_class = CatalogPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return groups.group_model(self.kind)._default_manager.none()
        return groups.group_suggestions_of(self.kind, self.request, self.get_platform()).order_by(
            groups.DEFAULT_GROUP_SORT
        )

    def get_serializer_class(self) -> Any:
        if self.request is not None and self.request.method == "POST":
            return self.group_serializers.write
        return self.group_serializers.output

    def get(self, request: Request) -> Response:
        # The page's ids first, then the rows and member counts of those ids only.
        suggestions = self.filter_queryset(self.get_queryset())
        page_ids = self.paginate_queryset(suggestions.values_list("id", flat=True)) or []
        rows = groups.group_rows(self.kind, page_ids, self.get_platform())
        return self.get_paginated_response(represent_rows(self.group_serializers.output, rows))

    def post(self, request: Request) -> Response:
        body = self.group_serializers.write(data=request.data)
        body.is_valid(raise_exception=True)
        platform = self.get_platform()
        row = groups.upsert_group_suggestion(
            self.kind,
            request=request,
            platform=platform,
            data=body.validated_data,
            actor_id=request.user.pk,
        )
        return Response(self.group_serializers.output(row).data)

    def delete(self, request: Request) -> Response:
        if "suggestion_id" not in request.query_params:
            raise ValidationError({"suggestion_id": ["This query parameter is required."]})
        suggestion_id = positive_int_param(request, "suggestion_id", 0)
        platform = self.get_platform()
        groups.delete_group_suggestion(
            groups.group_suggestions_of(self.kind, request, platform), self.kind, suggestion_id
        )
        return Response({"detail": "Group suggestion deleted.", "suggestion_id": suggestion_id})


def build_group_view(kind: SuggestionKind, serializers: GroupSuggestionSerializers) -> type:
    """``kind``'s documented group-suggestion view class."""
    view = type(
        f"{kind.label.title()}GroupSuggestionManageView",
        (GroupSuggestionManageView,),
        {
            "kind": kind,
            "group_serializers": serializers,
            "filterset_class": groups.build_group_filterset(kind),
            "__module__": __name__,
        },
    )
    return document_group_view(kind, view)
