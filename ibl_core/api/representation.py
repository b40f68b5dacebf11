"""The API's representation of rows, without DRF's per-row, per-field path.

- :func:`utc_text` and its SQL mirror :class:`UtcTimestamp`: a timestamp as UTC text.
- :func:`timestamp_format`: Python writes a UTC timestamp as DRF does, with the zone
  read once per call (``ibl_catalog.suggestions.serializers.iter_represented``).
- :func:`json_object`: the database builds a whole object as JSON, one SQL expression
  (``json_object`` on SQLite, ``jsonb_build_object`` on PostgreSQL).
- :class:`JsonMerge`: the database sets each row's part over an object the rows share.

Why the database: a bulk write records one event per row, and each event's ``data``
is the row as the API answers it. Building those objects in Python meant reading
every written row back, converting it, shaping it and encoding it: most of what a
10,000-row bulk spent on its events. Built by the database, the events are written
by one ``INSERT ... SELECT`` and no row comes back to Python.

:func:`json_object` is a second writer of the representation, so it covers only what
it writes exactly as the serializer does, field type by field type; for anything else
it answers ``None`` and the caller builds the objects in Python. The two are
compared, object by object, by the tests (``tests/core/test_events.py``, both databases):

- integers and strings: as stored;
- booleans: ``true`` / ``false`` (SQLite stores 0 and 1);
- JSON (``DictField``, ``JSONField``): the stored JSON;
- UUIDs: lower-case, hyphenated (SQLite stores 32 hex digits);
- timestamps: ISO 8601 in UTC with ``Z``, microseconds only when not zero, as DRF
  writes a UTC datetime; only when the API writes timestamps in UTC (``TIME_ZONE =
  "UTC"``, the default ISO 8601 format). Another zone or format: ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Func, TextField
from django.db.models.functions import JSONObject
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

_ENCODER = DjangoJSONEncoder(separators=(",", ":"))


def timestamp_format(
    field: serializers.DateTimeField,
) -> tuple[Callable[[Any], Any], frozenset[tzinfo]]:
    """``field.to_representation``, and the zones whose datetimes it writes as they are
    with ``Z`` for ``+00:00`` (UTC ones, when the field writes ISO 8601 in UTC)."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation, frozenset()
    if zone.utcoffset(datetime(2000, 1, 1)) != timedelta(0) or str(zone) != "UTC":
        return field.to_representation, frozenset()
    # Converting a UTC datetime to UTC changes nothing that isoformat() writes.
    return field.to_representation, frozenset({UTC, zone})


class _Rewritten(Func):
    """A function of one expression written per database; ``templates`` maps a vendor
    to its SQL, where ``{x}`` is the expression (repeated as often as needed, with its
    parameters)."""

    templates: dict[str, str] = {}
    output_field = TextField()

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        template = self.templates.get(connection.vendor)
        if template is None:
            raise NotImplementedError(f"{type(self).__name__} on {connection.vendor}")
        (inner,) = self.get_source_expressions()
        sql, params = compiler.compile(inner)
        return template.replace("{x}", f"({sql})"), tuple(params) * template.count("{x}")


def utc_text(value: datetime | None, *, seconds: bool = False) -> str:
    """A timestamp as UTC text: ``2026-11-26T07:50:01.000123Z``, or
    ``2026-11-26T07:50:01Z`` when its microseconds are zero, as DRF writes a UTC
    datetime; ``""`` for no value. ``seconds``: whole seconds always (the microseconds
    dropped), as Open Badges 3.0 and Data Integrity proofs write dates.

    The one Python writer of timestamp text; :class:`UtcTimestamp` is its SQL mirror
    (``seconds=False``), and the tests compare the two on both databases.
    """
    if value is None:
        return ""
    value = value.astimezone(UTC)
    if seconds:
        value = value.replace(microsecond=0)
    return value.isoformat().replace("+00:00", "Z")


