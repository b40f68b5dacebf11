"""Factories and crafted files for the credentials tests (no binary fixtures)."""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import zlib
from pathlib import Path

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, PngImagePlugin

from ibl_credentials.models import (
    Assertion,
    Credential,
    CredentialItem,
    Issuer,
    Signatory,
    UploadedImage,
)
from tests.support.factories import PlatformFactory, UserFactory

GPS_IFD = 0x8825


class IssuerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issuer

    platform = factory.SubFactory(PlatformFactory)
    name = factory.Sequence(lambda n: f"Issuer {n:03d}")
    entity_id = factory.Sequence(lambda n: f"issuer-{n}")


class SignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signatory

    issuer = factory.SubFactory(IssuerFactory)
    name = factory.Sequence(lambda n: f"Signer {n}")
    title = "Dean"


class CredentialFactory(factory.django.DjangoModelFactory):
    """A public badge class of its issuer's platform."""

    class Meta:
        model = Credential

    issuer = factory.SubFactory(IssuerFactory)
    platform = factory.SelfAttribute("issuer.platform")
    name = factory.Sequence(lambda n: f"Credential {n:03d}")
    entity_id = factory.Sequence(lambda n: f"credential-{n}")


class CredentialItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CredentialItem

    credential = factory.SubFactory(CredentialFactory)
    kind = "course"
    key = factory.Sequence(lambda n: f"course-v1:test+c{n}+2026")


class AssertionFactory(factory.django.DjangoModelFactory):
    """An active assertion (not revoked, not expiring) of a credential, for no item."""

    class Meta:
        model = Assertion

    credential = factory.SubFactory(CredentialFactory)
    platform = factory.SelfAttribute("credential.platform")
    recipient = factory.SubFactory(UserFactory)
    entity_id = factory.Sequence(lambda n: f"assertion-{n}")
    issued_on = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))


class UploadedImageFactory(factory.django.DjangoModelFactory):
    """A row only: its file name points at nothing (enough for search tests)."""

    class Meta:
        model = UploadedImage

    platform = factory.SubFactory(PlatformFactory)
    uploaded_by = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Image {n}")
    file = factory.Sequence(lambda n: f"uploaded_images/test/{n:032x}.png")
    width = 8
    height = 8
    format = "PNG"
    size = 100


# Crafted files ----------------------------------------------------------------------


def noise_image(size: tuple[int, int] = (64, 64), mode: str = "RGB", seed: int = 1) -> Image.Image:
    """An image of random pixels: it compresses badly, so cutting the file cuts pixel data."""
    rng = random.Random(seed)
    return Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (16, 16), **params) -> bytes:
    return encode(Image.new("RGB", size, (200, 30, 30)), "PNG", **params)


def png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return png_bytes(pnginfo=info)


def png_of_size(size: int) -> bytes:
    """A valid PNG of exactly ``size`` bytes (padded with a text chunk)."""
    bare = len(png_with_text(""))
    data = png_with_text("x" * (size - bare))
    assert len(data) == size
    return data


def jpeg_bytes(size: tuple[int, int] = (32, 32), **params) -> bytes:
    return encode(Image.new("RGB", size, (10, 120, 200)), "JPEG", **params)


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF holds a camera make and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    data = jpeg_bytes(exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture is real
    return data


def gif_bytes() -> bytes:
    image = Image.new("P", (12, 12), 1)
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    image.putpixel((0, 0), 0)  # the transparent index is used, so the encoder keeps it
    return encode(image, "GIF", transparency=0, comment=b"gif comment")


def webp_bytes() -> bytes:
    return encode(Image.new("RGB", (20, 10), (0, 200, 0)), "WEBP")


def noisy_jpeg(size: tuple[int, int], quality: int, mode: str = "RGB", **params) -> bytes:
    """Random pixels at a low quality: re-encoding at a fixed high quality inflates it."""
    return encode(noise_image(size, mode), "JPEG", quality=quality, **params)


def progressive_jpeg_with_scans(scans: int, size: tuple[int, int] = (64, 64)) -> bytes:
    """A valid progressive JPEG whose last scan is repeated until it has ``scans`` scans.

    Each scan is a pass over the whole image: thousands of them in a small file cost
    minutes of CPU to decode a large image.
    """
    data = encode(Image.new("RGB", size, (10, 120, 200)), "JPEG", progressive=True)
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    extra = scans - data.count(b"\xff\xda")
    assert extra >= 0
    return data[:end] + data[last_scan:end] * extra + data[end:]


def png_of_shapes(size: int = 256, seed: int = 3) -> bytes:
    """Drawn shapes at zlib's strongest level: Pillow's default level writes ~10% more."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for _ in range(size):
        x, y = rng.randrange(size), rng.randrange(size)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(60), y + rng.randrange(60)), fill=color)
    return encode(image, "PNG", compress_level=9)


def animated(fmt: str, frames: int, size: tuple[int, int] = (64, 64), **params) -> bytes:
    """A GIF or WEBP animation of ``frames`` frames, each of another color than the last."""
    images = [Image.new("RGB", size, (n % 256, 100, 200)) for n in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=40, **params)


def webp_is_lossless(data: bytes) -> bool:
    """Whether a simple-format WEBP holds a lossless (VP8L) bitstream."""
    return data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8L"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + _chunk(b"IEND", b"")
    )


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
TEXT = b"just some text, not an image\n"


def upload(content: bytes, name: str = "picture.png", content_type: str = "image/png"):
    """A file part as the test client sends it."""
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(media_root: Path) -> list[Path]:
    """Every file under the per-test media folder."""
    return sorted(path for path in Path(media_root).rglob("*") if path.is_file())
