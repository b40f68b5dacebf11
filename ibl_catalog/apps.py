from __future__ import annotations

import uuid
from typing import Any

from django.apps import AppConfig


class IblCatalogConfig(AppConfig):
    name = "ibl_catalog"
    verbose_name = "IBL catalog (programs, courses, pathways, suggestions)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ibl_catalog import declarations  # noqa: F401  (registers the suggestion kinds)
        from ibl_catalog.items import names_by_key
        from ibl_catalog.suggestions.fanout import on_group_members_changed
        from ibl_core import catalog_items
        from ibl_core.models import UserGroup
        from ibl_core.tenancy.signals import group_members_changed

        # Joins and leaves update the members' per-user suggestions in the transaction
        # that changed the group (ibl_core.tenancy.groups sends the signal inside it).
        group_members_changed.connect(
            on_group_members_changed, sender=UserGroup, dispatch_uid="ibl_catalog_fanout"
        )
        # Credentials name courses, programs and pathways by key without importing us.
        catalog_items.register_resolver(names_by_key)

    def load_demo_data(self, *, platform: Any, admin: Any) -> list[str]:
        """Called by ``ibl_demo``: a few programs, a course and a pathway on the demo platform."""
        from ibl_catalog.models import Course, Pathway, Program

        programs = [
            ("program-v1:demo+data-science+2026", "Data Science Program"),
            ("program-v1:demo+web-dev+2026", "Web Development Program"),
            ("program-v1:demo+ml-ops+2026", "MLOps Program"),
        ]
        for key, name in programs:
            Program.objects.update_or_create(
                platform=platform, program_key=key, defaults={"name": name, "enabled": True}
            )
        course, _ = Course.objects.update_or_create(
            platform=platform,
            course_id="course-v1:demo+python-101+2026",
            defaults={"name": "Python 101", "enabled": True},
        )
        pathway, _ = Pathway.objects.update_or_create(
            platform=platform,
            pathway_id="data-analyst",
            defaults={"name": "Data Analyst Pathway", "enabled": True},
            # The same UUID on every machine, so examples can name it.
            create_defaults={
                "name": "Data Analyst Pathway",
                "pathway_uuid": uuid.uuid5(
                    uuid.NAMESPACE_URL, "ibl-data-manager:demo:data-analyst"
                ),
            },
        )
        return [
            f"programs {', '.join(key for key, _ in programs)}",
            f"course {course.course_id}",
            f"pathway {pathway.pathway_id} (uuid {pathway.pathway_uuid})",
        ]
