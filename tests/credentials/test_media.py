"""Uploaded images are served by the example project at the URL the API returns."""

from __future__ import annotations

import io

import pytest
from PIL import Image

pytestmark = pytest.mark.django_db


def test_uploaded_image_can_be_fetched_at_its_url(world, client):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    uid = world.users["learner_p1"].pk
    response = world.client("learner_p1").post(
        f"/api/credentials/orgs/p1/users/{uid}/images/", {"image": buffer}, format="multipart"
    )
    assert response.status_code == 201
    url = response.json()["image"]
    assert url.startswith("http://testserver/media/uploaded_images/p1/")
    fetched = client.get(url.removeprefix("http://testserver"))
    assert fetched.status_code == 200
    image = Image.open(io.BytesIO(b"".join(fetched.streaming_content)))
    assert (image.format, image.size) == ("PNG", (8, 8))
