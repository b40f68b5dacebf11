"""The issuer list's search."""

from __future__ import annotations

import django_filters

from ibl_credentials.models import Issuer


class IssuerFilter(django_filters.FilterSet):
    """``q``: case-insensitive substring of the issuer's name."""

    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        max_length=255,
        help_text="Part of the issuer's name.",
    )

    class Meta:
        model = Issuer
        fields: list[str] = []
