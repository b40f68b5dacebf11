"""Open Badges URLs, mounted at ``ob/`` by ``ibl_core.urls`` (or by a host project:
``path("ob/", include("ibl_credentials.openbadges.urls"))``). The documents name each
other by these URLs, so keep them stable once badges are issued."""

from django.urls import path

from ibl_credentials.openbadges import views

app_name = "ibl-openbadges"

urlpatterns = [
    path("v2/assertions/<str:entity_id>", views.AssertionView.as_view(), name="ob2-assertion"),
    path(
        "v2/assertions/<str:entity_id>/image",
        views.AssertionImageView.as_view(),
        name="ob2-assertion-image",
    ),
    path("v2/badges/<str:entity_id>", views.BadgeView.as_view(), name="ob2-badge"),
    path("v2/badges/<str:entity_id>/image", views.BadgeImageView.as_view(), name="ob2-badge-image"),
    path("v2/issuers/<str:entity_id>", views.IssuerView.as_view(), name="ob2-issuer"),
    path("v3/credentials/<str:entity_id>", views.CredentialView.as_view(), name="ob3-credential"),
    path("v3/status/<str:entity_id>", views.StatusListView.as_view(), name="ob3-status"),
]
