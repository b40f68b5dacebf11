"""Field validators shared by the models (admin forms) and the API serializers."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator

#: ``secrets.token_urlsafe`` alphabet: safe in a path segment without escaping.
validate_entity_id = RegexValidator(
    r"^[A-Za-z0-9_-]+$",
    "Use only letters, digits, '-' and '_' (a URL-safe identifier).",
    code="invalid_entity_id",
)

validate_http_url = URLValidator(
    schemes=["http", "https"], message="Enter a valid http or https URL."
)

_MEDIA_PATH = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")


def validate_image_reference(value: str) -> None:
    """An http(s) URL, or a relative path in the media storage (``MEDIA_URL`` optional).

    Anything else (``javascript:``, ``data:``, protocol-relative ``//host``, ``..``)
    would let a badge page load or run something the platform did not choose.
    """
    if value.lower().startswith(("http://", "https://")):
        validate_http_url(value)
        return
    path = value
    media_url = str(settings.MEDIA_URL or "")
    if media_url.startswith("/") and path.startswith(media_url):
        path = path[len(media_url) :]
    if not _MEDIA_PATH.fullmatch(path) or any(part in {".", ".."} for part in path.split("/")):
        raise ValidationError(
            "Enter an http or https URL, or a path in the media storage "
            "(for example uploaded_images/<platform>/<file>.png).",
            code="invalid_image_reference",
        )
