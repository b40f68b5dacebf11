"""Form fields shared by the apps' admin pages."""

from __future__ import annotations

from typing import Any

from django import forms


class NullableJSONFormField(forms.JSONField):
    """A JSON form field that shows an unset value as an empty box.

    Django's field writes ``null`` into the box of a nullable JSON column (an add
    page is prefilled with the literal text ``null``). Here an empty box means null,
    both ways.
    """

    def prepare_value(self, value: Any) -> Any:
        if value is None:
            return ""
        return super().prepare_value(value)
