"""Badge images: the generated default, and images baked with their assertion.

Baking is done by ``openbadges-bakery``: a PNG gets an ``iTXt`` chunk with keyword
``openbadges`` holding the hosted assertion JSON; an SVG gets an
``<openbadges:assertion verify="{assertion URL}">`` element holding it. The image baked
is the credential's own when it is a file in our media storage, else the generated
default (an http(s) image elsewhere is never downloaded).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any
from xml.sax.saxutils import escape

from django.core.files.storage import default_storage
from openbadges_bakery import bake
from PIL import Image, ImageDraw

from ibl_credentials.models import Credential

from . import links, ob2

SIZE = 256


def _colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return (40 + digest[0] % 140, 40 + digest[1] % 140, 40 + digest[2] % 140)


def initials(name: str) -> str:
    words = [word for word in name.split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "B"


def default_badge_png(credential: Credential) -> bytes:
    """A round badge in a colour of the credential's id (deterministic, no text)."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = _colour(credential.entity_id)
    draw.ellipse(
        (8, 8, SIZE - 8, SIZE - 8), fill=(*colour, 255), outline=(255, 255, 255, 255), width=10
    )
    draw.ellipse((64, 64, SIZE - 64, SIZE - 64), outline=(255, 255, 255, 200), width=8)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def badge_png(credential: Credential) -> bytes:
    """The credential's stored image as PNG, else :func:`default_badge_png`."""
    path = ob2.stored_image_path(credential.icon_image, links.base_url())
    if credential.icon_image and path is not None:
        try:
            with default_storage.open(path, "rb") as stored, Image.open(stored) as image:
                out = io.BytesIO()
                image.convert("RGBA").save(out, format="PNG")
                return out.getvalue()
        except (OSError, ValueError, Image.DecompressionBombError):
            pass
    return default_badge_png(credential)


def badge_svg(credential: Credential) -> bytes:
    """An SVG badge: the PNG badge embedded, with the credential's name as its title."""
    png = base64.b64encode(badge_png(credential)).decode()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">'
        f"<title>{escape(credential.name)}</title>"
        f'<image width="{SIZE}" height="{SIZE}" xlink:href="data:image/png;base64,{png}"/>'
        "</svg>"
    ).encode()


def baked(credential: Credential, assertion_document: dict[str, Any], fmt: str) -> bytes:
    """The credential's image (``png`` or ``svg``) carrying the hosted assertion."""
    text = json.dumps(assertion_document, separators=(",", ":"), ensure_ascii=False)
    source = badge_png(credential) if fmt == "png" else badge_svg(credential)
    with bake(io.BytesIO(source), text, io.BytesIO()) as result:
        result.seek(0)
        return result.read()
