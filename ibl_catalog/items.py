"""Courses, programs and pathways by key, for other apps (see ``ibl_core.catalog_items``)."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Model

from ibl_catalog.models import Course, Pathway, Program
from ibl_core.models import Platform
from ibl_core.sql import in_list

#: kind -> (model, key field). Disabled items keep their key: a credential earned for a
#: course stays valid when the course is switched off.
_ITEMS: dict[str, tuple[type[Model], str]] = {
    "course": (Course, "course_id"),
    "program": (Program, "program_key"),
    "pathway": (Pathway, "pathway_id"),
}


def names_by_key(platform: Platform, kind: str, keys: Collection[str]) -> dict[str, str]:
    """``{key: name}`` of the platform's items of ``kind`` among ``keys``, in one query."""
    model, field = _ITEMS[kind]
    rows = model._default_manager.filter(in_list(field, set(keys), text=True), platform=platform)
    return dict(rows.values_list(field, "name"))
