"""django-filter's backend, with a browsable-API form that keeps the list's other parameters.

The filter form of the browsable API submits only its own fields (``query``, ``sort``),
so the list's platform (``platform_key``) and ``department_mode`` were lost and every
submission was a 400. This form carries the request's other query parameters along as
hidden fields (the page number excepted: a new filter starts at page 1).
"""

from __future__ import annotations

from typing import Any

from django.template import loader
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request

#: Query parameters that a new filter does not keep.
_RESTARTED = frozenset({"page", "format"})


class PlatformFilterBackend(DjangoFilterBackend):
    template = "ibl_core/filter_form.html"

    def to_html(self, request: Request, queryset: Any, view: Any) -> str | None:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return None
        own = set(filterset.form.fields)
        kept = [
            (name, value)
            for name, values in request.query_params.lists()
            if name not in own and name not in _RESTARTED
            for value in values
        ]
        context = {"filter": filterset, "kept": kept}
        return loader.get_template(self.template).render(context, request)
