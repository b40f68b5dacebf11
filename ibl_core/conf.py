"""The ``IBL_DATA_MANAGER`` setting, read through one object with documented defaults.

Values are read from ``django.conf.settings`` on every access, so
``override_settings(IBL_DATA_MANAGER={...})`` takes effect at once. Keys that a
project does not set fall back to :data:`DEFAULTS`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

#: Every supported key, its default, and what it means.
DEFAULTS: dict[str, Any] = {
    # Catalog lists (page / page_size pagination).
    "PAGE_SIZE": 20,
    "MAX_PAGE_SIZE": 100,
    # Credentials lists (limit / offset pagination).
    "CREDENTIALS_PAGE_SIZE": 50,
    "CREDENTIALS_MAX_PAGE_SIZE": 1000,
    # Bulk suggestions: rows per request, rows per INSERT, largest JSON body accepted.
    "BULK_MAX_ROWS": 10_000,
    "BULK_BATCH_SIZE": 500,
    "BULK_MAX_BODY_BYTES": 16 * 1024 * 1024,
    # Uploaded images.
    "IMAGE_MAX_BYTES": 5 * 1024 * 1024,
    "IMAGE_MAX_WIDTH": 4096,
    "IMAGE_MAX_HEIGHT": 4096,
    # CPU per upload: WEBP costs 10-40x the CPU of JPEG per pixel to decode and
    # re-encode, and every scan of a progressive JPEG walks the whole image again.
    "IMAGE_MAX_WEBP_PIXELS": 1024 * 1024,
    "IMAGE_MAX_JPEG_SCANS": 100,
    "IMAGE_FORMATS": ["PNG", "JPEG", "GIF", "WEBP"],
    "IMAGE_SEARCH_LIMIT": 100,
    "IMAGE_UPLOAD_DIR": "uploaded_images",
    # API keys.
    "API_KEY_KEYWORDS": ["Api-Token", "Api-Key"],
    "API_KEY_LAST_USED_INTERVAL": 60,
}

_POSITIVE_INTS = (
    "PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CREDENTIALS_PAGE_SIZE",
    "CREDENTIALS_MAX_PAGE_SIZE",
    "BULK_MAX_ROWS",
    "BULK_BATCH_SIZE",
    "BULK_MAX_BODY_BYTES",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_WIDTH",
    "IMAGE_MAX_HEIGHT",
    "IMAGE_MAX_WEBP_PIXELS",
    "IMAGE_MAX_JPEG_SCANS",
    "IMAGE_SEARCH_LIMIT",
)
_KNOWN_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class IblSettings:
    """Attribute access to ``settings.IBL_DATA_MANAGER`` merged over :data:`DEFAULTS`."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown IBL_DATA_MANAGER setting: {name!r}")
        configured = getattr(settings, "IBL_DATA_MANAGER", None) or {}
        return configured.get(name, DEFAULTS[name])


ibl_settings = IblSettings()


def validate_settings(configured: Any) -> list[str]:
    """Return one message per problem found in a ``IBL_DATA_MANAGER`` value."""
    if configured is None:
        return []
    if not isinstance(configured, dict):
        return ["IBL_DATA_MANAGER must be a dict."]
    problems = [f"Unknown key {key!r}." for key in configured if key not in DEFAULTS]
    merged = {**DEFAULTS, **configured}
    for key in _POSITIVE_INTS:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{key} must be a positive integer, got {value!r}.")
    page_sizes = (merged["PAGE_SIZE"], merged["MAX_PAGE_SIZE"])
    if all(isinstance(size, int) for size in page_sizes) and page_sizes[0] > page_sizes[1]:
        problems.append("PAGE_SIZE must not exceed MAX_PAGE_SIZE.")
    formats = merged["IMAGE_FORMATS"]
    if (
        not isinstance(formats, list | tuple)
        or not formats
        or not set(formats) <= _KNOWN_IMAGE_FORMATS
    ):
        problems.append(
            f"IMAGE_FORMATS must be a non-empty list drawn from {sorted(_KNOWN_IMAGE_FORMATS)}, "
            f"got {formats!r}."
        )
    keywords = merged["API_KEY_KEYWORDS"]
    if (
        not isinstance(keywords, list | tuple)
        or not keywords
        or not all(isinstance(k, str) and k and " " not in k for k in keywords)
    ):
        problems.append("API_KEY_KEYWORDS must be a non-empty list of words.")
    interval = merged["API_KEY_LAST_USED_INTERVAL"]
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
        problems.append("API_KEY_LAST_USED_INTERVAL must be an integer >= 0 (seconds).")
    if not isinstance(merged["IMAGE_UPLOAD_DIR"], str) or not merged["IMAGE_UPLOAD_DIR"].strip("/"):
        problems.append("IMAGE_UPLOAD_DIR must be a non-empty relative folder name.")
    return problems
