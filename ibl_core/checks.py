"""System checks: a bad ``IBL_DATA_MANAGER`` value is reported at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from .conf import validate_settings


@register()
def check_ibl_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report each problem of ``settings.IBL_DATA_MANAGER`` as ``ibl_core.E001``."""
    configured = getattr(settings, "IBL_DATA_MANAGER", None)
    return [
        Error(f"IBL_DATA_MANAGER: {problem}", id="ibl_core.E001")
        for problem in validate_settings(configured)
    ]
