"""``IBL_STORAGE=s3``: uploaded images land in an S3 bucket (moto, no network).

The ``STORAGES`` setting is built by ``example_project.storage_settings`` from a fake
environment, exactly as the settings module builds it from ``os.environ``.
"""

from __future__ import annotations

import io
import re
import socket

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings
from moto import mock_aws
from PIL import Image

from example_project.storage_settings import LOCAL_BACKEND, S3_BACKEND, storages_from_env
from ibl_credentials.models import UploadedImage

BUCKET = "ibl-media-test"
REGION = "eu-west-1"
#: An S3-compatible service (MinIO, Ceph...) reached by its own endpoint.
ENDPOINT = "http://minio.test.invalid:9000"
AWS_ENV = {
    "IBL_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": BUCKET,
    "AWS_S3_REGION_NAME": REGION,
    "AWS_ACCESS_KEY_ID": "testing-access-key",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
}
STORED_KEY = re.compile(r"uploaded_images/p1/[0-9a-f]{32}\.png")


LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_network(monkeypatch):
    """A name lookup or a connection beyond this machine fails the test."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOCAL_HOSTS:
            raise AssertionError(f"network access to {address!r} during a mocked S3 test")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL_HOSTS:
            raise AssertionError(f"name lookup of {host!r} during a mocked S3 test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def s3(no_network, monkeypatch):
    """A mocked S3 with the bucket, answering on AWS and on ``ENDPOINT``."""
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", ENDPOINT)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id="testing-access-key",
            aws_secret_access_key="testing-secret-key",
        )
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


def object_keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# Building the setting ----------------------------------------------------------------


def test_local_files_unless_s3_is_asked_for():
    assert storages_from_env({})["default"] == {"BACKEND": LOCAL_BACKEND}
    assert storages_from_env({"IBL_STORAGE": "local"})["default"] == {"BACKEND": LOCAL_BACKEND}


def test_s3_options_come_from_the_environment():
    storages = storages_from_env(
        {
            **AWS_ENV,
            "AWS_S3_ENDPOINT_URL": ENDPOINT,
            "AWS_S3_CUSTOM_DOMAIN": "media.example.com",
            "AWS_QUERYSTRING_AUTH": "false",
            "AWS_QUERYSTRING_EXPIRE": "600",
            "AWS_DEFAULT_ACL": "",  # empty: left to django-storages' default
        }
    )
    assert storages["default"] == {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": BUCKET,
            "region_name": REGION,
            "access_key": "testing-access-key",
            "secret_key": "testing-secret-key",
            "endpoint_url": ENDPOINT,
            "custom_domain": "media.example.com",
            "querystring_auth": False,
            "querystring_expire": 600,
        },
    }
    # Only uploaded files move: static files stay with collectstatic.
    assert storages["staticfiles"] == storages_from_env({})["staticfiles"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"IBL_STORAGE": "s3"}, "AWS_STORAGE_BUCKET_NAME"),
        ({"IBL_STORAGE": "gcs"}, "IBL_STORAGE must be 'local' or 's3'"),
        ({**AWS_ENV, "AWS_QUERYSTRING_AUTH": "maybe"}, "AWS_QUERYSTRING_AUTH"),
        ({**AWS_ENV, "AWS_QUERYSTRING_EXPIRE": "soon"}, "AWS_QUERYSTRING_EXPIRE"),
    ],
)
def test_a_bad_configuration_stops_start_up(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        storages_from_env(environ)


# Through Django's default storage ----------------------------------------------------


def test_default_storage_writes_to_the_bucket_under_the_platform_folder(s3):
    with override_settings(STORAGES=storages_from_env(AWS_ENV)):
        name = default_storage.save("uploaded_images/p1/" + "a" * 32 + ".png", ContentFile(png()))
        url = default_storage.url(name)
    assert object_keys(s3) == [name] and STORED_KEY.fullmatch(name)
    assert s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == png()
    # Signed by default (AWS_QUERYSTRING_AUTH), on the bucket's own host.
    assert url.startswith(f"https://{BUCKET}.s3.amazonaws.com/{name}?")
    assert "Signature=" in url or "X-Amz-Signature=" in url


@pytest.mark.slow
def test_an_s3_compatible_endpoint_and_public_urls(s3):
    environ = {**AWS_ENV, "AWS_S3_ENDPOINT_URL": ENDPOINT, "AWS_QUERYSTRING_AUTH": "false"}
    with override_settings(STORAGES=storages_from_env(environ)):
        name = default_storage.save("uploaded_images/p1/" + "b" * 32 + ".png", ContentFile(png()))
        url = default_storage.url(name)
    assert object_keys(s3) == [name]
    assert url == f"{ENDPOINT}/{BUCKET}/{name}"


def test_a_custom_domain_serves_the_files(s3):
    environ = {**AWS_ENV, "AWS_S3_CUSTOM_DOMAIN": "media.example.com"}
    with override_settings(STORAGES=storages_from_env(environ)):
        name = default_storage.save("uploaded_images/p2/" + "c" * 32 + ".png", ContentFile(png()))
        url = default_storage.url(name)
    assert object_keys(s3) == [name]
    assert url == f"https://media.example.com/{name}"


# Through the upload endpoint ---------------------------------------------------------


@pytest.mark.django_db
def test_an_uploaded_image_lands_in_the_bucket(s3, world, media_root):
    environ = {**AWS_ENV, "AWS_S3_ENDPOINT_URL": ENDPOINT, "AWS_QUERYSTRING_AUTH": "false"}
    upload = ContentFile(png(), name="holiday photo.png")
    with override_settings(STORAGES=storages_from_env(environ)):
        response = world.client("learner_p1").post(
            "/api/credentials/orgs/p1/users/learner_p1/images/",
            {"image": upload, "name": "Logo"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    image = UploadedImage.objects.get()
    key = image.file.name
    assert STORED_KEY.fullmatch(key)  # server-generated, in the platform's folder
    assert object_keys(s3) == [key]
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert Image.open(io.BytesIO(stored)).size == (8, 8)
    url = f"{ENDPOINT}/{BUCKET}/{key}"  # absolute already: build_absolute_uri keeps it
    assert response.json() == {"id": image.pk, "name": "Logo", "image": url}
    assert not media_root.exists()  # nothing on the local disk
