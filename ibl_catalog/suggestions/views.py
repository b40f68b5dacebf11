"""The suggestion endpoints, built once per suggestion kind by :func:`suggestion_urls`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, cast

from django.urls import URLPattern, path
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import ReturnDict

from ibl_catalog.suggestions import counts, learners, selectors, services
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.base_views import SuggestionBaseView
from ibl_catalog.suggestions.filters import DEFAULT_SORT, build_filterset
from ibl_catalog.suggestions.group_views import build_group_view
from ibl_catalog.suggestions.permissions import IsNamedLearner, IsPlatformAdminOfNamedLearner
from ibl_catalog.suggestions.rules import RowRules, clean_row
from ibl_catalog.suggestions.schema import (
    document_bulk_view,
    document_learner_view,
    document_manage_view,
)
from ibl_catalog.suggestions.serializers import (
    SUGGESTED_BY_RULE,
    BulkResultSerializer,
    LearnerAnswerSerializer,
    SuggestionSerializers,
    build_group_serializers,
    build_serializers,
    represent_rows,
)
from ibl_core.api.memory import paused_cycle_collection
from ibl_core.api.pagination import CatalogPagination, positive_int_param
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.tenancy.permissions import IsDMAdmin
from ibl_core.tenancy.roles import manageable_platforms, managed_user_ids

#: Pages that start past this many rows read their ids first (``page_in_one_query``).
ONE_QUERY_MAX_OFFSET = 1000


class SuggestionManageView(SuggestionBaseView):
    """GET (list), POST (create or update) and DELETE of one kind's suggestions."""

    pagination_class = CatalogPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return self.kind.model._default_manager.none()
        return self.managed_suggestions().order_by(DEFAULT_SORT)

    def get_serializer_class(self) -> Any:
        # The browsable API builds its POST form from the body's serializer.
        if self.request is not None and self.request.method == "POST":
            return self.serializers.write
        return self.serializers.output

    def get(self, request: Request) -> Response:
        platform = self.get_platform()
        whole = self.whole_platform_in_id_order()
        rows: Any
        if whole is not None:
            # The same rows from the same SQL, compiled once (selectors.PlatformPage);
            # no filter to apply, and a sort of id or -id is valid.
            page: Any = selectors.PlatformPage(self.kind, platform, whole)
            return self.get_paginated_response(
                represent_rows(self.serializers.output, self.paginate_queryset(page) or [])
            )
        suggestions = self.filter_queryset(self.get_queryset())
        if self.page_in_one_query():
            rows = self.paginate_queryset(
                selectors.suggestion_rows(self.kind, suggestions, platform)
            )
        else:
            # The page's ids first (sorted without the wide columns, metadata above all),
            # then the rows of those ids only. A whole platform's ids in a sort the
            # filter set has just validated: with a query compiled once.
            sort = request.query_params.get("sort")
            ids: Any = suggestions.values_list("id", flat=True)
            if sort is not None and "query" not in request.query_params and self.exact_total():
                ids = selectors.SortedIds(self.kind, platform, sort)
            page_ids = self.paginate_queryset(ids)
            rows = selectors.rows_in_order(self.kind, page_ids or [], platform)
        # The serializer's output, without its per-row machinery (serializers.py).
        return self.get_paginated_response(represent_rows(self.serializers.output, rows or []))

    def whole_platform_in_id_order(self) -> str | None:
        """The order (``-id``, or ``id``) when the page is the first pages of the whole
        platform's list in id order with its count kept: the one-query page, whose
        query then has one shape per kind and order and is compiled once. ``None``
        otherwise (a filter, a department admin, a deep page, no kept count)."""
        params = self.request.query_params
        sort = params.get("sort", DEFAULT_SORT)
        if sort not in ("id", "-id") or not params.keys().isdisjoint(
            self.filterset_class.base_filters.keys() - {"sort"}
        ):
            return None
        if self.exact_total() is None or not self.page_in_one_query():
            return None
        return sort

    def page_in_one_query(self) -> bool:
        """Whether the page's rows are read in one query with their joins.

        Yes for the first pages of an unsearched list in id order (the default): the
        database walks the (platform, id) index and joins only the rows it returns, so
        one query does the work of two (a query fewer, and no list of ids to send).
        A deep page would join every row it skips, and a search or another order may
        sort wide rows (PostgreSQL's (platform, created) index does not hold the id
        tie-break): those read the page's ids first.
        """
        params = self.request.query_params
        if params.get("query") or params.get("sort", DEFAULT_SORT) not in ("id", "-id"):
            return False
        paginator = cast(CatalogPagination, self.paginator)
        page_size = paginator.get_page_size(self.request)
        page = positive_int_param(self.request, paginator.page_query_param, 1)
        return (page - 1) * page_size <= ONE_QUERY_MAX_OFFSET

    def exact_total(self) -> Callable[[], int] | None:
        """The platform's count kept by the database, when the list is all of it."""
        if self.request.query_params.get("query") or not counts.count_supported():
            return None
        platform = self.get_platform()
        if managed_user_ids(self.request, platform) is not None:
            return None  # a department admin's list: counted
        return lambda: counts.platform_count(self.kind, platform)

    def post(self, request: Request) -> Response:
        data = valid_write(self.kind, self.serializers, request.data)
        platform = self.get_platform()
        # The answer is the row as the write returned it: no read-back that a
        # concurrent DELETE could turn into a 500.
        suggestion = services.upsert_suggestion(
            self.kind,
            platform=platform,
            data=data,
            actor_id=request.user.pk,
            user_scope=managed_user_ids(request, platform),
        )
        # Already shaped as the output serializer writes it (its event's data); the
        # serializer goes along, unused, as its .data would carry it (the browsable
        # API's form reads it), and costs nothing until a field is asked for.
        return Response(ReturnDict(suggestion, serializer=self.serializers.output(suggestion)))

    def delete(self, request: Request) -> Response:
        suggestion_id = self.suggestion_id()
        services.delete_suggestion(self.kind, self.managed_suggestions(), suggestion_id)
        return Response({"detail": "Suggestion deleted.", "suggestion_id": suggestion_id})

    def suggestion_id(self) -> int:
        if "suggestion_id" not in self.request.query_params:
            raise ValidationError({"suggestion_id": ["This query parameter is required."]})
        return positive_int_param(self.request, "suggestion_id", 0)

    def platform_from_object(self, request: Request) -> Platform | None:
        """DELETE without platform_key: the suggestion's platform, among those the caller
        manages (anything else is the same 404 as a missing suggestion)."""
        if request.method != "DELETE":
            return None
        platform_id = (
            self.kind.model._default_manager.filter(
                pk=self.suggestion_id(), platform__in=manageable_platforms(request)
            )
            .values_list("platform_id", flat=True)
            .first()
        )
        if platform_id is None:
            raise NotFound("Suggestion not found.")
        return Platform.objects.get(pk=platform_id)


