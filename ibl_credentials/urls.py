"""The credentials paths of the contract, mounted at ``api/credentials/``."""

from django.urls import URLPattern, path

from .views import ImagesView, IssuersView

urlpatterns: list[URLPattern] = [
    path(
        "orgs/<str:org>/users/<str:user_id>/images/",
        ImagesView.as_view(),
        name="credentials-images",
    ),
    path(
        "orgs/<str:org>/users/<str:user_id>/issuers/",
        IssuersView.as_view(),
        name="credentials-issuers",
    ),
]
