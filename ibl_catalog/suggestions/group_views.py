"""The ``manage/group/`` endpoint, built once per suggestion kind by ``suggestion_urls``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_catalog.suggestions import groups
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.base_views import MANAGE_ERRORS, SuggestionBaseView
from ibl_catalog.suggestions.serializers import (
    DeleteResultSerializer,
    GroupSuggestionSerializers,
    represent_rows,
)
from ibl_core.api.pagination import CatalogPagination, positive_int_param
from ibl_core.api.schema import error_responses, platform_parameters


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
        suggestion_id = groups.upsert_group_suggestion(
            self.kind,
            request=request,
            platform=platform,
            data=body.validated_data,
            actor_id=request.user.pk,
        )
        (row,) = groups.group_rows(self.kind, [suggestion_id], platform)
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


def group_operation_id(kind: SuggestionKind, action: str) -> str:
    return f"catalog_suggestions_{kind.label}_manage_group_{action}"


def document_group_view(kind: SuggestionKind, view: type) -> type:
    """The OpenAPI description of ``kind``'s group endpoint (GET, POST, DELETE)."""
    classes: GroupSuggestionSerializers = view.group_serializers  # type: ignore[attr-defined]
    errors = MANAGE_ERRORS
    names = ", ".join([*kind.identifier_names, kind.item_name])
    return extend_schema_view(
        get=extend_schema(
            operation_id=group_operation_id(kind, "retrieve"),
            summary=f"List the platform's {kind.label} group suggestions",
            description=(
                "Paginated (page, page_size clamped to the maximum). `query` searches "
                f"the group's name, {names}; `sort` (default id) orders with an id "
                "tie-break. A department admin in department_mode sees only the groups "
                "of their departments. user_count: the group's active members."
            ),
            parameters=platform_parameters(),
            responses={
                200: classes.output(many=True),
                **error_responses(e400="Invalid parameter.", e404="Unknown platform or page.",
                                  **errors),
            },
        ),
        post=extend_schema(
            operation_id=group_operation_id(kind, "create"),
            summary=f"Create or update a {kind.label} group suggestion",
            description=(
                "Answers 200 whether it was created or updated; only the fields sent "
                "change an existing group suggestion. Every current member of the group "
                f"receives the {kind.label} as a suggestion of their own (direct=false); "
                "a member who already has it keeps it unchanged. Members who join later "
                "receive it; members who leave lose what only this group gave them."
            ),
            request=classes.write,
            responses={
                200: classes.output,
                **error_responses(e400="Invalid body, unknown group or item.",
                                  e404="Unknown platform.", e413="Body too large.",
                                  e415="Not a JSON body.", **errors),
            },
        ),
        delete=extend_schema(
            operation_id=group_operation_id(kind, "destroy"),
            summary=f"Delete a {kind.label} group suggestion",
            description=(
                "Also deletes the members' suggestions that only this group suggestion "
                "gave (not those another group gave, nor those written directly). "
                "Unknown group suggestions and those the caller may not manage are the "
                "same 404."
            ),
            parameters=[
                OpenApiParameter("suggestion_id", int, required=True),
                *platform_parameters(),
            ],
            responses={
                200: DeleteResultSerializer,
                **error_responses(e400="Invalid parameter.", e404="No such suggestion.",
                                  **errors),
            },
        ),
    )(view)  # fmt: skip
