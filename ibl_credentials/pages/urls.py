"""The public pages, mounted at the root by ``ibl_core.urls`` (or by a host project:
``path("", include("ibl_credentials.pages.urls"))``)."""

from django.urls import path

from ibl_credentials.pages import views

app_name = "ibl-pages"

urlpatterns = [
    path("badges/<str:entity_id>", views.badge_page, name="badge"),
    path("verify/", views.verify_page, name="verify"),
]
