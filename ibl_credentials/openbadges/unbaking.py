"""Reading the credential baked into a badge image someone uploads, safely.

A PNG is walked chunk by chunk for its ``openbadges`` ``iTXt`` (or ``tEXt``) chunk, as
the Open Badges baking specification places it; its pixels are never decoded, so a
decompression bomb costs nothing, and a compressed chunk is inflated within a bound.
An SVG is parsed by ``defusedxml`` with DTDs and entities refused (no external entity,
no entity expansion). ``openbadges-bakery``'s own ``unbake`` is not used here: it reads
every PNG chunk with ``pypng`` and returns an SVG's ``verify`` URL before its content.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

from ibl_core.conf import ibl_settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OPENBADGES_NAMESPACE = "http://openbadges.org"
#: What a compressed ``openbadges`` chunk may inflate to.
BAKED_TEXT_MAX_BYTES = 1024 * 1024


class NotABakedBadge(ValueError):
    """The file is not an image carrying a credential; the message says why."""


def unbake(file: Any) -> str:
    """The credential a baked PNG or SVG carries (JSON text, a JWT or a URL).

    Read within ``IMAGE_MAX_BYTES``; pixels are never decoded (a decompression bomb
    costs nothing) and an SVG is parsed without DTDs or entities.
    """
    limit = int(ibl_settings.IMAGE_MAX_BYTES)
    declared = getattr(file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise NotABakedBadge(f"The file is over {limit} bytes.")
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limit:
        raise NotABakedBadge(f"The file is over {limit} bytes.")
    if data.startswith(PNG_SIGNATURE):
        text = _png_text(data)
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        text = _svg_text(data)
    else:
        raise NotABakedBadge(
            "The file is neither a PNG nor an SVG image: send a badge image baked with its "
            "credential."
        )
    if not text or not text.strip():
        raise NotABakedBadge(
            "The image carries no Open Badges credential (no openbadges PNG chunk or SVG "
            "openbadges:assertion element)."
        )
    return text


def _png_text(data: bytes) -> str | None:
    """The text of the first ``openbadges`` ``iTXt`` (else ``tEXt``) chunk."""
    position, found = len(PNG_SIGNATURE), None
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        crc = data[position + 8 + length : position + 12 + length]
        if len(body) != length or len(crc) != 4:
            raise NotABakedBadge("The PNG is truncated.")
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            raise NotABakedBadge("The PNG is corrupt (a chunk's CRC does not match).")
        if kind == b"iTXt" and body.startswith(b"openbadges\x00"):
            return _itxt(body)
        if kind == b"tEXt" and body.startswith(b"openbadges\x00") and found is None:
            found = body.split(b"\x00", 1)[1].decode("latin-1")
        if kind == b"IEND":
            break
        position += 12 + length
    return found


def _itxt(body: bytes) -> str:
    """An iTXt chunk's text: keyword, compression flag and method, language, translated
    keyword, text (inflated within :data:`BAKED_TEXT_MAX_BYTES` when compressed)."""
    try:
        rest = body.split(b"\x00", 1)[1]
        compressed, rest = rest[0], rest[2:]
        text = rest.split(b"\x00", 2)[2]
        if compressed:
            inflater = zlib.decompressobj()
            text = inflater.decompress(text, BAKED_TEXT_MAX_BYTES)
            if inflater.unconsumed_tail:
                raise NotABakedBadge("The baked credential inflates beyond 1 MiB.")
        return text.decode("utf-8")
    except (IndexError, zlib.error, UnicodeDecodeError):
        raise NotABakedBadge("The PNG's openbadges chunk is malformed.") from None


def _svg_text(data: bytes) -> str | None:
    """The ``openbadges:assertion`` element's content, else its ``verify`` URL."""
    try:
        root = parse_xml(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise NotABakedBadge(
            "The SVG is not well-formed XML, or declares a DTD or entities (refused)."
        ) from None
    for element in root.iter(f"{{{OPENBADGES_NAMESPACE}}}assertion"):
        content = (element.text or "").strip()
        return content or element.get("verify")
    return None
