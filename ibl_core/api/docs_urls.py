"""The OpenAPI schema and its documentation pages.

``path("", include("ibl_core.api.docs_urls"))`` serves ``/api/schema/``, Swagger UI at
``/api/docs/`` and ReDoc at ``/api/redoc/`` (its script at
``/api/redoc/redoc.standalone.js``: :mod:`ibl_core.api.docs` says why). With
``drf_spectacular_sidecar`` in ``INSTALLED_APPS`` and ``SWAGGER_UI_DIST``/``REDOC_DIST``
set to ``"SIDECAR"`` the pages load their assets from the project's static files, and their
Content-Security-Policy keeps the browser from fetching anything else
(:mod:`ibl_core.api.docs`): they work, and leak nothing, with no network access.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from ibl_core.api.docs import RedocView, SwaggerView, redoc_bundle
from ibl_core.api.parsers import API_PARSERS

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(parser_classes=API_PARSERS), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
]
