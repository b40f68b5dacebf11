"""``/api/core/orgs/{org}/webhooks/``: a platform's webhook endpoints, for its admins.

Platform admins of ``{org}`` and DM admins only; an endpoint of another platform is
404, as a missing one.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from ibl_core.api.pagination import int_param
from ibl_core.api.views import PlatformScopedView
from ibl_core.events.webhooks import delivery, schema, services
from ibl_core.events.webhooks.serializers import (
    RotateSecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from ibl_core.models import Platform, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ibl_core.tenancy.permissions import IsDMAdmin, IsPlatformAdmin
from ibl_core.tenancy.platforms import platform_for_request


class WebhookBaseView(PlatformScopedView):
    """A platform's webhook endpoints: for its platform admins and DM admins."""

    permission_classes = [IsDMAdmin | IsPlatformAdmin]
    serializer_class = WebhookEndpointSerializer

    def platform(self) -> Platform:
        return platform_for_request(self.request, self)

    def endpoints(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(platform=self.platform())

    def endpoint(self) -> WebhookEndpoint:
        found = self.endpoints().filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise NotFound("Webhook endpoint not found.")
        return found


class WebhookListView(WebhookBaseView):
    """The platform's webhook endpoints, and creating one."""

    @schema.WEBHOOK_LIST_GET
    def get(self, request: Request, org: str) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoints().order_by("id"), many=True).data)

    @schema.WEBHOOK_LIST_POST
    def post(self, request: Request, org: str) -> Response:
        body = WebhookEndpointSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            endpoint = services.create_endpoint(self.platform(), **body.validated_data)
        except services.TooManyEndpoints as error:
            raise exceptions.ValidationError({"detail": error.message}) from None
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(WebhookBaseView):
    """One webhook endpoint of the platform."""

    @schema.WEBHOOK_DETAIL_GET
    def get(self, request: Request, org: str, pk: int) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoint()).data)

    @schema.WEBHOOK_DETAIL_PATCH
    def patch(self, request: Request, org: str, pk: int) -> Response:
        endpoint = self.endpoint()
        body = WebhookEndpointSerializer(endpoint, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        sent = {
            name: body.validated_data[name] for name in request.data if name in body.validated_data
        }
        endpoint = services.update_endpoint(endpoint, sent)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @schema.WEBHOOK_DETAIL_DELETE
    def delete(self, request: Request, org: str, pk: int) -> Response:
        self.endpoint().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(WebhookBaseView):
    """A new signing secret for an endpoint."""

    @schema.WEBHOOK_ROTATE_SECRET_POST
    def post(self, request: Request, org: str, pk: int) -> Response:
        endpoint = self.endpoint()
        body = RotateSecretSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.rotate_secret(endpoint, body.validated_data.get("overlap_seconds"))
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


def with_attempts(deliveries: QuerySet[WebhookDelivery]) -> QuerySet[WebhookDelivery]:
    return deliveries.prefetch_related(
        Prefetch("attempt_records", queryset=WebhookAttempt.objects.order_by("number"),
                 to_attr="recent_attempts")
    )  # fmt: skip


class WebhookTestView(WebhookBaseView):
    """A test event queued for an endpoint: answered at once, whatever the receiver does."""

    @schema.WEBHOOK_TEST_POST
    def post(self, request: Request, org: str, pk: int) -> Response:
        sent = delivery.send_test_event(self.endpoint())
        [found] = with_attempts(WebhookDelivery.objects.filter(pk=sent.pk))
        location = reverse(
            "webhook-delivery",
            kwargs={"org": org, "pk": sent.endpoint_id, "delivery_id": sent.pk},
        )
        return Response(
            WebhookDeliverySerializer(found).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )


class WebhookDeliveriesView(WebhookBaseView):
    """The latest deliveries to an endpoint, with their last attempt."""

    @schema.WEBHOOK_DELIVERIES_GET
    def get(self, request: Request, org: str, pk: int) -> Response:
        endpoint = self.endpoint()
        limit = min(int_param(request, "limit", 50, minimum=1), 100)
        recent = with_attempts(endpoint.deliveries.order_by("-id"))[:limit]
        return Response(WebhookDeliverySerializer(recent, many=True).data)


class WebhookDeliveryView(WebhookBaseView):
    """One delivery to an endpoint, with its last attempt (e.g. a test event to poll)."""

    @schema.WEBHOOK_DELIVERY_GET
    def get(self, request: Request, org: str, pk: int, delivery_id: int) -> Response:
        deliveries = with_attempts(self.endpoint().deliveries.filter(pk=delivery_id))
        found = deliveries.first()
        if found is None:
            raise NotFound("Delivery not found.")
        return Response(WebhookDeliverySerializer(found).data)
