"""CPU time and stored size of the image pipeline on crafted worst cases (not a test).

    python -m bench.image_cost

Each file is built with Pillow here, then goes through ``process_image`` as an upload
would; the CPU time of this process is measured around that call. The numbers depend
on the machine and its load: docs/credentials.md records one run, before and after the
limits on re-encoding were added.
"""

from __future__ import annotations

import io
import os
import random
import resource
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.core.exceptions import ValidationError  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from ibl_credentials.images import pipeline as images  # noqa: E402


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _noise(size: int, mode: str = "RGB", mask: int = 0xFF) -> Image.Image:
    data = random.Random(7).randbytes(size * size * len(mode))
    if mask != 0xFF:
        data = bytes(byte & mask for byte in data)
    return Image.frombytes(mode, (size, size), data)


def _many_scans() -> bytes:
    """A 4096x4096 progressive JPEG whose last scan is repeated 1000 times."""
    data = _encode(Image.new("RGB", (4096, 4096), (10, 120, 200)), "JPEG", progressive=True)
    last_scan, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * 1000 + data[end:]


def _animation(frames: int) -> bytes:
    images_ = [Image.new("P", (512, 512), n % 256) for n in range(frames)]
    return _encode(images_[0], "GIF", save_all=True, append_images=images_[1:])


CASES: dict[str, Callable[[], bytes]] = {
    "WEBP 4096x4096 one color, lossless": lambda: _encode(
        Image.new("RGB", (4096, 4096), (0, 200, 0)), "WEBP", lossless=True
    ),
    "JPEG 4096x4096 noise, quality 30": lambda: _encode(_noise(4096), "JPEG", quality=30),
    "JPEG 2000x2000 noise, quality 30": lambda: _encode(_noise(2000), "JPEG", quality=30),
    "JPEG 4096x4096 progressive, 1010 scans": _many_scans,
    "PNG 4096x4096 one color": lambda: _encode(Image.new("RGB", (4096, 4096)), "PNG"),
    "GIF 512x512, 300 frames": lambda: _animation(300),
    "WEBP 1024x1024 noise, quality 30": lambda: _encode(_noise(1024), "WEBP", quality=30),
    "WEBP 1024x1024 4-level noise, lossless": lambda: _encode(
        _noise(1024, mask=0xC0), "WEBP", lossless=True
    ),
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    for name, build in CASES.items():
        data = build()
        started = _cpu_seconds()
        try:
            processed = images.process_image(SimpleUploadedFile("upload", data))
            outcome = f"stored {processed.size} bytes ({processed.size / len(data):.2f}x)"
        except ValidationError as refused:
            outcome = f"400: {refused.messages[0]}"
        spent = _cpu_seconds() - started
        print(f"{name:40} {len(data):>9} bytes  {spent:6.3f} s CPU  {outcome}")


if __name__ == "__main__":
    main()
