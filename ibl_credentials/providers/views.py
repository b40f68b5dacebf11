"""The provider endpoints: the providers list, a platform's configurations and mappings.

Thin: parse, call a selector or service, build the object (``shapes``). Access rules
live in ``permissions``, the OpenAPI text in ``schema``. Answers and errors use the
credentials envelope.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api import envelope
from ibl_core.api.views import PlatformScopedView
from ibl_core.models import Platform
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.base import CredentialsView
from ibl_credentials.providers import schema, selectors, services
from ibl_credentials.providers.models import ExternalCredentialMapping, ProviderConfig
from ibl_credentials.providers.pagination import ProviderListPagination, ProviderPagination
from ibl_credentials.providers.permissions import PROVIDER_ADMINS
from ibl_credentials.providers.registry import PROVIDERS
from ibl_credentials.providers.serializers import (
    MappingDeleteSerializer,
    MappingWriteSerializer,
    ProviderConfigDeleteSerializer,
    ProviderConfigWriteSerializer,
)
from ibl_credentials.providers.shapes import config_object, mapping_object, provider_object

UPDATED = "Updated"


def _saved(result: dict[str, Any], created: bool) -> Response:
    if created:
        return Response(envelope.success(result, envelope.CREATED), status.HTTP_201_CREATED)
    return Response(envelope.success(result, UPDATED))


def _delete_body(request: Request) -> Any:
    """A DELETE's body; its query string when it has none (clients, the published one
    included, that cannot send a body with a DELETE name the object there)."""
    return request.data if request.data else request.query_params


def _filtered(queryset: QuerySet, request: Request, **lookups: str) -> QuerySet:
    """``queryset`` kept to the query parameters given (parameter -> lookup); an empty
    one filters nothing, text no database can hold matches nothing."""
    for parameter, lookup in lookups.items():
        value = request.query_params.get(parameter, "").strip()
        if UNSTORABLE.search(value):
            return queryset.none()
        if value:
            queryset = queryset.filter(**{lookup: value})
    return queryset


class ProvidersView(envelope.EnvelopeErrorsMixin, PlatformScopedView):
    """GET: the providers this server knows."""

    permission_classes = [IsAuthenticated]
    pagination_class = ProviderListPagination

    @extend_schema(**schema.PROVIDERS_LIST)
    def get(self, request: Request) -> Response:
        providers = sorted(PROVIDERS.values(), key=lambda provider: provider.name)
        page = self.paginate_queryset(providers) or []
        return self.get_paginated_response([provider_object(p) for p in page])


class ProviderConfigView(envelope.EnvelopeErrorsMixin, CredentialsView):
    """GET, POST (create or update) and DELETE (turn off) of provider configurations."""

    permission_classes = PROVIDER_ADMINS
    pagination_class = ProviderPagination
    model = ProviderConfig

    def get_serializer_class(self) -> Any:
        return ProviderConfigWriteSerializer  # the browsable API's form

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return selectors.configs_of_platform(platform)

    @extend_schema(**schema.CONFIG_LIST)
    def get(self, request: Request, org: str, user_id: str) -> Response:
        configs = _filtered(self.get_queryset(), request, provider_name="provider_name__iexact")
        page = self.paginate_queryset(configs) or []
        return self.get_paginated_response([config_object(config) for config in page])

    @extend_schema(**schema.CONFIG_SAVE)
    def post(self, request: Request, org: str, user_id: str) -> Response:
        serializer = ProviderConfigWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        config, created = services.save_provider_config(
            self.get_platform(), data["provider_name"], data.get("config"), data.get("enabled")
        )
        return _saved(config_object(config), created)

    @extend_schema(**schema.CONFIG_DISABLE)
    def delete(self, request: Request, org: str, user_id: str) -> Response:
        serializer = ProviderConfigDeleteSerializer(data=_delete_body(request))
        serializer.is_valid(raise_exception=True)
        services.disable_provider_config(
            self.get_platform(), serializer.validated_data["provider_name"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExternalMappingView(envelope.EnvelopeErrorsMixin, CredentialsView):
    """GET, POST (create or update) and DELETE of credential mappings."""

    permission_classes = PROVIDER_ADMINS
    pagination_class = ProviderPagination
    model = ExternalCredentialMapping

    def get_serializer_class(self) -> Any:
        return MappingWriteSerializer  # the browsable API's form

    def platform_queryset(self, platform: Platform) -> QuerySet:
        return selectors.mappings_of_platform(platform)

    @extend_schema(**schema.MAPPING_LIST)
    def get(self, request: Request, org: str, user_id: str) -> Response:
        mappings = _filtered(
            self.get_queryset(),
            request,
            credential_id="credential__entity_id",
            provider_name="provider_name__iexact",
        )
        page = self.paginate_queryset(mappings) or []
        return self.get_paginated_response([mapping_object(mapping) for mapping in page])

    @extend_schema(**schema.MAPPING_SAVE)
    def post(self, request: Request, org: str, user_id: str) -> Response:
        platform = self.get_platform()
        serializer = MappingWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        mapping, created = services.save_mapping(
            platform, data["credential_id"], data["provider_name"], data
        )
        fetched = selectors.mappings_of_platform(platform).get(pk=mapping.pk)
        return _saved(mapping_object(fetched), created)

    @extend_schema(**schema.MAPPING_DELETE)
    def delete(self, request: Request, org: str, user_id: str) -> Response:
        serializer = MappingDeleteSerializer(data=_delete_body(request))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.delete_mapping(self.get_platform(), data["credential_id"], data["provider_name"])
        return Response(status=status.HTTP_204_NO_CONTENT)
