"""GET/POST /api/credentials/orgs/{org}/users/{user_id}/images/ (contract ``credentials.md``)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from ibl_credentials.models import UploadedImage
from tests.conftest import ROLES
from tests.support.credentials_factories import (
    GPS_IFD,
    HTML,
    SVG,
    TEXT,
    UploadedImageFactory,
    encode,
    gif_bytes,
    jpeg_bytes,
    jpeg_with_gps,
    noise_image,
    noisy_jpeg,
    png_bytes,
    png_header_only,
    png_of_shapes,
    png_of_size,
    progressive_jpeg_with_scans,
    stored_files,
    truncated,
    upload,
    webp_bytes,
)

pytestmark = pytest.mark.django_db

FORMATS = "accepted formats: PNG, JPEG, GIF, WEBP."
MULTIPART = "`image` is required and must be sent as a file in a multipart/form-data body."
NOT_MEMBER = {"detail": "You are not a member of this platform."}
NOT_PATH_USER = {
    "detail": "The user in the path must be you, unless you are an admin of this platform."
}
STORED_URL = re.compile(
    r"http://testserver/media/uploaded_images/(p1|p2)/[0-9a-f]{32}\.(png|jpg|gif|webp)"
)


def images_url(user: str = "learner_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/images/"


def post_image(client, url: str, content=None, file_name="picture.png", fields=None):
    """POST a multipart upload (a small PNG unless ``content`` is given)."""
    payload = {"image": upload(png_bytes() if content is None else content, file_name)}
    return client.post(url, {**payload, **(fields or {})}, format="multipart")


def as_json(image: UploadedImage) -> dict:
    return {
        "id": image.pk,
        "name": image.name,
        "image": f"http://testserver/media/{image.file.name}",
    }


def assert_nothing_stored(media_root) -> None:
    assert stored_files(media_root) == []
    assert not UploadedImage.objects.exists()


# Access -----------------------------------------------------------------------------

#  role:                 GET own  POST own  GET for learner_p1  POST for learner_p1
EXPECTED = {
    "anonymous":          (401,   401,      401,                401),
    "outsider":           (403,   403,      403,                403),
    "learner_p1":         (200,   201,      200,                201),
    "learner_p2":         (403,   403,      403,                403),
    "department_admin":   (200,   201,      403,                403),
    "platform_admin_p1":  (200,   201,      200,                201),
    "platform_admin_p2":  (403,   403,      403,                403),
    "dm_admin":           (200,   201,      200,                201),
}  # fmt: skip
OPERATIONS = ("get-own", "post-own", "get-for-learner", "post-for-learner")


def test_matrix_covers_every_role():
    assert set(EXPECTED) == set(ROLES)


def call(world, role: str, operation: str):
    client = world.client(role)
    user = role if operation.endswith("own") else "learner_p1"
    if operation.startswith("get"):
        return client.get(images_url(user) + "?query=a")
    return post_image(client, images_url(user))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_access_matrix(world, role, operation):
    response = call(world, role, operation)
    assert response.status_code == EXPECTED[role][OPERATIONS.index(operation)], response.content


@pytest.mark.parametrize("operation", ["get", "post"])
def test_error_bodies_are_drf_standard(world, operation):
    def run(role, user="learner_p1", org="p1"):
        client = world.client(role)
        if operation == "get":
            return client.get(images_url(user, org) + "?query=a")
        return post_image(client, images_url(user, org))

    anonymous = run("anonymous")
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    assert anonymous["WWW-Authenticate"] == "Api-Token"
    assert run("outsider", "outsider").json() == NOT_MEMBER
    assert run("learner_p2", "learner_p2").json() == NOT_MEMBER
    assert run("department_admin").json() == NOT_PATH_USER
    nope = run("learner_p1", org="nope")
    assert (nope.status_code, nope.json()) == (404, {"detail": "Platform 'nope' not found."})
    assert not UploadedImage.objects.exists()


def test_org_segment_accepts_the_org_value(world):
    response = world.client("learner_p1").get(images_url(org="org-one") + "?query=a")
    assert (response.status_code, response.json()) == (200, [])


def test_path_user_by_numeric_id(world):
    learner = world.users["learner_p1"]
    client = world.client("learner_p1")
    assert client.get(images_url(str(learner.pk)) + "?query=a").status_code == 200
    other = world.users["learner_other_department"]
    response = client.get(images_url(str(other.pk)) + "?query=a")
    assert (response.status_code, response.json()) == (403, NOT_PATH_USER)
    admin = world.client("platform_admin_p1")
    assert admin.get(images_url(str(learner.pk)) + "?query=a").status_code == 200


@pytest.mark.parametrize("user", ["nobody", "999999", "9" * 30, "learner_p2", "outsider"])
def test_admin_naming_an_unknown_or_foreign_user_gets_404(world, user):
    for role in ("platform_admin_p1", "dm_admin"):
        response = world.client(role).get(images_url(user) + "?query=a")
        assert response.status_code == 404
        assert response.json() == {"detail": f"User {user!r} not found on this platform."}


@pytest.mark.parametrize("user", ["nobody", "999999", "learner_p2"])
def test_non_admin_naming_someone_else_gets_403_whether_or_not_they_exist(world, user):
    response = world.client("learner_p1").get(images_url(user) + "?query=a")
    assert (response.status_code, response.json()) == (403, NOT_PATH_USER)


def test_anonymous_on_unknown_platform_is_401(world):
    assert world.client("anonymous").get(images_url(org="nope") + "?query=a").status_code == 401


# Upload -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "file_name", "fmt", "extension"),
    [
        (png_bytes(), "Company Logo.png", "PNG", "png"),
        (jpeg_bytes(), "photo.JPG", "JPEG", "jpg"),
        (gif_bytes(), "anim.gif", "GIF", "gif"),
        (webp_bytes(), "pic.webp", "WEBP", "webp"),
    ],
)
def test_upload_answers_201_with_the_image(world, media_root, content, file_name, fmt, extension):
    response = post_image(world.client("learner_p1"), images_url(), content, file_name)
    assert response.status_code == 201, response.content
    image = UploadedImage.objects.get()
    assert response.json() == as_json(image)
    assert image.name == file_name.rsplit(".", 1)[0]
    assert re.fullmatch(rf"uploaded_images/p1/[0-9a-f]{{32}}\.{extension}", image.file.name)
    assert (image.platform, image.uploaded_by) == (world.p1, world.users["learner_p1"])
    assert image.format == fmt
    assert stored_files(media_root) == [media_root / image.file.name]
    assert image.size == (media_root / image.file.name).stat().st_size
    with default_storage.open(image.file.name) as stored:
        reopened = Image.open(stored)
        assert (reopened.format, reopened.size) == (fmt, (image.width, image.height))


def test_upload_with_a_name(world):
    response = post_image(
        world.client("learner_p1"), images_url(), fields={"name": "Certificate Icon"}
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Certificate Icon"


def test_client_file_name_never_reaches_the_storage(world, media_root):
    response = post_image(
        world.client("learner_p1"), images_url(), file_name="../../../evil<x>.png"
    )
    assert response.status_code == 201
    image = UploadedImage.objects.get()
    assert image.name == "evil<x>"
    assert "evil" not in image.file.name
    assert stored_files(media_root)[0].parent == media_root / "uploaded_images" / "p1"


def test_exif_gps_does_not_survive_upload(world):
    response = post_image(world.client("learner_p1"), images_url(), jpeg_with_gps(), "gps.jpg")
    assert response.status_code == 201
    with default_storage.open(UploadedImage.objects.get().file.name) as stored:
        content = stored.read()
    reopened = Image.open(io.BytesIO(content))
    assert not reopened.getexif()
    assert not reopened.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in content
    assert b"SecretCam" not in content


def test_jpeg_comment_does_not_survive_upload(world):
    content = jpeg_bytes(comment=b"home address")
    assert post_image(world.client("learner_p1"), images_url(), content, "c.jpg").status_code == 201
    with default_storage.open(UploadedImage.objects.get().file.name) as stored:
        data = stored.read()
    assert b"home address" not in data


def test_admin_uploads_for_a_member(world):
    response = post_image(world.client("platform_admin_p1"), images_url("learner_p1"))
    assert response.status_code == 201
    assert UploadedImage.objects.get().uploaded_by == world.users["learner_p1"]
    found = world.client("learner_p1").get(images_url() + "?query=picture")
    assert found.json() == [response.json()]


REFUSED = [
    (SVG, "logo.svg", "image/svg+xml", "not-an-image"),
    (SVG, "logo.png", "image/png", "not-an-image"),
    (HTML, "page.png", "image/png", "not-an-image"),
    (TEXT, "notes.png", "image/png", "not-an-image"),
    (png_bytes() + b"<script>alert(1)</script>", "poly.png", "image/png", "markup"),
    (truncated(encode(noise_image(), "PNG")), "cut.png", "image/png", "corrupt"),
    (truncated(encode(noise_image(), "JPEG")), "cut.jpg", "image/jpeg", "corrupt"),
    (png_header_only(60000, 60000), "bomb.png", "image/png", "bomb"),
    (png_header_only(5000, 10), "wide.png", "image/png", "wide"),
    (encode(Image.new("RGB", (1025, 1024)), "WEBP", lossless=True), "x.webp", "image/webp", "webp"),
    (progressive_jpeg_with_scans(101), "scans.jpg", "image/jpeg", "scans"),
    (b"", "empty.png", "image/png", "empty"),
]
MESSAGES = {
    "not-an-image": "The file is not a valid image (SVG, HTML, text and other formats are "
    "refused); " + FORMATS,
    "markup": "The file carries HTML, SVG or script markup besides image data; " + FORMATS,
    "corrupt": "The image is truncated or corrupt; " + FORMATS,
    "bomb": "The image has too many pixels to be decoded safely: the limit is 4096x4096 pixels.",
    "wide": "The image is 5000x10 pixels: the limit is 4096x4096 pixels.",
    "webp": "The image is 1025x1024 pixels: WEBP images are limited to 1048576 pixels "
    "(1024x1024); send a smaller image, or use another format.",
    "scans": "The JPEG has 101 scans: the limit is 100 (a progressive JPEG usually has about "
    "10); save it again with ordinary settings.",
    "empty": "The file is empty; " + FORMATS,
}


@pytest.mark.parametrize(
    ("content", "file_name", "content_type", "reason"), REFUSED, ids=[r[3] for r in REFUSED]
)
def test_refused_uploads_store_nothing(world, media_root, content, file_name, content_type, reason):
    response = world.client("learner_p1").post(
        images_url(),
        {"image": upload(content, file_name, content_type)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"image": [MESSAGES[reason]]}
    assert_nothing_stored(media_root)


def test_file_one_byte_over_the_limit_is_refused(world, media_root, settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 2048}
    client = world.client("learner_p1")
    response = post_image(client, images_url(), png_of_size(2049))
    assert response.status_code == 400
    assert response.json() == {
        "image": ["The file is too large (2049 bytes): the limit is 2048 bytes (2.0 KiB)."]
    }
    assert_nothing_stored(media_root)
    assert post_image(client, images_url(), png_of_size(2048)).status_code == 201


def test_low_quality_jpeg_is_stored_no_larger_than_uploaded(world, media_root):
    # Re-encoded at quality 90, a 4.7 MB quality-30 photo was stored as 11.5 MB.
    content = noisy_jpeg((2000, 2000), quality=30)
    response = post_image(world.client("learner_p1"), images_url(), content, "photo.jpg")
    assert response.status_code == 201, response.content
    image = UploadedImage.objects.get()
    assert response.json() == as_json(image)
    stored = (media_root / image.file.name).stat().st_size
    assert image.size == stored
    assert stored <= len(content) <= 5 * 1024 * 1024
    assert (image.format, image.width, image.height) == ("JPEG", 2000, 2000)


def test_upload_too_large_once_re_encoded_is_refused(world, media_root, settings):
    content = png_of_shapes()  # zlib level 9: our level-6 encoding is ~10% larger
    re_encoded = len(encode(Image.open(io.BytesIO(content)), "PNG"))
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": len(content)}
    response = post_image(world.client("learner_p1"), images_url(), content, "shapes.png")
    assert response.status_code == 400
    limit = len(content)
    assert response.json() == {
        "image": [
            f"The image is too large once re-encoded without metadata ({re_encoded} bytes): "
            f"the limit is {limit} bytes ({limit / 1024:.1f} KiB)."
        ]
    }
    assert_nothing_stored(media_root)


def test_body_larger_than_any_upload_is_413_before_reading(world, media_root, settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 1000}
    big = b"\x00" * (1000 + 64 * 1024 + 1)
    response = post_image(world.client("learner_p1"), images_url(), big)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large: images are limited to 1000 bytes."
    }
    assert_nothing_stored(media_root)
    # Authentication and permissions come first: a stranger learns nothing about sizes.
    assert post_image(world.client("anonymous"), images_url(), big).status_code == 401
    assert post_image(world.client("outsider"), images_url("outsider"), big).status_code == 403


def test_name_of_254_characters_is_accepted_255_refused(world, media_root):
    client = world.client("learner_p1")
    too_long = post_image(client, images_url(), fields={"name": "n" * 255})
    assert too_long.status_code == 400
    assert too_long.json() == {"name": ["Ensure this field has no more than 254 characters."]}
    assert_nothing_stored(media_root)
    response = post_image(client, images_url(), fields={"name": "n" * 254})
    assert (response.status_code, response.json()["name"]) == (201, "n" * 254)


@pytest.mark.parametrize(
    ("file_name", "given", "expected"),
    [
        ("Badge Final.v2.png", None, "Badge Final.v2"),
        ("Badge.png", "", "Badge"),
        ("Badge.png", "   ", "Badge"),
        ("Badge.png", "  Mine ", "Mine"),
        ("x" * 300 + ".png", None, "x" * 251),  # Django keeps 255 characters with the extension
    ],
)
def test_default_name_is_the_file_base_name(world, file_name, given, expected):
    fields = {} if given is None else {"name": given}
    response = post_image(world.client("learner_p1"), images_url(), None, file_name, fields)
    assert (response.status_code, response.json()["name"]) == (201, expected)


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"data": {"name": "x"}, "format": "json"},
        {"data": {"image": "iVBORw0KGgo=", "name": "x"}, "format": "json"},
        {"data": [1, 2], "format": "json"},
        {"data": "name=x&image=abc", "content_type": "application/x-www-form-urlencoded"},
        {"data": {"name": "only a name"}, "format": "multipart"},
        {},
    ],
    ids=["json", "json-string-image", "json-list", "form", "multipart-no-file", "empty"],
)
def test_body_without_a_file_says_multipart(world, media_root, kwargs):
    response = world.client("learner_p1").post(images_url(), **kwargs)
    assert response.status_code == 400
    assert response.json() == {"image": [MULTIPART]}
    assert_nothing_stored(media_root)


def test_json_and_form_bodies_are_not_read(world, settings):
    # Larger than Django's in-memory limit for non-file bodies, smaller than an upload:
    # still the multipart message, not Django's bare 400 (the body is never read).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client = world.client("learner_p1")
    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        response = client.post(images_url(), "{nope" + "x" * 1000, content_type=content_type)
        assert (response.status_code, response.json()) == (400, {"image": [MULTIPART]})


def test_unsupported_media_type_is_415(world):
    response = world.client("learner_p1").post(images_url(), "x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


# Search -----------------------------------------------------------------------------


@pytest.fixture
def gallery(world):
    """Images on p1 by three users, and one on p2."""
    make = UploadedImageFactory
    return {
        "learner": make(platform=world.p1, uploaded_by=world.users["learner_p1"], name="Blue Logo"),
        "other": make(
            platform=world.p1, uploaded_by=world.users["learner_other_department"], name="logo 2"
        ),
        "admin": make(
            platform=world.p1, uploaded_by=world.users["platform_admin_p1"], name="LOGO admin"
        ),
        "unrelated": make(
            platform=world.p1, uploaded_by=world.users["learner_p1"], name="Background"
        ),
        "p2": make(platform=world.p2, uploaded_by=world.users["learner_p2"], name="logo p2"),
    }


def test_a_query_sent_empty_or_blank_is_400(world):
    for query in ("?query=", "?query=%20%20"):
        response = world.client("learner_p1").get(images_url() + query)
        assert response.status_code == 400
        assert response.json() == {"query": ["This field is required."]}


# The list (no query: the published client sends none) ----------------------------------


def image_page(count: int, data: list, *, page=1, size=10, nxt=None, prev=None) -> dict:
    return {
        "next": nxt,
        "previous": prev,
        "count": count,
        "data": data,
        "num_pages": max(1, -(-count // size)),
        "page_number": page,
        "max_page_size": 100,
    }


def test_without_query_a_member_lists_their_own_images(world, gallery):
    response = world.client("learner_p1").get(images_url())
    assert response.status_code == 200
    expected = [as_json(gallery["unrelated"]), as_json(gallery["learner"])]
    assert response.json() == image_page(2, expected)


@pytest.mark.parametrize("role", ["platform_admin_p1", "dm_admin"])
def test_without_query_admins_list_every_image_of_the_platform(world, gallery, role):
    response = world.client(role).get(images_url(role))
    assert response.status_code == 200
    names = ["unrelated", "admin", "other", "learner"]  # newest first; never p2's
    assert response.json() == image_page(4, [as_json(gallery[name]) for name in names])


def test_the_list_pages(world):
    user = world.users["learner_p1"]
    images = [UploadedImageFactory(platform=world.p1, uploaded_by=user) for _ in range(3)]
    url = "http://testserver" + images_url()
    client = world.client("learner_p1")
    first = client.get(images_url() + "?page_size=2").json()
    assert first == image_page(
        3, [as_json(images[2]), as_json(images[1])], size=2, nxt=f"{url}?page=2&page_size=2"
    )
    second = client.get(images_url() + "?page=2&page_size=2").json()
    assert second == image_page(3, [as_json(images[0])], page=2, size=2, prev=f"{url}?page_size=2")
    assert client.get(images_url() + "?page_size=1000").json()["max_page_size"] == 100


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ("?page=0", 400, {"page": ["A positive integer is required."]}),
        ("?page_size=x", 400, {"page_size": ["A positive integer is required."]}),
        ("?page=2", 404, {"detail": "Invalid page."}),
    ],
)
def test_bad_list_parameters(world, gallery, query, status, body):
    response = world.client("learner_p1").get(images_url() + query)
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("role", ["learner_p1", "platform_admin_p1"])
def test_the_list_queries_do_not_grow_with_rows(world, role, django_assert_max_num_queries):
    user = world.users[role]
    client = world.client(role)
    for rows in (3, 30):
        while UploadedImage.objects.count() < rows:
            UploadedImageFactory(platform=world.p1, uploaded_by=user)
        # key, key last_used, platform, membership, count, images
        with django_assert_max_num_queries(6):
            assert client.get(images_url(role)).json()["count"] == rows


def test_member_finds_only_their_own_images(world, gallery):
    response = world.client("learner_p1").get(images_url() + "?query=logo")
    assert response.status_code == 200
    assert response.json() == [as_json(gallery["learner"])]


@pytest.mark.parametrize("role", ["platform_admin_p1", "dm_admin"])
def test_admins_find_every_image_of_the_platform(world, gallery, role):
    response = world.client(role).get(images_url(role) + "?query=LoGo")
    assert response.json() == [as_json(gallery[key]) for key in ("admin", "other", "learner")]


def test_other_platform_images_are_invisible(world, gallery):
    response = world.client("platform_admin_p2").get(
        images_url("platform_admin_p2", "p2") + "?query=logo"
    )
    assert response.json() == [as_json(gallery["p2"])]


def test_search_is_a_case_insensitive_substring_with_wildcards_escaped(world, gallery):
    client = world.client("platform_admin_p1")
    assert client.get(images_url("platform_admin_p1") + "?query=ckgro").json() == [
        as_json(gallery["unrelated"])
    ]
    assert client.get(images_url("platform_admin_p1") + "?query=%25").json() == []
    assert client.get(images_url("platform_admin_p1") + "?query=_").json() == []


def test_null_character_in_query_is_400(world):
    response = world.client("learner_p1").get(images_url() + "?query=a%00b")
    assert response.status_code == 400
    assert response.json() == {"query": ["Null characters are not allowed."]}


def test_newest_first_then_highest_id(world):
    user = world.users["learner_p1"]
    first, second, third = (
        UploadedImageFactory(platform=world.p1, uploaded_by=user, name=f"pic {n}") for n in range(3)
    )
    now = timezone.now()
    UploadedImage.objects.filter(pk=first.pk).update(created=now)
    UploadedImage.objects.filter(pk__in=[second.pk, third.pk]).update(created=now - timedelta(1))
    response = world.client("learner_p1").get(images_url() + "?query=pic")
    assert [item["id"] for item in response.json()] == [first.pk, third.pk, second.pk]


def test_results_are_capped(world, settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_SEARCH_LIMIT": 2}
    user = world.users["learner_p1"]
    made = [UploadedImageFactory(platform=world.p1, uploaded_by=user, name="x") for _ in range(4)]
    response = world.client("learner_p1").get(images_url() + "?query=x")
    assert [item["id"] for item in response.json()] == [made[3].pk, made[2].pk]


def test_image_url_is_the_absolute_storage_url(world):
    posted = post_image(world.client("learner_p1"), images_url()).json()
    assert STORED_URL.fullmatch(posted["image"])
    name = UploadedImage.objects.get().file.name
    assert posted["image"] == "http://testserver" + default_storage.url(name)
    assert default_storage.exists(name)
    found = world.client("learner_p1").get(images_url() + "?query=pic").json()
    assert found == [posted]


def test_absolute_storage_urls_are_kept(world, settings):
    settings.MEDIA_URL = "https://cdn.example.org/media/"
    image = UploadedImageFactory(platform=world.p1, uploaded_by=world.users["learner_p1"])
    found = world.client("learner_p1").get(images_url() + "?query=image").json()
    assert found[0]["image"] == f"https://cdn.example.org/media/{image.file.name}"


@pytest.mark.parametrize("role", ["learner_p1", "platform_admin_p1"])
def test_search_queries_do_not_grow_with_rows(world, role, django_assert_max_num_queries):
    user = world.users[role]
    for _ in range(3):
        UploadedImageFactory(platform=world.p1, uploaded_by=user, name="many")
    client = world.client(role)
    # key, key last_used, platform, membership, images
    with django_assert_max_num_queries(5):
        assert len(client.get(images_url(role) + "?query=many").json()) == 3
    for _ in range(30):
        UploadedImageFactory(platform=world.p1, uploaded_by=user, name="many")
    with django_assert_max_num_queries(5):
        assert len(client.get(images_url(role) + "?query=many").json()) == 33


def test_a_search_ignores_the_page_but_refuses_bad_page_parameters(world, gallery):
    client = world.client("learner_p1")
    assert client.get(images_url() + "?query=logo&page=1&page_size=5").json() == [
        as_json(gallery["learner"])
    ]
    response = client.get(images_url() + "?query=logo&page_size=x")
    assert (response.status_code, response.json()) == (
        400,
        {"page_size": ["A positive integer is required."]},
    )
