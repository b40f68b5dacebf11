"""The OpenAPI schema and its documentation pages.

``path("", include("ibl_core.docs_urls"))`` serves ``/api/schema/``, Swagger UI at
``/api/docs/`` and ReDoc at ``/api/redoc/``. With ``drf_spectacular_sidecar`` in
``INSTALLED_APPS`` and ``SWAGGER_UI_DIST``/``REDOC_DIST`` set to ``"SIDECAR"`` the
pages load their assets from the project's static files, with no network access.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        # Our template drops drf-spectacular's Google Fonts links (offline pages).
        SpectacularRedocView.as_view(url_name="schema", template_name="ibl_core/redoc.html"),
        name="redoc",
    ),
]
