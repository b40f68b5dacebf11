"""The image pipeline on crafted files: what passes, what is refused, what survives."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse
from PIL import GifImagePlugin, Image, JpegImagePlugin, WebPImagePlugin

from ibl_core.api.parsers import RequestTooLarge
from ibl_credentials.images import pipeline as images
from ibl_credentials.models import UploadedImage
from tests.support.credentials_factories import (
    GPS_IFD,
    HTML,
    SVG,
    TEXT,
    UploadedImageFactory,
    animated,
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
    png_with_text,
    progressive_jpeg_with_scans,
    stored_files,
    truncated,
    upload,
    webp_bytes,
    webp_is_lossless,
)

FORMATS = "accepted formats: PNG, JPEG, GIF, WEBP."
NOT_AN_IMAGE = (
    "The file is not a valid image (SVG, HTML, text and other formats are refused); " + FORMATS
)
CORRUPT = "The image is truncated or corrupt; " + FORMATS
MARKUP = "The file carries HTML, SVG or script markup besides image data; " + FORMATS


def refusal(content: bytes, name: str = "file.png") -> str:
    with pytest.raises(ValidationError) as caught:
        images.process_image(upload(content, name))
    assert len(caught.value.messages) == 1
    return caught.value.messages[0]


def reopen(processed: images.ProcessedImage) -> Image.Image:
    image = Image.open(io.BytesIO(processed.content))
    image.load()
    return image


@pytest.mark.parametrize(
    ("content", "fmt", "size"),
    [
        (png_bytes((16, 9)), "PNG", (16, 9)),
        (jpeg_bytes((32, 20)), "JPEG", (32, 20)),
        (gif_bytes(), "GIF", (12, 12)),
        (webp_bytes(), "WEBP", (20, 10)),
    ],
    ids=["png", "jpeg", "gif", "webp"],
)
def test_accepted_formats_are_re_encoded_in_their_format(content, fmt, size):
    processed = images.process_image(upload(content))
    assert (processed.format, (processed.width, processed.height)) == (fmt, size)
    assert reopen(processed).format == fmt
    assert processed.size == len(processed.content)


def test_exif_and_gps_do_not_survive():
    processed = images.process_image(upload(jpeg_with_gps(), "photo.jpg"))
    image = reopen(processed)
    assert not image.getexif()
    assert not image.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in processed.content
    assert b"SecretCam" not in processed.content


def test_jpeg_comment_does_not_survive():
    processed = images.process_image(upload(jpeg_bytes(comment=b"secret note"), "c.jpg"))
    assert "comment" not in reopen(processed).info
    assert b"secret note" not in processed.content


def test_png_text_chunks_do_not_survive():
    processed = images.process_image(upload(png_with_text("where I live")))
    assert b"where I live" not in processed.content
    assert "Comment" not in reopen(processed).info


def test_gif_keeps_transparency_but_not_its_comment():
    processed = images.process_image(upload(gif_bytes(), "a.gif"))
    image = reopen(processed)
    assert image.info.get("transparency") == 0
    assert b"gif comment" not in processed.content


def test_exif_orientation_is_applied_before_it_is_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    content = jpeg_bytes((40, 10), exif=exif.tobytes())
    processed = images.process_image(upload(content, "r.jpg"))
    assert (processed.width, processed.height) == (10, 40)  # stored upright
    assert reopen(processed).size == (10, 40)
    assert not reopen(processed).getexif()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (SVG, NOT_AN_IMAGE),
        (HTML, NOT_AN_IMAGE),
        (TEXT, NOT_AN_IMAGE),
        (b"GIF89a<html><script>alert(1)</script></html>", None),
        (png_bytes() + b"<script>alert(1)</script>", MARKUP),
        (jpeg_bytes() + b"<html><body>hi</body></html>", MARKUP),
        (truncated(encode(noise_image(), "PNG")), CORRUPT),
        (truncated(encode(noise_image(), "JPEG")), CORRUPT),
        (b"", "The file is empty; " + FORMATS),
    ],
    ids=[
        "svg",
        "html",
        "text",
        "gif-html",
        "png-polyglot",
        "jpeg-polyglot",
        "png-cut",
        "jpeg-cut",
        "empty",
    ],
)
def test_refused_files(content, message):
    text = refusal(content)
    if message is not None:
        assert text == message
    assert text.endswith(FORMATS)


def test_corrupt_pixel_data_is_refused():
    data = bytearray(encode(noise_image(), "PNG"))
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    assert refusal(bytes(data)) == CORRUPT


def test_format_not_configured_is_refused(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_FORMATS": ["PNG"]}
    assert refusal(jpeg_bytes()) == (
        "The file is not a valid image (SVG, HTML, text and other formats are refused); "
        "accepted formats: PNG."
    )
    assert images.process_image(upload(png_bytes())).format == "PNG"


def test_decompression_bomb_header_is_refused_quickly_without_decoding():
    started = time.monotonic()
    message = refusal(png_header_only(60000, 60000))
    assert time.monotonic() - started < 1
    assert message == (
        "The image has too many pixels to be decoded safely: the limit is 4096x4096 pixels."
    )


def test_pixel_limit_is_checked_from_the_header(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_WIDTH": 100, "IMAGE_MAX_HEIGHT": 50}
    assert refusal(png_header_only(101, 10)) == (
        "The image is 101x10 pixels: the limit is 100x50 pixels."
    )
    assert (
        refusal(png_header_only(10, 51)) == "The image is 10x51 pixels: the limit is 100x50 pixels."
    )
    assert images.process_image(upload(png_bytes((100, 50)))).width == 100


def test_pillow_bomb_warning_threshold_is_refused(monkeypatch):
    # Between MAX_IMAGE_PIXELS and twice that, Pillow only warns: still refused.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.warns(Image.DecompressionBombWarning):
        message = refusal(png_bytes((12, 12)))
    assert message == "The image is 12x12 pixels: the limit is 4096x4096 pixels."
    assert refusal(png_bytes((20, 20))) == (  # above twice the limit: Pillow's error
        "The image has too many pixels to be decoded safely: the limit is 4096x4096 pixels."
    )


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_bomb_warning_raised_as_error_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert refusal(png_bytes((12, 12))) == (
        "The image has too many pixels to be decoded safely: the limit is 4096x4096 pixels."
    )


def test_size_is_checked_before_decoding(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 2048}
    over = png_of_size(2049)
    assert refusal(over) == "The file is too large (2049 bytes): the limit is 2048 bytes (2.0 KiB)."
    # Not even the header is read: garbage of the same size gets the same answer.
    assert refusal(b"\x00" * 2049) == refusal(over)
    assert images.process_image(upload(png_of_size(2048))).format == "PNG"


def test_default_size_limit_is_5_mib():
    over = ContentFile(b"\x00" * (5 * 1024 * 1024 + 1), name="big.png")
    assert refusal_of(over) == (
        "The file is too large (5242881 bytes): the limit is 5242880 bytes (5.0 MiB)."
    )


def test_a_file_lying_about_its_size_is_still_bounded(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 10}
    lying = ContentFile(png_bytes(), name="x.png")
    lying.size = 5  # type: ignore[misc]
    assert refusal_of(lying) == "The file is too large: the limit is 10 bytes."


def refusal_of(file) -> str:
    with pytest.raises(ValidationError) as caught:
        images.process_image(file)
    return caught.value.messages[0]


def test_upload_handler_keeps_nothing_of_an_oversized_file(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 100}
    handler = images.ImageUploadHandler(RequestFactory().post("/"))
    handler.new_file("image", "big.png", "image/png", 250)
    for start in range(0, 250, 50):
        assert handler.receive_data_chunk(b"x" * 50, start) is None
    uploaded = handler.file_complete(250)
    assert uploaded.size == 250
    assert uploaded.read() == b""
    assert uploaded.name == "big.png"


def test_upload_handler_keeps_a_file_within_the_limit(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 100}
    handler = images.ImageUploadHandler(RequestFactory().post("/"))
    handler.new_file("image", "ok.png", "image/png", 100)
    handler.receive_data_chunk(b"a" * 60, 0)
    handler.receive_data_chunk(b"b" * 40, 60)
    uploaded = handler.file_complete(100)
    assert (uploaded.size, uploaded.read()) == (100, b"a" * 60 + b"b" * 40)


def test_oversized_declared_body_is_refused_before_reading(settings):
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": 1000}
    request = RequestFactory().post("/", data=b"", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = str(1000 + images.MULTIPART_OVERHEAD_BYTES + 1)
    with pytest.raises(RequestTooLarge) as caught:
        images.refuse_oversized_body(request)
    assert str(caught.value.detail) == ("Request body too large: images are limited to 1000 bytes.")
    request.META["CONTENT_LENGTH"] = str(1000 + images.MULTIPART_OVERHEAD_BYTES)
    images.refuse_oversized_body(request)  # within: no error


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("Company Logo.png", "Company Logo"),
        ("archive.tar.gz", "archive.tar"),
        ("../../etc/passwd.png", "passwd"),
        ("C:\\Users\\me\\badge.jpeg", "badge"),
        (".png", ".png"),
        ("", "image"),
        (None, "image"),
        ("tab\there  and\nnewline.gif", "tab here and newline"),
        ("x" * 300 + ".png", "x" * 254),
    ],
)
def test_default_image_name(file_name, expected):
    assert images.default_image_name(file_name, 254) == expected


def test_storage_name_is_server_generated_per_platform(settings):
    processed = images.process_image(upload(png_bytes(), "../../evil name.png"))
    name = images.storage_name("p1", processed)
    assert re.fullmatch(r"uploaded_images/p1/[0-9a-f]{32}\.png", name)
    settings.IBL_DATA_MANAGER = {"IMAGE_UPLOAD_DIR": "/badges/"}
    assert re.fullmatch(r"badges/p1/[0-9a-f]{32}\.png", images.storage_name("p1", processed))
    assert images.storage_name("p1", processed) != images.storage_name("p1", processed)


# Size and CPU: what re-encoding may cost -------------------------------------------


def source_quantization(content: bytes) -> dict:
    return Image.open(io.BytesIO(content)).quantization


def test_low_quality_jpeg_keeps_its_quality_and_its_size():
    # Re-encoded at quality 90, this 1.1 MB quality-30 photo became 2.8 MB.
    content = noisy_jpeg((2000, 2000), quality=30)
    processed = images.process_image(upload(content, "photo.jpg"))
    assert processed.format == "JPEG"
    assert processed.size <= len(content) <= 5 * 1024 * 1024
    assert reopen(processed).quantization == source_quantization(content)


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("RGB", "JPEG"), ("L", "JPEG"), ("CMYK", "JPEG"), ("RGB", "MPO")],
    ids=["rgb", "grayscale", "cmyk", "mpo"],
)
def test_every_kind_of_jpeg_keeps_its_quantization_tables(mode, fmt):
    if fmt == "MPO":
        frames = [noise_image((256, 256), seed=seed) for seed in (1, 2)]
        content = encode(frames[0], "MPO", quality=30, save_all=True, append_images=frames[1:])
    else:
        content = noisy_jpeg((256, 256), quality=30, mode=mode)
    processed = images.process_image(upload(content, "photo.jpg"))
    stored = reopen(processed)
    assert (processed.format, stored.format, stored.mode) == ("JPEG", "JPEG", mode)
    assert stored.quantization == source_quantization(content)
    assert processed.size <= len(content) * images.GROWTH_ALLOWANCE


def test_kept_quality_carries_no_metadata():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    content = noisy_jpeg(
        (300, 200),
        quality=30,
        exif=exif.tobytes(),
        icc_profile=b"secret icc profile " * 10,
        comment=b"secret comment",
        xmp=b"<x:xmpmeta>secret xmp</x:xmpmeta>",
    )
    assert b"secret icc" in content and b"secret xmp" in content  # the fixture is real
    processed = images.process_image(upload(content, "photo.jpg"))
    stored = reopen(processed)
    assert stored.size == (200, 300)  # orientation applied, then dropped
    assert stored.quantization == source_quantization(content)
    assert not stored.getexif()
    assert set(stored.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi"}
    for secret in (b"Exif", b"SecretCam", b"secret icc", b"secret comment", b"secret xmp"):
        assert secret not in processed.content
    assert processed.size <= len(content)


def test_lossy_webp_over_the_limit_once_re_encoded_is_re_encoded_smaller(settings):
    content = encode(noise_image((256, 256)), "WEBP", quality=30)
    limit = int(len(content) * 1.1)
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": limit}
    at_first_quality = encode(Image.open(io.BytesIO(content)), "WEBP", quality=80)
    assert len(at_first_quality) > limit  # the fixture needs the second try
    processed = images.process_image(upload(content, "pic.webp"))
    assert processed.format == "WEBP"
    assert not webp_is_lossless(processed.content)
    assert processed.size <= limit


@pytest.mark.parametrize(
    "content",
    [
        png_of_shapes(),  # lossless: written once, at zlib's default level (~10% larger)
        encode(noise_image((256, 256)), "WEBP", quality=30),  # ~4% larger even at quality 50
    ],
    ids=["png", "webp"],
)
def test_image_over_the_limit_once_re_encoded_is_refused(settings, content):
    limit = len(content)
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_BYTES": limit}
    message = refusal(content)
    found = re.fullmatch(
        r"The image is too large once re-encoded without metadata \((\d+) bytes\): "
        rf"the limit is {limit} bytes \({limit / 1024:.1f} KiB\)\.",
        message,
    )
    assert found, message
    assert int(found.group(1)) > limit


def test_lossless_webp_stays_lossless():
    content = encode(noise_image((64, 64)), "WEBP", lossless=True)
    processed = images.process_image(upload(content, "logo.webp"))
    assert webp_is_lossless(processed.content)
    assert reopen(processed).tobytes() == noise_image((64, 64)).tobytes()
    assert processed.size <= len(content) * images.GROWTH_ALLOWANCE


def test_animated_lossless_webp_stays_lossless():
    lossless = animated("WEBP", 3, lossless=True)
    assert webp_is_lossless(images.process_image(upload(lossless, "anim.webp")).content)
    lossy = animated("WEBP", 3, lossless=False)
    assert not webp_is_lossless(images.process_image(upload(lossy, "anim.webp")).content)


@pytest.fixture
def decoded(monkeypatch):
    """The formats whose ``load()`` was called: the spy of 'refused before decoding'."""
    calls: list[str] = []
    for plugin in (WebPImagePlugin.WebPImageFile, JpegImagePlugin.JpegImageFile):
        original = plugin.load

        def load(self, original=original):
            calls.append(self.format)
            return original(self)

        monkeypatch.setattr(plugin, "load", load)
    return calls


def test_webp_over_its_pixel_budget_is_refused_before_decoding(decoded):
    # 704 bytes, 4096x4096 pixels: 1 s of CPU to decode and re-encode.
    content = encode(Image.new("RGB", (4096, 4096), (0, 200, 0)), "WEBP", lossless=True)
    assert len(content) < 1000
    assert refusal(content, "big.webp") == (
        "The image is 4096x4096 pixels: WEBP images are limited to 1048576 pixels "
        "(1024x1024); send a smaller image, or use another format."
    )
    assert decoded == []


def test_webp_pixel_budget_boundary_and_setting(settings):
    def webp(width, height):
        return encode(Image.new("RGB", (width, height), (0, 200, 0)), "WEBP", lossless=True)

    assert images.process_image(upload(webp(1024, 1024))).width == 1024
    assert refusal(webp(1025, 1024)).startswith("The image is 1025x1024 pixels: WEBP images")
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_WEBP_PIXELS": 150}
    assert images.process_image(upload(webp(15, 10))).width == 15
    assert refusal(webp(16, 10)) == (
        "The image is 16x10 pixels: WEBP images are limited to 150 pixels; "
        "send a smaller image, or use another format."
    )
    # Other formats keep the general limit.
    assert images.process_image(upload(png_bytes((16, 10)))).width == 16


def test_jpeg_with_too_many_scans_is_refused_before_decoding(decoded):
    # At 4096x4096, such a file weighs 130 KB and takes about 18 s of CPU to decode.
    content = progressive_jpeg_with_scans(1010)
    assert refusal(content, "scans.jpg") == (
        "The JPEG has 1010 scans: the limit is 100 (a progressive JPEG usually has about 10); "
        "save it again with ordinary settings."
    )
    assert decoded == []


def test_jpeg_scan_limit_boundary_and_setting(settings):
    assert images.process_image(upload(progressive_jpeg_with_scans(100))).format == "JPEG"
    assert refusal(progressive_jpeg_with_scans(101)).startswith("The JPEG has 101 scans")
    settings.IBL_DATA_MANAGER = {"IMAGE_MAX_JPEG_SCANS": 10}
    progressive = progressive_jpeg_with_scans(10)
    assert images.process_image(upload(progressive)).format == "JPEG"
    assert refusal(progressive_jpeg_with_scans(11)).startswith("The JPEG has 11 scans")
    assert images.process_image(upload(jpeg_bytes())).format == "JPEG"  # baseline: 1 scan


@pytest.mark.parametrize(
    ("fmt", "plugin"),
    [("GIF", GifImagePlugin.GifImageFile), ("WEBP", WebPImagePlugin.WebPImageFile)],
)
def test_only_the_first_frame_of_an_animation_is_decoded(monkeypatch, fmt, plugin):
    content = animated(fmt, 300, **({"lossless": True} if fmt == "WEBP" else {}))
    assert Image.open(io.BytesIO(content)).n_frames == 300  # the fixture is real
    frames: list[int] = []
    original = plugin.seek

    def seek(self, frame):
        frames.append(frame)
        return original(self, frame)

    monkeypatch.setattr(plugin, "seek", seek)
    processed = images.process_image(upload(content, "anim." + fmt.lower()))
    assert set(frames) <= {0}
    stored = reopen(processed)
    assert (stored.format, getattr(stored, "n_frames", 1)) == (fmt, 1)
    assert stored.convert("RGB").getpixel((0, 0)) == (0, 100, 200)


# The admin uses the same pipeline ---------------------------------------------------


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["dm_admin"])
    return client


def test_admin_upload_goes_through_the_pipeline(admin_client, world, media_root):
    response = admin_client.post(
        reverse("admin:ibl_credentials_uploadedimage_add"),
        {
            "platform": world.p1.pk,
            "uploaded_by": world.users["learner_p1"].pk,
            "name": "",
            "upload": upload(jpeg_with_gps(), "Team Photo.jpg", "image/jpeg"),
        },
    )
    assert response.status_code == 302, response.content
    image = UploadedImage.objects.get()
    assert (image.name, image.format, image.platform) == ("Team Photo", "JPEG", world.p1)
    assert re.fullmatch(r"uploaded_images/p1/[0-9a-f]{32}\.jpg", image.file.name)
    assert stored_files(media_root) == [media_root / image.file.name]
    content = (media_root / image.file.name).read_bytes()
    assert b"Exif" not in content and b"SecretCam" not in content


def test_admin_refuses_what_the_api_refuses(admin_client, world, media_root):
    response = admin_client.post(
        reverse("admin:ibl_credentials_uploadedimage_add"),
        {"platform": world.p1.pk, "name": "x", "upload": upload(SVG, "x.svg", "image/svg+xml")},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"upload": [NOT_AN_IMAGE]}
    assert stored_files(media_root) == []
    assert not UploadedImage.objects.exists()


def test_admin_change_page_of_an_uploaded_image(admin_client, world):
    image = UploadedImageFactory(platform=world.p1, uploaded_by=world.users["learner_p1"])
    url = reverse("admin:ibl_credentials_uploadedimage_change", args=[image.pk])
    assert admin_client.get(url).status_code == 200