class UtcTimestamp(_Rewritten):
    """:func:`utc_text` in SQL: a timestamp as DRF writes a UTC datetime,
    ``2026-11-26T07:50:01.000123Z``, or ``2026-11-26T07:50:01Z`` when its microseconds
    are zero (as ``isoformat()``)."""

    templates = {
        # Django stores SQLite timestamps as str() of the UTC datetime: "YYYY-MM-DD
        # HH:MM:SS[.ffffff]", which leaves the microseconds out when they are zero.
        "sqlite": "(replace({x}, ' ', 'T') || 'Z')",
        "postgresql": (
            "(to_char({x} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            "|| CASE WHEN to_char({x}, 'US') = '000000' THEN '' "
            "ELSE to_char({x}, '.US') END || 'Z')"
        ),
    }


class JsonBoolean(_Rewritten):
    """A boolean as JSON ``true``/``false`` (``null`` when NULL)."""

    templates = {
        "sqlite": "json(CASE WHEN {x} IS NULL THEN 'null' WHEN {x} THEN 'true' ELSE 'false' END)",
        "postgresql": "{x}",
    }


class JsonValue(_Rewritten):
    """A JSON column embedded as JSON, not as a string of it."""

    templates = {"sqlite": "json({x})", "postgresql": "{x}"}


class UuidText(_Rewritten):
    """A UUID as lower-case hyphenated text."""

    templates = {
        "sqlite": (
            "lower(substr({x}, 1, 8) || '-' || substr({x}, 9, 4) || '-' || "
            "substr({x}, 13, 4) || '-' || substr({x}, 17, 4) || '-' || substr({x}, 21))"
        ),
        "postgresql": "CAST({x} AS text)",
    }


class JsonMerge(Func):
    """``template`` (a JSON object, encoded here) with the keys of the JSON object
    ``patch`` (an expression) set over it: rows that share most of their object.

    SQLite's ``json_patch`` follows RFC 7396 (a ``null`` in ``patch`` removes the key,
    and nested objects are merged), PostgreSQL's ``||`` replaces top-level keys: the
    same result for a ``patch`` whose values are never ``null`` and whose objects carry
    every key of the template's, which the caller guarantees.
    """

    output_field = TextField()

    def __init__(self, template: Mapping[str, Any], patch: Any) -> None:
        super().__init__(patch)
        self.template = _ENCODER.encode(template)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        (patch,) = self.get_source_expressions()
        sql, params = compiler.compile(patch)
        if connection.vendor == "sqlite":
            return f"json_patch(%s, {sql})", (self.template, *params)
        if connection.vendor == "postgresql":
            return f"(CAST(%s AS jsonb) || {sql})", (self.template, *params)
        raise NotImplementedError(f"JsonMerge on {connection.vendor}")


def utc_iso(field: serializers.DateTimeField) -> bool:
    """Whether ``field`` writes datetimes in UTC as ISO 8601 (what :class:`UtcTimestamp`
    writes)."""
    _, as_is_zones = timestamp_format(field)
    return bool(as_is_zones)


def json_object(
    serializer_class: type[serializers.Serializer], expressions: Mapping[str, Any], vendor: str
) -> JSONObject | None:
    """The JSON object ``serializer_class`` writes of a row whose values ``expressions``
    select (one per output field, by name), as one SQL expression; ``None`` when a field
    is one this module does not write exactly as the serializer does, or on a database
    other than SQLite and PostgreSQL."""
    if vendor not in ("sqlite", "postgresql"):
        return None
    parts: dict[str, Any] = {}
    for name, field in serializer_class().fields.items():
        expression = expressions[name]
        if isinstance(field, serializers.DateTimeField):
            if not utc_iso(field):
                return None
            expression = UtcTimestamp(expression)
        elif isinstance(field, serializers.BooleanField):
            expression = JsonBoolean(expression)
        elif isinstance(field, serializers.DictField | serializers.JSONField):
            expression = JsonValue(expression)
        elif isinstance(field, serializers.UUIDField):
            if field.uuid_format != "hex_verbose":
                return None
            expression = UuidText(expression)
        elif type(field) not in (serializers.IntegerField, serializers.CharField):
            return None
        parts[name] = expression
    return JSONObject(**parts)
