from django.apps import AppConfig


class IblCoreConfig(AppConfig):
    name = "ibl_core"
    verbose_name = "IBL core (platforms, members, API keys)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from ibl_core.api import schema  # noqa: F401  (registers OpenAPI extensions)
        from ibl_core.models import DepartmentMember
        from ibl_core.ops import checks  # noqa: F401  (registers the system checks)
        from ibl_core.tenancy.groups import (
            on_department_member_deleted,
            on_department_member_saved,
            on_department_member_saving,
        )

        # A user who leaves a department leaves its groups, however the row goes.
        for signal, receiver in (
            (pre_save, on_department_member_saving),
            (post_save, on_department_member_saved),
            (post_delete, on_department_member_deleted),
        ):
            signal.connect(receiver, sender=DepartmentMember, dispatch_uid=receiver.__name__)
        from ibl_core.events.tasks import register_sweeper
        from ibl_core.events.webhooks.delivery import sweep_summary

        register_sweeper("webhook events", sweep_summary)
