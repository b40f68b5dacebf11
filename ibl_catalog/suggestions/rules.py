"""The one rule set for the fields of a suggestion write, in plain Python.

A single POST and every row of a bulk request are checked by the same functions
here. The single POST reaches them through serializer fields built from the rules
(:func:`rule_field`, which also gives the OpenAPI schema and the browsable API's
form their types); a bulk row calls them directly (:func:`clean_row`), without
DRF's per-field machinery, which was most of a 10,000-row request's time. The
messages are DRF's own, so a single POST answers as it did with DRF's fields.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers
from rest_framework.fields import empty

from ibl_core.api.fields import JSONBoundsError, checked_json

NULL = "This field may not be null."
_SURROGATE = re.compile("[\ud800-\udfff]")


class RuleError(Exception):
    """A value a rule refuses; ``messages`` are shown to the client as they are."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


@dataclass(frozen=True)
class Metadata:
    """A metadata object with its compact JSON text, encoded once: the rule measures
    the text, and the writer sends the same text to the database."""

    value: dict[str, Any]
    text: str


# -- the checks -------------------------------------------------------------------


def clean_text(value: Any, max_length: int) -> str:
    """A string as DRF's ``CharField`` takes it: trimmed, not blank, bounded, with no
    NUL or surrogate characters; integers and floats are taken as their text."""
    if value is None:
        raise RuleError(NULL)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RuleError("Not a valid string.")
    text = str(value).strip()
    if not text:
        raise RuleError("This field may not be blank.")
    if len(text) <= max_length and text.isascii() and "\x00" not in text:
        return text
    problems = []
    if len(text) > max_length:
        problems.append(f"Ensure this field has no more than {max_length} characters.")
    if "\x00" in text:
        problems.append("Null characters are not allowed.")
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        problems.append(f"Surrogate characters are not allowed: U+{ord(surrogate[0]):X}.")
    if problems:
        raise RuleError(*problems)
    return text


def clean_email(value: Any) -> str:
    """A string (as :func:`clean_text`, with no length of its own) that is an email
    address (which bounds its length)."""
    text = clean_text(value, 2**31)
    try:
        validate_email(text)
    except DjangoValidationError:
        raise RuleError("Enter a valid email address.") from None
    return text


_TRUE = serializers.BooleanField.TRUE_VALUES
_FALSE = serializers.BooleanField.FALSE_VALUES


def clean_boolean(value: Any) -> bool:
    """``true``/``false`` and the spellings DRF's ``BooleanField`` accepts
    (``"yes"``, ``"On"``, ``1``, ``"0"``..., strings in any case)."""
    if value is None:
        raise RuleError(NULL)
    if isinstance(value, str):
        value = value.lower()
    try:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    except TypeError:  # unhashable: a list or an object
        pass
    raise RuleError("Must be a valid boolean.")


def clean_user_id(value: Any) -> int:
    """A user id given as a positive integer or a string of digits."""
    if value is None:
        raise RuleError(NULL)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise RuleError("A user id (an integer or a string of digits) is required.")
    if not 0 < number < 2**63:
        raise RuleError("A user id (an integer or a string of digits) is required.")
    return number


def clean_group_id(value: Any) -> int:
    """A group id given as a positive integer or a string of digits."""
    try:
        return clean_user_id(value)
    except RuleError as error:
        if error.messages == [NULL]:
            raise
        raise RuleError("A group id (an integer or a string of digits) is required.") from None


def clean_uuid(value: Any) -> str:
    """A UUID as DRF's ``UUIDField`` takes it (any form ``uuid.UUID`` reads, or an
    integer); the canonical lower-case hyphenated text afterwards."""
    if value is None:
        raise RuleError(NULL)
    try:
        if isinstance(value, int):
            return str(uuid.UUID(int=value))
        if isinstance(value, str):
            return str(uuid.UUID(hex=value))
    except ValueError:
        pass
    raise RuleError("Must be a valid UUID.")


def clean_metadata(value: Any) -> Metadata:
    """A JSON object within the JSON bounds (``{}`` clears the metadata)."""
    if value is None:
        raise RuleError(NULL)
    if not isinstance(value, dict):
        raise RuleError("Must be a JSON object.")
    try:
        return Metadata(value, checked_json(value))
    except JSONBoundsError as error:
        raise RuleError(str(error)) from None


# -- rules and the fields built from them -----------------------------------------


@dataclass(frozen=True)
class Rule:
    """How one request field is checked, and the serializer field that documents it."""

    clean: Callable[[Any], Any]
    field_class: type[serializers.Field]
    required: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


def text_rule(max_length: int, *, required: bool = False) -> Rule:
    return Rule(
        partial(clean_text, max_length=max_length),
        serializers.CharField,
        required,
        {"max_length": max_length},
    )


def uuid_rule() -> Rule:
    return Rule(clean_uuid, serializers.UUIDField)


def boolean_rule(**options: Any) -> Rule:
    return Rule(clean_boolean, serializers.BooleanField, options=options)


def clean_row(rules: RowRules, row: Any) -> dict[str, Any] | None:
    """A bulk row checked by ``rules``; ``None`` when any field is missing or invalid.

    Fields without a rule are ignored, as a serializer ignores unknown fields.
    """
    if not isinstance(row, dict):
        return None
    cleaned: dict[str, Any] = {}
    try:
        # The row's fields, not every rule: a row usually sends a few of them.
        for name, value in row.items():
            rule = rules.get(name)
            if rule is not None:
                cleaned[name] = rule.clean(value)
    except RuleError:
        return None
    for name in rules.required:
        if name not in cleaned:
            return None
    if rules.one_of and not any(name in cleaned for name in rules.one_of):
        return None
    return cleaned


class RowRules(dict[str, Rule]):
    """The rules of a row's fields by name, which fields are required, and a group of
    fields of which at least one is required (``one_of``: an item named by any of its
    identifiers)."""

    def __init__(self, rules: Mapping[str, Rule], *, one_of: tuple[str, ...] = ()) -> None:
        super().__init__(rules)
        self.one_of = one_of

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, rule in self.items() if rule.required)


class RuleFieldMixin:
    """A serializer field whose value is checked by its :class:`Rule`."""

    def __init__(self, *args: Any, rule: Rule, **kwargs: Any) -> None:
        # A constructor argument, not an attribute set afterwards: DRF copies a
        # serializer's fields by calling the constructor again with its arguments.
        self.rule = rule
        super().__init__(*args, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:
            # Absent: DRF's own handling (the "required" error, or the field skipped).
            return self.validate_empty_values(data)[1]  # type: ignore[attr-defined]
        try:
            return self.rule.clean(data)
        except RuleError as error:
            raise serializers.ValidationError(error.messages) from None

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, Metadata):
            value = value.value
        return super().to_representation(value)  # type: ignore[misc]


_FIELD_CLASSES: dict[type[serializers.Field], type[serializers.Field]] = {}


def rule_field(rule: Rule, **options: Any) -> serializers.Field:
    """The serializer field of ``rule`` (its type for the schema and forms, its checks)."""
    base = rule.field_class
    if base not in _FIELD_CLASSES:
        _FIELD_CLASSES[base] = type(f"Rule{base.__name__}", (RuleFieldMixin, base), {})
    field_class: Any = _FIELD_CLASSES[base]
    return field_class(rule=rule, required=rule.required, **rule.options, **options)
