"""End to end through gunicorn with several workers on one SQLite file."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.live import start

pytestmark = pytest.mark.live

MANAGE = "/api/catalog/suggestions/program/manage/"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from start(tmp_path_factory.mktemp("live"))


def learner_id(live) -> int:
    out = live.manage("shell", "-c", "from django.contrib.auth.models import User;"
                      "print(User.objects.get(username='learner2').pk)")  # fmt: skip
    return int(out.strip().splitlines()[-1])


def test_demo_curl_line_works(live):
    status, _, body = live.request("GET", MANAGE + "?platform_key=demo")
    assert status == 200
    assert list(json.loads(body)) == [
        "count", "next", "previous", "next_page", "previous_page", "results"
    ]  # fmt: skip


def test_simultaneous_posts_of_one_suggestion_on_sqlite(live):
    body = {"platform_key": "demo", "program_key": "program-v1:demo+ml-ops+2026",
            "user_id": learner_id(live), "visible": False}  # fmt: skip
    barrier = threading.Barrier(8)

    def post():
        barrier.wait()
        return live.request("POST", MANAGE, body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(), range(8)))
    assert [status for status, _, _ in answers] == [200] * 8
    assert len({json.loads(raw)["id"] for _, _, raw in answers}) == 1
    _, _, raw = live.request("GET", MANAGE + "?platform_key=demo&query=ml-ops")
    assert json.loads(raw)["count"] == 1


def test_uploaded_image_is_served_at_the_returned_url(live):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buffer, "JPEG")
    boundary = "ibl-live-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + buffer.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, raw = live.request(
        "POST", "/api/credentials/orgs/demo/users/demo-admin/images/", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert status == 201, raw
    url = json.loads(raw)["image"]
    assert url.startswith(live.base_url + "/media/uploaded_images/demo/")
    status, _, image = live.request("GET", url.removeprefix(live.base_url))
    assert status == 200
    assert Image.open(io.BytesIO(image)).size == (16, 16)
