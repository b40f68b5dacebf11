"""Part ``uploads``: a 1 MB JPEG and a 200 kB PNG of random noise."""

from __future__ import annotations

import io
import math
import os
import uuid
from typing import Any

from bench.client import Client, only_status
from bench.harness import Plan, Report, ms

IMAGES = "/api/credentials/orgs/{org}/users/{user_id}/images/"


def noise_image(image_format: str, target_bytes: int) -> bytes:
    """A random-noise RGB image (it barely compresses) of about ``target_bytes``."""
    from PIL import Image

    side = 256
    encoded = b""
    for _ in range(6):
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buffer = io.BytesIO()
        image.save(
            buffer, format=image_format, **({"quality": 90} if image_format == "JPEG" else {})
        )
        encoded = buffer.getvalue()
        if abs(len(encoded) - target_bytes) < target_bytes * 0.03:
            break
        side = max(16, round(side * math.sqrt(target_bytes / len(encoded))))
    return encoded


def multipart(
    field_name: str, filename: str, content_type: str, payload: bytes
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return head + payload + f"\r\n--{boundary}--\r\n".encode(), boundary


def bench_uploads(report: Report, client: Client, bench: Any, plan: Plan) -> None:
    report.start(f"5. Uploads: POST .../images/ (multipart), {plan.uploads} each, one client")
    path = IMAGES.format(org=bench.key, user_id=bench.admin_id)
    for label, image_format, size, content_type in (
        ("1 MB JPEG", "JPEG", 1_000_000, "image/jpeg"),
        ("200 kB PNG", "PNG", 200_000, "image/png"),
    ):
        payload = noise_image(image_format, size)
        body, boundary = multipart("image", f"bench.{image_format.lower()}", content_type, payload)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        probe = client.request("POST", path, body=body, headers=headers)
        if probe.status != 201:
            report.add(
                f"{label}: not available (HTTP {probe.status})",
                "n/a",
                detail=probe.body[:200].decode(errors="replace"),
            )
            continue
        run = client.run(
            lambda _, body=body, headers=headers: client.request(
                "POST", path, body=body, headers=headers
            ),
            count=plan.uploads,
        )
        only_status(run, [201])
        report.add(
            f"{label} ({len(payload) / 1000:,.0f} kB) p50 (p95 {ms(run.percentile(0.95)):.1f})",
            ms(run.percentile(0.5)),
            "ms",
            key=f"uploads.{image_format.lower()}",
            bytes=len(payload),
            p95_ms=ms(run.percentile(0.95)),
            table=f"upload p50, {label} (random noise)",
            level=2,
            cell=f"{ms(run.percentile(0.5)):.0f} ms",
        )
