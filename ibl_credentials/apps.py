from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import AppConfig

#: Stable ids, so the docs' examples (docs/demo.md) can name them on every machine.
DEMO_ISSUER = "demo-academy"
DEMO_CREDENTIAL = "demo-python-101"
DEMO_COURSE = "course-v1:demo+python-101+2026"
#: (username, entityId of their assertion, issued how many days before the first run)
DEMO_ASSERTIONS = [
    ("learner1", "demo-python-101-learner1", 3),
    ("learner2", "demo-python-101-learner2", 1),
]


class IblCredentialsConfig(AppConfig):
    name = "ibl_credentials"
    verbose_name = "IBL credentials (issuers, credentials, assertions, images)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ibl_core.events.outbox import register_commit_listener
        from ibl_core.events.tasks import register_sweeper
        from ibl_core.models import UserGroup
        from ibl_core.tenancy.signals import group_members_changed
        from ibl_credentials import schema  # noqa: F401  (registers its system check)
        from ibl_credentials.assertions.jobs import sweep_jobs
        from ibl_credentials.assignments import services as assignments
        from ibl_credentials.openbadges import signals
        from ibl_credentials.providers import sync

        signals.connect()
        register_sweeper("bulk issue jobs", sweep_jobs)
        # Assignment jobs run as bulk issue jobs (same queue, states, URL, sweeper).
        assignments.register_jobs()
        # Joiners of a group whose assignments follow membership are assigned in the
        # transaction that changed the group (ibl_core.tenancy.groups sends the signal in it).
        group_members_changed.connect(
            assignments.on_group_members_changed,
            sender=UserGroup,
            dispatch_uid="ibl_credentials_assignments",
        )
        # Mapped credentials are mirrored to their provider after every committed write.
        register_sweeper("provider syncs", sync.requeue_stalled)
        register_commit_listener("providers", sync.events_committed, types=sync.EVENT_OPERATIONS)

    def load_demo_data(self, *, platform: Any, admin: Any) -> list[str]:
        """Called by ``ibl_demo``: an issuer with a signatory, a credential for the demo
        course, and assertions of it for two learners. Running it again changes nothing
        a user changed since (an assertion revoked through the API stays revoked)."""
        from django.contrib.auth import get_user_model
        from django.db.models import Q
        from django.utils import timezone

        from ibl_core.catalog_items import item_names
        from ibl_credentials.models import Assertion, Credential, CredentialItem, Issuer, Signatory

        issuer, _ = Issuer.objects.update_or_create(
            entity_id=DEMO_ISSUER,
            defaults={"platform": platform, "name": "Demo Academy"},
            create_defaults={
                "platform": platform,
                "name": "Demo Academy",
                "url": "https://academy.example.com",
                "email": "badges@example.com",
                "created_by": admin,
            },
        )
        signatory, _ = Signatory.objects.update_or_create(
            issuer=issuer,
            credential=None,
            name="Ada Admin",
            defaults={
                "title": "Director of Learning",
                "signature_image": "https://academy.example.com/signatures/ada-admin.png",
            },
        )
        credential, _ = Credential.objects.update_or_create(
            entity_id=DEMO_CREDENTIAL,
            defaults={"platform": platform, "issuer": issuer, "name": "Python 101 Certificate"},
            create_defaults={
                "platform": platform,
                "issuer": issuer,
                "name": "Python 101 Certificate",
                "description": "Awarded for completing Python 101.",
                "criteria_narrative": "Pass every graded unit of Python 101.",
                "tags": ["python", "demo"],
                "created_by": admin,
            },
        )
        CredentialItem.objects.get_or_create(credential=credential, kind="course", key=DEMO_COURSE)

        course_name = item_names(platform, "course", [DEMO_COURSE]).get(DEMO_COURSE, "")
        users = get_user_model()._default_manager.in_bulk(
            [username for username, _, _ in DEMO_ASSERTIONS], field_name="username"
        )
        now = timezone.now()
        for username, entity_id, days_ago in DEMO_ASSERTIONS:
            item = {
                "credential": credential,
                "recipient": users[username],
                "item_kind": "course",
                "item_key": DEMO_COURSE,
            }
            # Made by an earlier run, or issued through the API since (one active per item).
            active = Q(**item, revoked=False, superseded=False)
            if Assertion.objects.filter(Q(entity_id=entity_id) | active).exists():
                continue
            Assertion.objects.create(
                entity_id=entity_id,
                platform=platform,
                **item,
                item_name=course_name,
                issued_on=now - dt.timedelta(days=days_ago),
                narrative="Completed every unit of Python 101.",
                issued_by=admin,
            )
        holders = ", ".join(f"{name} ({entity_id})" for name, entity_id, _ in DEMO_ASSERTIONS)
        return [
            f"issuer {issuer.name!r} (entityId {issuer.entity_id}), signed by {signatory.name}",
            f"credential {credential.name!r} (entityId {credential.entity_id}) "
            f"for course {DEMO_COURSE}",
            f"assertions of {credential.entity_id}: {holders}",
        ]
