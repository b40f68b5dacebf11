"""Field validators shared by the models (admin forms) and the API serializers."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import RegexValidator, URLValidator

from ibl_core.conf import ibl_settings

#: ``secrets.token_urlsafe`` alphabet: safe in a path segment without escaping.
validate_entity_id = RegexValidator(
    r"^[A-Za-z0-9_-]+$",
    "Use only letters, digits, '-' and '_' (a URL-safe identifier).",
    code="invalid_entity_id",
)

#: Path segments that sit where an ``{entity_id}`` does (contract: literal segments win).
RESERVED_ENTITY_IDS = frozenset(
    {
        "images",
        "issuers",
        "authority",
        "assertions",
        "assignments",
        "bulk",
        "course-credentials",
        "assertions-over-time",
        "credentials-over-time",
        "course-assertions-over-time",
        "provider-config",
        "external-mapping",
        "public",
    }
)


def validate_unreserved_entity_id(value: str) -> None:
    """An ``entityId`` never equals a literal path segment of the credentials API."""
    if value.lower() in RESERVED_ENTITY_IDS:
        raise ValidationError(
            "%(value)s is a reserved path segment; choose another entityId.",
            code="reserved_entity_id",
            params={"value": value},
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


def _clean_media_path(path: str) -> bool:
    return bool(_MEDIA_PATH.fullmatch(path)) and not any(
        part in {".", ".."} for part in path.split("/")
    )


def _same_origin_prefix(url: str, base: str) -> str | None:
    """The part of ``url`` after ``base`` (an absolute URL), or None when it is elsewhere.

    Scheme, host and port are compared case-insensitively and http/https alike (one
    media folder served both ways); the rest of the path is percent-decoded.
    """
    target, prefix = urlsplit(url), urlsplit(base)
    if target.netloc.lower() != prefix.netloc.lower():
        return None
    path = unquote(target.path)
    if not path.startswith(prefix.path):
        return None
    return path[len(prefix.path) :]


#: A file name whose URL tells where the media storage serves its files.
_PROBE = "ibl-storage-probe"


def storage_base_url() -> str | None:
    """The absolute URL the media storage serves its files under, when it has its own
    (S3 and S3-compatible services: the bucket's URL, query signature left out); None
    for files served under ``MEDIA_URL`` by this site."""
    try:
        url = default_storage.url(_PROBE)
    except Exception:  # a storage that cannot name URLs: only MEDIA_URL applies
        return None
    if not url.lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path.endswith(_PROBE):
        return None
    return urlunsplit((parts.scheme, parts.netloc, path[: -len(_PROBE)], "", ""))


def media_storage_path(value: str, site_media_url: str | None = None) -> str | None:
    """The path in the media storage that ``value`` names; None for an external URL.

    ``value`` is a relative path (``MEDIA_URL`` prefix optional, as
    :func:`validate_image_reference` allows), or an absolute URL under an absolute
    ``MEDIA_URL``, under ``site_media_url`` (this site's own media URL, which only a
    request can tell when ``MEDIA_URL`` is a path), or under the storage's own URL (an
    S3 bucket's: the URL the images endpoint answered, signed or not).
    """
    media_url = str(settings.MEDIA_URL or "")
    if value.lower().startswith(("http://", "https://")):
        for base in (media_url, site_media_url):
            if base and base.lower().startswith(("http://", "https://")):
                path = _same_origin_prefix(value, base)
                if path is not None:
                    return path
        storage_url = storage_base_url()  # asked last: S3 signs a URL to answer
        return _same_origin_prefix(value, storage_url) if storage_url else None
    if media_url.startswith("/") and value.startswith(media_url):
        return value[len(media_url) :]
    return value


def upload_folder(platform_key: str) -> str:
    """Where a platform's uploaded images are stored: ``<IMAGE_UPLOAD_DIR>/<key>/``."""
    return f"{str(ibl_settings.IMAGE_UPLOAD_DIR).strip('/')}/{platform_key}/"


def validate_own_image_reference(
    value: str, platform_key: str, *, site_media_url: str | None = None
) -> None:
    """An external http(s) URL, or an image uploaded to this platform.

    A reference into the media storage (a path, or the absolute media URL of a file)
    must lie in the platform's own upload folder: another tenant's uploads, or other
    files of the storage, are refused. The issuer API and the admin (through the
    models' ``clean``) both call this.
    """
    if not value:
        return
    path = media_storage_path(value, site_media_url)
    if path is None:
        return
    folder = upload_folder(platform_key)
    if not (_clean_media_path(path) and path.startswith(folder) and len(path) > len(folder)):
        raise ValidationError(
            f"Use an http or https URL, or an image uploaded to this platform "
            f"(a path under {folder}).",
            code="foreign_image",
        )


#: A did:web domain as the admin writes it: a lower-case host name (letters, digits,
#: dots and hyphens; or an IPv4 address), an optional port, then optional path segments.
validate_did_web_domain = RegexValidator(
    r"^(?=.{1,255}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~-]+)*$",
    (
        "Give a host name this server answers for, with an optional port and path, "
        "without a scheme: badges.example.org or badges.example.org/issuers/acme."
    ),
    code="invalid_did_web_domain",
)
