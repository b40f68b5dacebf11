"""The ``STORAGES`` setting of the example project, built from environment variables.

``IBL_STORAGE=s3`` puts uploaded files (``STORAGES["default"]``) in an S3 bucket, or
any S3-compatible service (MinIO, Ceph, Cloudflare R2, ...) through
django-storages; anything else keeps them on the local file system under
``MEDIA_ROOT``. Static files stay local either way (``collectstatic`` into
``STATIC_ROOT``).

A function of an environ mapping rather than module-level code, so tests can build
the setting from a fake environment without reloading the settings module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
STATIC_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"

#: Environment variable -> S3Storage option, for the options passed through as text.
_S3_TEXT_OPTIONS = {
    "AWS_STORAGE_BUCKET_NAME": "bucket_name",
    "AWS_S3_ENDPOINT_URL": "endpoint_url",
    "AWS_S3_REGION_NAME": "region_name",
    "AWS_ACCESS_KEY_ID": "access_key",
    "AWS_SECRET_ACCESS_KEY": "secret_key",
    "AWS_SESSION_TOKEN": "security_token",
    "AWS_S3_CUSTOM_DOMAIN": "custom_domain",
    "AWS_LOCATION": "location",
    "AWS_DEFAULT_ACL": "default_acl",
    "AWS_S3_ADDRESSING_STYLE": "addressing_style",
    "AWS_S3_SIGNATURE_VERSION": "signature_version",
    "AWS_S3_URL_PROTOCOL": "url_protocol",
}
_S3_BOOL_OPTIONS = {
    "AWS_QUERYSTRING_AUTH": "querystring_auth",
    "AWS_S3_FILE_OVERWRITE": "file_overwrite",
}
_S3_INT_OPTIONS = {
    "AWS_QUERYSTRING_EXPIRE": "querystring_expire",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def storages_from_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The ``STORAGES`` setting for ``environ`` (normally ``os.environ``).

    Unset or empty variables are left out, so django-storages' own defaults apply
    (``AWS_QUERYSTRING_AUTH`` on: URLs are signed and expire after
    ``AWS_QUERYSTRING_EXPIRE`` seconds; credentials from boto3's usual chain, an
    instance or task role included, when no key is given). A missing bucket or an
    unreadable value raises ``ImproperlyConfigured`` at start-up.
    """
    kind = environ.get("IBL_STORAGE", "").strip().lower() or "local"
    if kind == "local":
        default: dict[str, Any] = {"BACKEND": LOCAL_BACKEND}
    elif kind == "s3":
        default = {"BACKEND": S3_BACKEND, "OPTIONS": s3_options_from_env(environ)}
    else:
        raise ImproperlyConfigured(f"IBL_STORAGE must be 'local' or 's3', got {kind!r}.")
    return {"default": default, "staticfiles": {"BACKEND": STATIC_BACKEND}}


def s3_options_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``OPTIONS`` of django-storages' ``S3Storage`` from ``AWS_*`` variables."""
    options: dict[str, Any] = {}
    for name, option in _S3_TEXT_OPTIONS.items():
        value = environ.get(name, "").strip()
        if value:
            options[option] = value
    for name, option in _S3_BOOL_OPTIONS.items():
        value = environ.get(name, "").strip().lower()
        if value in _TRUE | _FALSE:
            options[option] = value in _TRUE
        elif value:
            raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}.")
    for name, option in _S3_INT_OPTIONS.items():
        value = environ.get(name, "").strip()
        if value:
            try:
                options[option] = int(value)
            except ValueError:
                raise ImproperlyConfigured(f"{name} must be a number of seconds.") from None
    if "bucket_name" not in options:
        raise ImproperlyConfigured("IBL_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    return options
