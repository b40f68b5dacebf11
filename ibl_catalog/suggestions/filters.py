"""The list's ``query`` and ``sort`` parameters, as django-filter filter sets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.search import search
from ibl_catalog.suggestions.selectors import sort_columns

DEFAULT_SORT = "-id"


def build_filterset(kind: SuggestionKind) -> type[django_filters.FilterSet]:
    """The filter set of ``kind``'s list: search and a whitelisted sort with id tie-break."""
    columns = sort_columns(kind)
    values = [name for name in columns] + [f"-{name}" for name in columns]
    # The default first: the browsable API's form shows the order the list has.
    values.sort(key=lambda value: value != DEFAULT_SORT)
    choices = [(value, value) for value in values]
    accepted = ", ".join(value for value, _ in choices)

    def filter_query(queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search(kind, queryset, value)

    def filter_sort(queryset: QuerySet, name: str, value: str) -> QuerySet:
        descending = value.startswith("-")
        column = columns[value.lstrip("-")]
        prefix = "-" if descending else ""
        # Ties are broken by id in the same direction, so pages never repeat or skip rows.
        return queryset.order_by(f"{prefix}{column}", f"{prefix}id")

    attrs: dict[str, Any] = {
        "query": django_filters.CharFilter(
            method=filter_query,
            label="Search",
            max_length=255,
            help_text="Case-insensitive substring of username, full name, email, "
            f"{kind.key_name} or {kind.item_name}.",
        ),
        "sort": django_filters.ChoiceFilter(
            choices=choices,
            label="Sort",
            method=filter_sort,
            empty_label=None,
            help_text=f"Sort order (default {DEFAULT_SORT}); ties are broken by id.",
            error_messages={
                "invalid_choice": f"Unknown sort value %(value)s; accepted values: {accepted}."
            },
        ),
        "Meta": type("Meta", (), {"form": SortForm}),
        "__module__": __name__,
    }
    return type(f"{kind.label.title()}SuggestionFilterSet", (django_filters.FilterSet,), attrs)


class SortForm(forms.Form):
    """An empty ``sort=`` is a mistake, not "the default": say so (400)."""

    def clean_sort(self) -> Any:
        if self.data.get("sort", None) == "":
            raise forms.ValidationError(
                self.fields["sort"].error_messages["invalid_choice"] % {"value": '""'}
            )
        return self.cleaned_data["sort"]
