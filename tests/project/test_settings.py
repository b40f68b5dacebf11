"""The IBL_DATA_MANAGER settings object and its system check."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from ibl_core.conf import DEFAULTS, ibl_settings


def test_defaults():
    assert ibl_settings.PAGE_SIZE == DEFAULTS["PAGE_SIZE"] == 20
    assert ibl_settings.BULK_MAX_ROWS == 10_000
    assert ibl_settings.IMAGE_FORMATS == ["PNG", "JPEG", "GIF", "WEBP"]
    assert ibl_settings.IMAGE_MAX_WEBP_PIXELS == 1024 * 1024
    assert ibl_settings.IMAGE_MAX_JPEG_SCANS == 100


def test_override_settings_takes_effect():
    with override_settings(IBL_DATA_MANAGER={"PAGE_SIZE": 5}):
        assert ibl_settings.PAGE_SIZE == 5
        assert ibl_settings.MAX_PAGE_SIZE == 100
    assert ibl_settings.PAGE_SIZE == 20


def test_a_value_read_before_an_override_is_read_again():
    assert ibl_settings.BULK_BATCH_SIZE == 2000  # the default, now kept
    with override_settings(IBL_DATA_MANAGER={"BULK_BATCH_SIZE": 7}):
        assert ibl_settings.BULK_BATCH_SIZE == 7
    assert ibl_settings.BULK_BATCH_SIZE == 2000


def test_unknown_attribute_is_an_error():
    with pytest.raises(AttributeError):
        ibl_settings.NOPE  # noqa: B018


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"PAGE_SIZE": 0}, "PAGE_SIZE must be a positive integer"),
        ({"BULK_MAX_ROWS": "many"}, "BULK_MAX_ROWS must be a positive integer"),
        ({"PAGE_SIZE": 500}, "PAGE_SIZE must not exceed MAX_PAGE_SIZE"),
        ({"CREDENTIAL_LIST_PAGE_SIZE": 500}, "CREDENTIAL_LIST_PAGE_SIZE must not exceed"),
        ({"CREDENTIALS_PAGE_SIZE": 5000}, "CREDENTIALS_PAGE_SIZE must not exceed"),
        ({"IMAGE_FORMATS": ["SVG"]}, "IMAGE_FORMATS"),
        ({"IMAGE_MAX_WEBP_PIXELS": 0}, "IMAGE_MAX_WEBP_PIXELS must be a positive integer"),
        ({"IMAGE_MAX_JPEG_SCANS": 1.5}, "IMAGE_MAX_JPEG_SCANS must be a positive integer"),
        ({"API_KEY_KEYWORDS": []}, "API_KEY_KEYWORDS"),
        ({"WEBHOOK_MAX_ENDPOINTS": 0}, "WEBHOOK_MAX_ENDPOINTS must be a positive integer"),
        ({"WEBHOOK_MAX_ENDPOINTS": "20"}, "WEBHOOK_MAX_ENDPOINTS must be a positive integer"),
        ({"WEBHOOK_PARK_AFTER_TIMEOUTS": -1}, "WEBHOOK_PARK_AFTER_TIMEOUTS must be a positive"),
        ({"WEBHOOK_PARK_SECONDS": True}, "WEBHOOK_PARK_SECONDS must be a positive integer"),
        ({"API_PATH_PREFIXES": "/api/"}, "API_PATH_PREFIXES"),
        ({"API_PATH_PREFIXES": ["api/"]}, "API_PATH_PREFIXES"),
        ({"TYPO": 1}, "Unknown key 'TYPO'"),
        ([], "must be a dict"),
    ],
)
def test_system_check_reports_bad_values(value, fragment):
    with override_settings(IBL_DATA_MANAGER=value):
        errors = [e for e in run_checks() if e.id == "ibl_core.E001"]
    assert any(fragment in e.msg for e in errors), errors


def test_system_check_is_clean_by_default():
    assert [e for e in run_checks() if e.id == "ibl_core.E001"] == []
