"""Images in the export document: a URL and a content hash, optionally the bytes.

Out: an image reference of a credential or an issuer becomes ``{"url", "sha256"}``;
``url`` is absolute, ``sha256`` the hex digest of the stored file (null for an external
URL: this server never downloads it). With ``images=inline`` the object also carries
the file as a ``data:`` URL, so that another server can store its own copy.

In: this server never fetches a URL from another host. An image becomes:

* the ``data`` URL's bytes, checked against ``sha256``, then stored as an upload of the
  target platform through the upload pipeline (decoded, re-encoded, metadata removed);
* a file of this server's media storage (its URL): used as it is when it belongs to the
  target platform, else copied into the target platform's uploads as above;
* any other URL: kept as an external reference (hotlinked), its hash unchecked.

A copy is made once: when the credential already shows an image of the target platform
with the bytes the copy would have, that image is kept (importing twice stores nothing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from rest_framework import serializers

from ibl_core.models import Platform
from ibl_credentials.images import pipeline
from ibl_credentials.images.services import store_uploaded_image
from ibl_credentials.models import UploadedImage
from ibl_credentials.validators import media_storage_path, upload_folder, validate_image_reference

SHA256 = re.compile(r"[0-9a-f]{64}")
DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?;base64,(?P<data>[A-Za-z0-9+/=\s]*)")
IMAGE_OBJECT = (
    'Expected null or {"url": <http(s) URL>, "sha256": <hex or null>, "data": <data URL>}.'
)


def _storage() -> Any:
    return UploadedImage._meta.get_field("file").storage


def _read(path: str) -> bytes | None:
    """The bytes of a file of the media storage; None for a name that is not one."""
    try:
        validate_image_reference(path)  # no "..", no odd characters
    except DjangoValidationError:
        return None
    storage = _storage()
    try:
        if not storage.exists(path):
            return None
        with storage.open(path, "rb") as file:
            return bytes(file.read())
    except (OSError, ValueError, SuspiciousOperation):  # a name the storage refuses
        return None


def image_object(
    reference: str, *, absolute: Callable[[str], str], site_media_url: str, inline: bool
) -> dict[str, Any] | None:
    """The document's image object for a stored reference ("" -> None)."""
    if not reference:
        return None
    path = media_storage_path(reference, site_media_url)
    if path is None:
        return {"url": reference, "sha256": None}
    url = absolute(_storage().url(path))
    content = _read(path)
    if content is None:
        return {"url": url, "sha256": None}
    answer: dict[str, Any] = {"url": url, "sha256": hashlib.sha256(content).hexdigest()}
    if inline:
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        answer["data"] = f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"
    return answer


class ImageImporter:
    """Turns the document's image objects into references of one target platform.

    It remembers the files it stored, so that the caller deletes them when the
    credential they were stored for is rolled back (:meth:`discard`).
    """

    def __init__(self, *, platform: Platform, uploaded_by: Any, site_media_url: str) -> None:
        self.platform = platform
        self.uploaded_by = uploaded_by
        self.site_media_url = site_media_url
        self.stored: list[str] = []

    def discard(self) -> None:
        storage = _storage()
        for name in self.stored:
            storage.delete(name)
        self.stored.clear()

    def reference(self, value: Any, *, current: str, name: str) -> str:
        """The reference to store for image object ``value``; ``current`` is what the
        credential (or issuer) shows now, ``name`` the name of a new upload."""
        if value is None:
            return ""
        if not isinstance(value, dict) or not set(value) <= {"url", "sha256", "data"}:
            raise serializers.ValidationError(IMAGE_OBJECT)
        url, digest, data = value.get("url"), value.get("sha256"), value.get("data")
        if digest is not None and not (isinstance(digest, str) and SHA256.fullmatch(digest)):
            raise serializers.ValidationError("sha256 must be 64 lower-case hex digits or null.")
        if data is not None:
            return self._copy(self._decode(data), digest, current=current, name=name)
        if not isinstance(url, str) or not url:
            raise serializers.ValidationError(IMAGE_OBJECT)
        if not url.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("url must be an absolute http or https URL.")
        path = media_storage_path(url, self.site_media_url)
        if path is None:
            return url  # another host's image: referenced, never fetched
        content = _read(path)
        if content is None:
            raise serializers.ValidationError(f"No image at {url} on this server.")
        if path.startswith(upload_folder(self.platform.key)):
            self._check(content, digest)
            if current and media_storage_path(current, self.site_media_url) == path:
                return current  # the same file, however the credential names it
            return path
        return self._copy(content, digest, current=current, name=name)

    @staticmethod
    def _decode(data: Any) -> bytes:
        match = DATA_URL.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            raise serializers.ValidationError(
                "data must be a base64 data URL (data:image/png;base64,...)."
            )
        try:
            return base64.b64decode(re.sub(r"\s", "", match["data"]), validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("data is not valid base64.") from None

    @staticmethod
    def _check(content: bytes, digest: str | None) -> None:
        if digest is not None and hashlib.sha256(content).hexdigest() != digest:
            raise serializers.ValidationError(
                "The image's content does not match its sha256: the document or the file "
                "changed since the export."
            )

    def _copy(self, content: bytes, digest: str | None, *, current: str, name: str) -> str:
        self._check(content, digest)
        try:
            processed = pipeline.process_image(ContentFile(content))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        current_path = media_storage_path(current, self.site_media_url) if current else None
        if (
            current_path
            and current_path.startswith(upload_folder(self.platform.key))
            and _read(current_path) == processed.content
        ):
            return current  # the copy made by an earlier import
        image = UploadedImage(platform=self.platform, uploaded_by=self.uploaded_by, name=name[:254])
        store_uploaded_image(image, processed)
        self.stored.append(str(image.file.name))
        return str(image.file.name)
