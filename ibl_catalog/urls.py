"""Catalog API paths, mounted under ``api/catalog/``."""

from .declarations import SUGGESTION_KINDS
from .suggestions.views import suggestion_urls

urlpatterns = [pattern for kind in SUGGESTION_KINDS for pattern in suggestion_urls(kind)]
