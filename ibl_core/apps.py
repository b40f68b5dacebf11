from django.apps import AppConfig


class IblCoreConfig(AppConfig):
    name = "ibl_core"
    verbose_name = "IBL core (platforms, members, API keys)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, schema  # noqa: F401  (registers checks, OpenAPI extensions)
        from .tasks import register_sweeper
        from .webhooks.delivery import sweep_summary

        register_sweeper("webhook events", sweep_summary)
