"""One writer of timestamp text: ``utc_text`` in Python and its SQL mirror
``UtcTimestamp`` write the same text for the same instant, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db.models import DateTimeField, Value

from ibl_core.api.representation import UtcTimestamp, utc_text
from ibl_core.models import Platform
from tests.support.factories import PlatformFactory

PLUS_5 = timezone(timedelta(hours=5, minutes=30))
MINUS_8 = timezone(timedelta(hours=-8))

# id: (value, its text[, its text with seconds=True when it differs])
STAMPS = {
    "microseconds": (
        datetime(2026, 11, 26, 7, 50, 1, 123, tzinfo=UTC),
        "2026-11-26T07:50:01.000123Z",
        "2026-11-26T07:50:01Z",
    ),
    "no-microseconds": (datetime(2026, 11, 26, 7, 50, 1, tzinfo=UTC), "2026-11-26T07:50:01Z"),
    "ahead-of-utc": (
        datetime(2026, 11, 26, 13, 20, 1, 500000, tzinfo=PLUS_5),
        "2026-11-26T07:50:01.500000Z",
        "2026-11-26T07:50:01Z",
    ),
    "behind-utc-across-a-year": (
        datetime(2026, 12, 31, 20, 0, 0, tzinfo=MINUS_8),
        "2027-01-01T04:00:00Z",
    ),
    "last-microsecond": (
        datetime(1999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
        "1999-01-02T03:04:05.999999Z",
        "1999-01-02T03:04:05Z",
    ),
}
CASES = [
    pytest.param(value, text, (rest or [text])[0], id=name)
    for name, (value, text, *rest) in STAMPS.items()
]


@pytest.mark.parametrize(("value", "text", "whole_seconds"), CASES)
def test_utc_text(value, text, whole_seconds):
    assert (utc_text(value), utc_text(value, seconds=True)) == (text, whole_seconds)


def test_no_value_is_empty_text():
    assert utc_text(None) == utc_text(None, seconds=True) == ""


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "text", "whole_seconds"), CASES)
def test_the_databases_timestamp_text_is_pythons(value, text, whole_seconds):
    platform = PlatformFactory()
    Platform.objects.filter(pk=platform.pk).update(created=value)
    stored, sent = (
        Platform.objects.filter(pk=platform.pk)
        .annotate(
            stored=UtcTimestamp("created"),
            sent=UtcTimestamp(Value(value, output_field=DateTimeField())),
        )
        .values_list("stored", "sent")
        .get()
    )
    assert (stored, sent) == (utc_text(value), utc_text(value)) == (text, text)