def valid_write(
    kind: SuggestionKind, serializers: SuggestionSerializers, data: Any
) -> dict[str, Any]:
    """A single write's body, checked: its fields as the write serializer validates them.

    The serializer's fields are the kind's rules (``rules.py``, as a bulk row's) plus
    ``suggested_by`` and the platform fields, which the write does not read. A JSON
    object whose platform fields hold what that serializer keeps as is (plain text, a
    boolean) and which the rules accept is valid for it with the same values, so the
    rules decide alone: building the serializer's fields costs about 0.6 ms a request,
    the rules microseconds. Anything else goes through the serializer, whose errors
    are the 400.
    """
    if type(data) is dict and plain_platform_fields(data):
        cleaned = clean_row(write_rules(kind), data)
        if cleaned is not None:
            return cleaned
    body = serializers.write(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


@functools.cache
def write_rules(kind: SuggestionKind) -> RowRules:
    """A single write's rules: a bulk row's and ``suggested_by`` (built once per kind)."""
    rules = build_serializers(kind).rules
    return RowRules({**rules, "suggested_by": SUGGESTED_BY_RULE}, one_of=rules.one_of)


def plain_platform_fields(data: Mapping[str, Any]) -> bool:
    """Whether the body's platform fields, if any, are values DRF's fields keep as they
    are: text already trimmed, not blank, printable (no NUL, no lone surrogate), and a
    boolean ``department_mode``."""
    for name in ("platform_key", "platform_org"):
        if name in data:
            value = data[name]
            if type(value) is not str or not value or value.strip() != value:
                return False
            if not value.isprintable():
                return False
    return "department_mode" not in data or type(data["department_mode"]) is bool


class SuggestionBulkView(SuggestionBaseView):
    """POST many suggestions at once; partial success, per-row error codes."""

    write_throttle_scope = "bulk"

    def max_body_bytes(self) -> int:
        return int(ibl_settings.BULK_MAX_BODY_BYTES)

    def get_serializer_class(self) -> Any:
        return self.serializers.bulk  # the browsable API's POST form

    def post(self, request: Request) -> Response:
        with paused_cycle_collection():  # thousands of rows: see ibl_core/api/memory.py
            body = self.serializers.bulk(data=request.data)
            body.is_valid(raise_exception=True)
            platform = self.get_platform()
            result = services.bulk_upsert_suggestions(
                self.kind,
                platform=platform,
                rows=body.validated_data["suggestion_data"],
                rules=self.serializers.rules,
                actor_id=request.user.pk,
                user_scope=managed_user_ids(request, platform),
            )
        return Response(BulkResultSerializer(result).data)


class SuggestionLearnerView(SuggestionBaseView):
    """A learner's suggestions (GET) and the learner's answer to one (POST)."""

    pagination_class = CatalogPagination

    def get_permissions(self) -> list[Any]:
        if self.request is not None and self.request.method == "POST":
            # Who may answer is which suggestions they find: learners.answerable_suggestions.
            return [IsAuthenticated()]
        return [(IsDMAdmin | IsNamedLearner | IsPlatformAdminOfNamedLearner)()]

    def get_serializer_class(self) -> Any:
        if self.request is not None and self.request.method == "POST":
            return LearnerAnswerSerializer
        return self.serializers.output

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return self.kind.model._default_manager.none()
        scope = learners.learner_scope(self.request)
        return learners.learner_suggestions(self.kind, scope).order_by(DEFAULT_SORT)

    def get(self, request: Request) -> Response:
        suggestions = self.filter_queryset(self.get_queryset())
        page_ids = self.paginate_queryset(suggestions.values_list("id", flat=True)) or []
        rows = selectors.rows_in_order(self.kind, page_ids, None)
        return self.get_paginated_response(represent_rows(self.serializers.output, rows))

    def post(self, request: Request) -> Response:
        body = LearnerAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answer = body.validated_data
        suggestion_id = answer.pop("suggestion_id")
        answerable = learners.answerable_suggestions(self.kind, request)
        rows = services.answer_suggestion(self.kind, answerable, suggestion_id, answer)
        if not rows:
            raise NotFound("Suggestion not found.")
        return Response(self.serializers.output(rows[0]).data)


def suggestion_urls(kind: SuggestionKind) -> list[URLPattern]:
    """The ``suggestions/<label>/manage/``, ``.../bulk/``, ``.../group/`` and
    ``suggestions/<label>/user/`` paths of ``kind``."""
    title = kind.label.title()
    attrs = {
        "kind": kind,
        "serializers": build_serializers(kind),
        "filterset_class": build_filterset(kind),
        "__module__": __name__,
    }
    manage = cast(
        type[SuggestionManageView],
        document_manage_view(
            kind, type(f"{title}SuggestionManageView", (SuggestionManageView,), attrs)
        ),
    )
    bulk = cast(
        type[SuggestionBulkView],
        document_bulk_view(kind, type(f"{title}SuggestionBulkView", (SuggestionBulkView,), attrs)),
    )
    learner = cast(
        type[SuggestionLearnerView],
        document_learner_view(
            kind, type(f"{title}SuggestionLearnerView", (SuggestionLearnerView,), attrs)
        ),
    )
    prefix = f"suggestions/{kind.label}/manage/"
    return [
        path(prefix, manage.as_view(), name=f"{kind.label}-suggestions-manage"),
        path(f"{prefix}bulk/", bulk.as_view(), name=f"{kind.label}-suggestions-bulk"),
        *group_urls(kind, prefix),
        path(
            f"suggestions/{kind.label}/user/",
            learner.as_view(),
            name=f"{kind.label}-suggestions-user",
        ),
    ]


def group_urls(kind: SuggestionKind, prefix: str) -> list[URLPattern]:
    """``<prefix>group/`` of a kind with group suggestions (``group_views.py``)."""
    if kind.group_model is None:
        return []
    view: Any = build_group_view(kind, build_group_serializers(kind))
    return [path(f"{prefix}group/", view.as_view(), name=f"{kind.label}-suggestions-group")]
