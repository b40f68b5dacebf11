"""DRF's browsable API, made unable to fail a request it only decorates.

DRF renders the HTML page after the view has returned, so after a POST has already
committed its write. A form that cannot be built (a view without a serializer for
a method, a serializer that cannot render unbound) would turn that committed write
into a 500 and the user would retry it. This renderer logs such a failure and
leaves the form out: the page still shows the answer.

Use it in place of DRF's in ``REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]``. The
views of this package declare a serializer per method, so DRF's own renderer works
with them too; this one is the safety net.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from rest_framework import renderers

logger = logging.getLogger("ibl.renderers")


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """``rest_framework.renderers.BrowsableAPIRenderer`` whose forms never fail the page."""

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        try:
            if request.method == method and not shaped_like_the_body(data, view):
                # DRF would rebuild the form from the answer (an uploaded image's id and
                # URL): show a fresh form of the body instead (the file input).
                data = None
            return super().get_rendered_html_form(data, view, method, request)
        except Exception:
            log_form_failure(view, method, "form")
            return None

    def get_raw_data_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        try:
            return super().get_raw_data_form(data, view, method, request)
        except Exception:
            log_form_failure(view, method, "raw data form")
            return None

    def get_filter_form(self, data: Any, view: Any, request: Any) -> Any:
        try:
            return super().get_filter_form(data, view, request)
        except Exception:
            log_form_failure(view, "GET", "filter form")
            return None


class RequiredFieldsForm:
    """Serializer mixin: the browsable API's form of the body (DRF's renderer and this
    one both prefill it from an unbound serializer's ``get_initial()``) shows the
    required fields, empty, and the optional fields named in ``form_fields`` with the
    value they start with.

    DRF prefills every field with its type's empty value, which the server then refuses
    or, worse, applies: a blank ``username`` is a bad username, both spellings of an
    aliased field are two values for one, ``accepted: false`` on an answer un-accepts.
    A form posted as it is, with its required fields filled in, must do what the same
    request without the optional fields does. The optional fields are in the API docs.
    """

    #: Optional fields the form shows, with their value (the API's default, as documented).
    form_fields: ClassVar[dict[str, Any]] = {}

    def get_initial(self) -> Any:
        initial = super().get_initial()  # type: ignore[misc]
        if hasattr(self, "initial_data"):  # a bound form shows what was sent
            return initial
        fields = self.fields  # type: ignore[attr-defined]
        return {
            name: self.form_fields.get(name, value)
            for name, value in initial.items()
            if fields[name].required or name in self.form_fields
        }


def shaped_like_the_body(data: Any, view: Any) -> bool:
    """Whether ``data`` (an answer, or the errors of a body) came from the serializer of
    the request body, as when a view answers with what it was sent."""
    serializer = getattr(data, "serializer", None)
    if serializer is None:
        return True  # nothing to rebuild the form from: DRF builds a fresh one
    body_class = view.get_serializer_class() if hasattr(view, "get_serializer_class") else None
    return body_class is not None and isinstance(serializer, body_class)


def log_form_failure(view: Any, method: str, form: str) -> None:
    logger.exception(
        "Browsable API: the %s %s of %s could not be built; the page is shown without it.",
        method,
        form,
        type(view).__name__,
    )
