"""With ``IBL_STORAGE=s3`` an uploaded image's URL is the bucket's: a credential naming it
refers to the stored file (its badge image is baked from it), and another platform's
upload is refused, as with local media. The scale-out test (``test_scale_out.py``) shows
the same across two instances against moto's server."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from example_project.storage_settings import storages_from_env
from ibl_credentials.validators import (
    media_storage_path,
    storage_base_url,
    validate_own_image_reference,
)
from tests.credentials.test_s3_storage import AWS_ENV, BUCKET, ENDPOINT, no_network, s3

__all__ = ["no_network", "s3"]  # the fixtures, used by name

KEY = "uploaded_images/p1/" + "d" * 32 + ".png"


@pytest.mark.parametrize(
    ("extra", "base"),
    [
        ({}, f"https://{BUCKET}.s3.amazonaws.com/"),
        (
            {"AWS_S3_ENDPOINT_URL": ENDPOINT, "AWS_QUERYSTRING_AUTH": "false"},
            f"{ENDPOINT}/{BUCKET}/",
        ),
        (
            {"AWS_S3_CUSTOM_DOMAIN": "media.example.com", "AWS_LOCATION": "ibl"},
            "https://media.example.com/ibl/",
        ),
    ],
    ids=["signed", "endpoint", "custom-domain-and-prefix"],
)
def test_the_buckets_url_names_the_stored_file(s3, extra, base):
    with override_settings(STORAGES=storages_from_env({**AWS_ENV, **extra})):
        assert storage_base_url() == base
        signed = base + KEY + "?X-Amz-Signature=abc&X-Amz-Expires=3600"
        assert media_storage_path(base + KEY) == KEY
        assert media_storage_path(signed) == KEY
        assert media_storage_path("https://elsewhere.example.com/" + KEY) is None


def test_another_platforms_upload_in_the_bucket_is_refused(s3):
    with override_settings(STORAGES=storages_from_env(AWS_ENV)):
        base = storage_base_url()
        validate_own_image_reference(base + KEY, "p1")
        with pytest.raises(ValidationError):
            validate_own_image_reference(base + KEY, "p2")


def test_local_media_has_no_storage_url():
    assert storage_base_url() is None
