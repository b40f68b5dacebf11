"""Catalog API paths, mounted under ``api/catalog/``."""

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_catalog.suggestions.views import suggestion_urls

urlpatterns = [pattern for kind in SUGGESTION_KINDS for pattern in suggestion_urls(kind)]
