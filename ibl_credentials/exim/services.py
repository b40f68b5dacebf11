"""The export document of a course's credentials, and its import, credential by credential.

Writes go through the credentials services (``create_credential``,
``update_credential``, ``create_issuer``): an imported credential is created or changed
exactly as through the API, with the same checks and the same events. Each credential
is imported in its own transaction: one that fails leaves nothing behind (not its
issuer, not its image copies) and does not stop the others.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request

from ibl_core.models import Platform
from ibl_credentials.credentials.serializers import (
    CredentialUpdateSerializer,
    CredentialWriteSerializer,
)
from ibl_credentials.credentials.services import create_credential, update_credential
from ibl_credentials.credentials.shapes import expires_object, timestamp
from ibl_credentials.exim import contributors, selectors
from ibl_credentials.exim.images import ImageImporter, image_object
from ibl_credentials.issuers.serializers import IssuerCreateSerializer
from ibl_credentials.issuers.services import create_issuer
from ibl_credentials.models import Credential, Issuer, ItemKind
from ibl_credentials.validators import validate_entity_id

FORMAT = "ibl-credentials-export"
VERSION = 1
IMAGE_FIELDS = {
    "iconImage": "icon_image",
    "backgroundImage": "background_image",
    "thumbnailImage": "thumbnail_image",
}
#: Fields of an exported credential copied into the credential API's body as they are.
PLAIN_FIELDS = (
    "name",
    "description",
    "credentialType",
    "criteriaUrl",
    "criteriaNarrative",
    "signal",
    "html_template",
    "css_template",
    "tags",
    "expires",
    "public",
    "programs",
    "pathways",
)
ALIGNMENT_KEY = "alignment"  # where the credential keeps its alignments (Open Badges)


# Export ------------------------------------------------------------------------------


def export_course(
    course_key: str,
    *,
    platform: Platform | None,
    absolute: Callable[[str], str],
    site_media_url: str,
    inline_images: bool,
) -> dict[str, Any]:
    """The export document of the credentials linked to ``course_key``.

    No assertions, no keys, no secrets: a credential's definition, its issuer's public
    fields, its images (URL and content hash) and its links.
    """
    credentials = list(selectors.credentials_of_course(course_key, platform))
    sections = contributors.export_sections(credentials)

    def image(reference: str) -> dict[str, Any] | None:
        return image_object(
            reference, absolute=absolute, site_media_url=site_media_url, inline=inline_images
        )

    entries = []
    for credential in credentials:
        keys: dict[str, list[str]] = {kind: [] for kind in ItemKind.values}
        for item in credential.items.all():
            keys[item.kind].append(item.key)
        metadata = dict(credential.metadata or {})
        alignments = metadata.pop(ALIGNMENT_KEY, [])
        issuer = credential.issuer
        entries.append(
            {
                "entityId": credential.entity_id,
                "platform": credential.platform.key,
                "name": credential.name,
                "description": credential.description,
                "credentialType": credential.credential_type,
                "criteriaUrl": credential.criteria_url,
                "criteriaNarrative": credential.criteria_narrative,
                "signal": credential.signal,
                "html_template": credential.html_template,
                "css_template": credential.css_template,
                "tags": list(credential.tags or []),
                "metadata": metadata,
                "alignments": alignments if isinstance(alignments, list) else [],
                "expires": expires_object(credential),
                "public": credential.public,
                **{name: image(getattr(credential, f)) for name, f in IMAGE_FIELDS.items()},
                "issuer": {
                    "entityId": issuer.entity_id,
                    "name": issuer.name,
                    "url": issuer.url,
                    "email": issuer.email,
                    "iconImage": image(issuer.icon_image),
                    "allowed_template_tags": issuer.allowed_template_tags,
                },
                "courses": keys[ItemKind.COURSE],
                "programs": keys[ItemKind.PROGRAM],
                "pathways": keys[ItemKind.PATHWAY],
                **sections[credential.pk],
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "course": course_key,
        "exported_at": timestamp(timezone.now()),
        "credentials": entries,
    }


# Import ------------------------------------------------------------------------------

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"
OTHER_PLATFORM_ID = (
    'A credential of another platform has this entityId: send "new_ids": true to import '
    "a copy with a new one."
)
ISSUER_OBJECT = 'Expected {"entityId", "name", "url", "email", "iconImage", ...}.'


@dataclass
class ImportReport:
    """The outcome of an import: one result per credential of the document, in order."""

    course: str
    results: list[dict[str, Any]] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result["status"] == outcome)

    @property
    def status_code(self) -> int:
        """207 when some failed, 201 when every one was created, else 200."""
        if self.count(FAILED):
            return status.HTTP_207_MULTI_STATUS
        if self.results and self.count(CREATED) == len(self.results):
            return status.HTTP_201_CREATED
        return status.HTTP_200_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course,
            **{outcome: self.count(outcome) for outcome in (CREATED, UPDATED, UNCHANGED, FAILED)},
            "results": self.results,
        }


@dataclass
class ImportTarget:
    """Where the document goes: the course replacing the document's, and the platform
    (None: each credential's own platform, by its key on this server)."""

    source_course: str
    course: str
    platform: Platform | None
    new_ids: bool
    #: The platforms named by the document's credentials, looked up once each.
    platforms: dict[str, Platform | None] = field(default_factory=dict)


def derived_entity_id(source: str, platform: Platform, course: str) -> str:
    """The entityId of the copy of ``source`` on ``platform`` for ``course`` (``new_ids``):
    always the same one, so importing the copy again updates it instead of adding one."""
    digest = hashlib.sha256(f"ibl-exim\0{source}\0{platform.key}\0{course}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def import_document(
    entries: list[dict[str, Any]], target: ImportTarget, *, user: Any, request: Request
) -> ImportReport:
    """Import every credential of the document; one result each."""
    report = ImportReport(course=target.course)
    site_media_url = site_media(request)
    for entry in entries:
        report.results.append(
            import_credential(entry, target, user=user, request=request, media=site_media_url)
        )
    return report


def site_media(request: Request) -> str:
    """This server's media URL, absolute, as the request reached it."""
    return str(request.build_absolute_uri(str(settings.MEDIA_URL or "/")))


def _error_body(error: exceptions.APIException) -> Any:
    detail = error.detail
    if isinstance(detail, Mapping):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def import_credential(
    entry: dict[str, Any], target: ImportTarget, *, user: Any, request: Request, media: str
) -> dict[str, Any]:
    """Create, update or leave one credential; its result (errors when it failed)."""
    source_id = entry.get("entityId")
    result: dict[str, Any] = {
        "sourceEntityId": source_id if isinstance(source_id, str) else None,
        "entityId": None,
        "platform": None,
        "status": FAILED,
    }
    importer: ImageImporter | None = None
    try:
        platform = _target_platform(entry, target)
        result["platform"] = platform.key
        importer = ImageImporter(platform=platform, uploaded_by=user, site_media_url=media)
        with transaction.atomic():
            result["status"], credential = _write(
                entry, target, platform, importer, user=user, request=request
            )
        result["entityId"] = credential.entity_id
    except exceptions.APIException as error:
        if importer is not None:
            importer.discard()
        result["status"] = FAILED
        result["errors"] = _error_body(error)
    return result


def _target_platform(entry: dict[str, Any], target: ImportTarget) -> Platform:
    if target.platform is not None:
        return target.platform
    key = entry.get("platform")
    platform = None
    if isinstance(key, str) and key:
        if key not in target.platforms:
            target.platforms[key] = selectors.platform_named(key)
        platform = target.platforms[key]
    if platform is None:
        raise serializers.ValidationError(
            {
                "platform": [
                    f"No platform {key!r} on this server: send target_platform to choose one."
                ]
            }
        )
    return platform


def _target_entity_id(entry: dict[str, Any], target: ImportTarget, platform: Platform) -> str:
    source_id = entry.get("entityId")
    if not isinstance(source_id, str) or not source_id:
        raise serializers.ValidationError({"entityId": ["Each credential needs its entityId."]})
    try:
        validate_entity_id(source_id)
    except DjangoValidationError:
        raise serializers.ValidationError(
            {"entityId": ["Use only letters, digits, '-' and '_' (a URL-safe identifier)."]}
        ) from None
    if target.new_ids:
        return derived_entity_id(source_id, platform, target.course)
    return source_id


def _write(
    entry: dict[str, Any],
    target: ImportTarget,
    platform: Platform,
    importer: ImageImporter,
    *,
    user: Any,
    request: Request,
) -> tuple[str, Credential]:
    entity_id = _target_entity_id(entry, target, platform)
    existing = Credential.objects.filter(entity_id=entity_id).first()
    if existing is not None and existing.platform_id != platform.pk:
        raise serializers.ValidationError({"entityId": [OTHER_PLATFORM_ID]})
    issuer = _issuer(entry.get("issuer"), platform, importer, user=user, request=request)
    payload = _payload(entry, target, importer, existing, issuer)
    context = {"platform": platform, "request": request}
    if existing is None:
        writer = CredentialWriteSerializer(data={**payload, "entityId": entity_id}, context=context)
        writer.is_valid(raise_exception=True)
        credential = create_credential(platform=platform, created_by=user, **writer.validated_data)
        contributors.import_sections(credential, entry, platform)
        return CREATED, credential
    updater = CredentialUpdateSerializer(data=payload, partial=True, context=context)
    updater.is_valid(raise_exception=True)
    changes, items = _differences(existing, dict(updater.validated_data))
    credential = existing
    if changes or items:
        credential = update_credential(existing, items=items, **changes)
    changed = contributors.import_sections(credential, entry, platform)
    return (UPDATED if changes or items or changed else UNCHANGED), credential


def _issuer(
    reference: Any, platform: Platform, importer: ImageImporter, *, user: Any, request: Request
) -> Issuer:
    """The target platform's issuer for the document's issuer reference: the one with
    its entityId, else the oldest one with its name, else a new one made from it."""
    if not isinstance(reference, dict):
        raise serializers.ValidationError({"issuer": [ISSUER_OBJECT]})
    entity_id, name = reference.get("entityId"), reference.get("name")
    if not isinstance(name, str) or not name.strip():
        raise serializers.ValidationError({"issuer": {"name": ["The issuer needs a name."]}})
    issuers = Issuer.objects.filter(platform=platform)
    found = None
    if isinstance(entity_id, str) and entity_id:
        found = issuers.filter(entity_id=entity_id).first()
    if found is None:
        found = issuers.filter(name=name).order_by("created", "id").first()
    if found is not None:
        return found
    try:
        icon = importer.reference(reference.get("iconImage"), current="", name=f"{name} icon")
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"issuer": {"iconImage": error.detail}}) from None
    data = {
        "name": name,
        "url": reference.get("url") or None,
        "email": reference.get("email") or None,
        "iconImage": icon or None,
        "allowed_template_tags": reference.get("allowed_template_tags"),
    }
    if isinstance(entity_id, str) and not Issuer.objects.filter(entity_id=entity_id).exists():
        data["entityId"] = entity_id  # kept when free, so a second import finds it
    writer = IssuerCreateSerializer(data=data, context={"platform": platform, "request": request})
    if not writer.is_valid():
        raise serializers.ValidationError({"issuer": writer.errors})
    return create_issuer(platform=platform, created_by=user, **writer.validated_data)


