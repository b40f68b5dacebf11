from django.apps import AppConfig


class IblCredentialsConfig(AppConfig):
    name = "ibl_credentials"
    verbose_name = "IBL credentials (issuers, images)"
    default_auto_field = "django.db.models.BigAutoField"
