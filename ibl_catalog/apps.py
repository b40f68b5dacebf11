from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IblCatalogConfig(AppConfig):
    name = "ibl_catalog"
    verbose_name = "IBL catalog (programs, suggestions)"
    default_auto_field = "django.db.models.BigAutoField"

    def load_demo_data(self, *, platform: Any, admin: Any) -> list[str]:
        """Called by ``ibl_demo``: a few programs on the demo platform."""
        from .models import Program

        programs = [
            ("program-v1:demo+data-science+2026", "Data Science Program"),
            ("program-v1:demo+web-dev+2026", "Web Development Program"),
            ("program-v1:demo+ml-ops+2026", "MLOps Program"),
        ]
        for key, name in programs:
            Program.objects.update_or_create(
                platform=platform, program_key=key, defaults={"name": name, "enabled": True}
            )
        return [f"programs {', '.join(key for key, _ in programs)}"]
