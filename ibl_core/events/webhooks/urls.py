"""The webhook paths, under ``api/core/`` (``ibl_core.urls``)."""

from django.urls import path

from ibl_core.events.webhooks import views

prefix = "orgs/<str:org>/webhooks/"
urlpatterns = [
    path(prefix, views.WebhookListView.as_view(), name="webhooks"),
    path(f"{prefix}<int:pk>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        f"{prefix}<int:pk>/rotate-secret/",
        views.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path(f"{prefix}<int:pk>/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    path(
        f"{prefix}<int:pk>/deliveries/",
        views.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        f"{prefix}<int:pk>/deliveries/<int:delivery_id>/",
        views.WebhookDeliveryView.as_view(),
        name="webhook-delivery",
    ),
]
