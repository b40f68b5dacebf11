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
from PIL import Image, ImageDraw, ImageFont

from ibl_credentials.models import Credential
from ibl_credentials.openbadges import links, ob2

#: The generated default badge's side, in pixels: at least the 400 px that link previews
#: (Open Graph) ask for.
SIZE = 512
#: The name's lines: at most this many, of about this many characters each.
NAME_LINES = 3
NAME_LINE_CHARS = 12
#: Font sizes at ``SIZE``: legible when the badge is shown at 100 px (about 11 px text).
NAME_FONT = 54
INITIALS_FONT = 60
FONT_FAMILY = "Aileron, Helvetica, Arial, sans-serif"


def _colour(seed: str) -> tuple[int, int, int]:
    """A colour of the credential's id: dark enough for white text (contrast >= 4.5)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return (20 + digest[0] % 90, 20 + digest[1] % 90, 20 + digest[2] % 90)


def initials(name: str) -> str:
    words = [word for word in name.split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "B"


def name_lines(name: str) -> list[str]:
    """The credential's name wrapped for the badge: whole words, at most
    ``NAME_LINES`` lines; what does not fit ends in an ellipsis."""
    words = name.split() or ["Badge"]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= NAME_LINE_CHARS or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    lines = [
        line if len(line) <= NAME_LINE_CHARS + 2 else line[:NAME_LINE_CHARS] + "…" for line in lines
    ]
    if len(lines) > NAME_LINES:
        last = lines[NAME_LINES - 1]
        lines = [*lines[: NAME_LINES - 1], (last[: NAME_LINE_CHARS - 1].rstrip() + "…")]
    return lines


def _layout(credential: Credential) -> dict[str, Any]:
    """What both default images draw: colour, issuer initials, the name's lines and
    where each goes (centres, in pixels at ``SIZE``)."""
    lines = name_lines(credential.name)
    line_height = NAME_FONT + 10
    top = SIZE / 2 + 50 - (len(lines) - 1) * line_height / 2
    return {
        "colour": _colour(credential.entity_id),
        "initials": initials(credential.issuer.name),
        "initials_y": 125,
        "lines": [(line, top + n * line_height) for n, line in enumerate(lines)],
    }


def default_badge_png(credential: Credential) -> bytes:
    """The generated badge: a disc in a colour of the credential, the issuer's initials
    and the credential's name (deterministic: the same bytes for the same credential)."""
    layout = _layout(credential)
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (8, 8, SIZE - 8, SIZE - 8),
        fill=(*layout["colour"], 255),
        outline=(255, 255, 255, 255),
        width=14,
    )
    draw.ellipse((40, 40, SIZE - 40, SIZE - 40), outline=(255, 255, 255, 170), width=4)
    initials_font = ImageFont.load_default(size=INITIALS_FONT)
    name_font = ImageFont.load_default(size=NAME_FONT)
    draw.text(
        (SIZE / 2, layout["initials_y"]), layout["initials"], font=initials_font,
        fill=(255, 255, 255, 230), anchor="mm",
    )  # fmt: skip
    draw.line((SIZE / 2 - 60, 178, SIZE / 2 + 60, 178), fill=(255, 255, 255, 170), width=4)
    for line, y in layout["lines"]:
        draw.text((SIZE / 2, y), line, font=name_font, fill=(255, 255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def default_badge_svg(credential: Credential) -> bytes:
    """The same badge as :func:`default_badge_png`, as vector SVG text (a system
    sans-serif font: nothing is fetched)."""
    layout = _layout(credential)
    red, green, blue = layout["colour"]
    half = SIZE // 2
    text = "".join(
        f'<text x="{half}" y="{y:.0f}" font-size="{NAME_FONT}" dominant-baseline="central">'
        f"{escape(line)}</text>"
        for line, y in layout["lines"]
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img">'
        f"<title>{escape(credential.name)}</title>"
        f'<circle cx="{half}" cy="{half}" r="{half - 15}" fill="rgb({red},{green},{blue})" '
        f'stroke="#fff" stroke-width="14"/>'
        f'<circle cx="{half}" cy="{half}" r="{half - 42}" fill="none" stroke="#fff" '
        f'stroke-opacity="0.67" stroke-width="4"/>'
        f'<g fill="#fff" font-family="{FONT_FAMILY}" text-anchor="middle">'
        f'<text x="{half}" y="{layout["initials_y"]}" font-size="{INITIALS_FONT}" '
        f'dominant-baseline="central" fill-opacity="0.9">{escape(layout["initials"])}</text>'
        f'<line x1="{half - 60}" y1="178" x2="{half + 60}" y2="178" stroke="#fff" '
        f'stroke-opacity="0.67" stroke-width="4"/>'
        f"{text}</g></svg>"
    ).encode()


def _stored_png(credential: Credential) -> bytes | None:
    """The credential's own image (a file in our media storage) as PNG, else None."""
    path = ob2.stored_image_path(credential.icon_image, links.base_url())
    if credential.icon_image and path is not None:
        try:
            with default_storage.open(path, "rb") as stored, Image.open(stored) as image:
                out = io.BytesIO()
                image.convert("RGBA").save(out, format="PNG")
                return out.getvalue()
        except (OSError, ValueError, Image.DecompressionBombError):
            pass
    return None


def badge_png(credential: Credential) -> bytes:
    """The credential's stored image as PNG, else :func:`default_badge_png`."""
    stored = _stored_png(credential)
    return stored if stored is not None else default_badge_png(credential)


def badge_svg(credential: Credential) -> bytes:
    """An SVG badge: the default badge in vector form, or the credential's own image
    embedded as PNG, with the credential's name as its title."""
    stored = _stored_png(credential)
    if stored is None:
        return default_badge_svg(credential)
    png = base64.b64encode(stored).decode()
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