def _payload(
    entry: dict[str, Any],
    target: ImportTarget,
    importer: ImageImporter,
    existing: Credential | None,
    issuer: Issuer,
) -> dict[str, Any]:
    """The credential API's body for ``entry`` on the target (images resolved)."""
    payload = {name: entry[name] for name in PLAIN_FIELDS if name in entry}
    payload["issuer"] = issuer.entity_id
    courses = entry.get("courses", [])
    if isinstance(courses, list):
        renamed = [target.course if key == target.source_course else key for key in courses]
        courses = list(dict.fromkeys([*renamed, target.course]))
    payload["courses"] = courses
    metadata = entry.get("metadata", {})
    alignments = entry.get("alignments", [])
    if not isinstance(alignments, list):
        raise serializers.ValidationError({"alignments": ["Must be a list."]})
    if isinstance(metadata, dict):
        had_alignments = existing is not None and ALIGNMENT_KEY in (existing.metadata or {})
        if alignments or had_alignments:
            metadata = {**metadata, ALIGNMENT_KEY: alignments}
    payload["metadata"] = metadata
    errors: dict[str, Any] = {}
    name = str(entry["name"]) if isinstance(entry.get("name"), str) else "image"
    for api_name, model_field in IMAGE_FIELDS.items():
        if api_name not in entry:
            continue
        current = getattr(existing, model_field) if existing is not None else ""
        try:
            payload[api_name] = importer.reference(entry[api_name], current=current, name=name)
        except serializers.ValidationError as error:
            errors[api_name] = error.detail
    if errors:
        raise serializers.ValidationError(errors)
    return payload


def _differences(
    credential: Credential, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """What ``values`` (the update serializer's) would change: fields, and item kinds."""
    items = values.pop("items", {})
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "issuer":
            if value.pk != credential.issuer_id:
                changes[name] = value
        elif name == "metadata":
            current = credential.metadata or {}
            if {**current, **value} != current:
                changes[name] = value
        elif getattr(credential, name) != value:
            changes[name] = value
    current_items: dict[str, list[str]] = {kind: [] for kind in ItemKind.values}
    for item in credential.items.order_by("id"):
        current_items[item.kind].append(item.key)
    changed_items = {kind: keys for kind, keys in items.items() if current_items[kind] != keys}
    return changes, changed_items
