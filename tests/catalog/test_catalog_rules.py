"""One rule set for a suggestion's fields: the single POST and a bulk row agree.

Every case of :data:`CASES` goes through both endpoints: a value the single POST
refuses with a 400 naming the field is an ``invalid_row`` in a bulk request, and a
value it accepts is stored the same way by both. A second test checks that each
rule answers what DRF's own field of that type answers, message for message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework import serializers

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
from ibl_catalog.models import ProgramSuggestion
from ibl_catalog.suggestions.rules import (
    RuleError,
    clean_boolean,
    clean_email,
    clean_row,
    clean_text,
)
from ibl_catalog.suggestions.serializers import row_rules
from tests.support.catalog_helpers import BULK, MANAGE
from tests.support.factories import ProgramFactory

pytestmark = pytest.mark.django_db

NULL = ["This field may not be null."]
BLANK = ["This field may not be blank."]
NOT_A_STRING = ["Not a valid string."]
NOT_A_BOOLEAN = ["Must be a valid boolean."]
NOT_AN_OBJECT = ["Must be a JSON object."]
NOT_JSON = ["Value must be valid JSON."]
BAD_USER_ID = ["A user id (an integer or a string of digits) is required."]
KEY = "program-v1:org+rules+run"
JSON = "application/json"


@dataclass(frozen=True)
class Raw:
    """JSON text sent as it is (a number Python would not write, say)."""

    text: str


@dataclass(frozen=True)
class Case:
    """``field`` set to ``value`` (a callable of the learner for per-user values);
    ``errors`` the single POST's messages, or ``stored`` the value kept."""

    field: str
    value: Any
    errors: list[str] | None = None
    stored: Any = None


CASES = [
    # user_id: an integer or a string of ASCII digits
    Case("user_id", lambda user: user.pk, stored=True),
    Case("user_id", lambda user: str(user.pk), stored=True),
    Case("user_id", lambda user: f"  {user.pk} ", stored=True),
    Case("user_id", None, NULL),
    Case("user_id", "abc", BAD_USER_ID),
    Case("user_id", "", BAD_USER_ID),
    Case("user_id", "\u0663", BAD_USER_ID),  # an Arabic-Indic digit
    Case("user_id", True, BAD_USER_ID),
    Case("user_id", 1.5, BAD_USER_ID),
    Case("user_id", -3, BAD_USER_ID),
    Case("user_id", 0, BAD_USER_ID),
    Case("user_id", 2**63, BAD_USER_ID),
    Case("user_id", [1], BAD_USER_ID),
    # the item key: a string of at most 255 characters, trimmed
    Case("program_key", f"  {KEY} ", stored=True),
    Case("program_key", None, NULL),
    Case("program_key", "", BLANK),
    Case("program_key", "   ", BLANK),
    Case("program_key", "x" * 256, ["Ensure this field has no more than 255 characters."]),
    Case("program_key", {"a": 1}, NOT_A_STRING),
    Case("program_key", False, NOT_A_STRING),
    # (NUL and lone surrogate characters, which no database stores, are refused for
    # the whole body by the JSON parser before any rule runs: test_hardening.py)
    # username and email: must be the user's (compared after trimming)
    Case("username", lambda user: f" {user.username} ", stored=True),
    Case("username", "x" * 151, ["Ensure this field has no more than 150 characters."]),
    Case("username", ["x"], NOT_A_STRING),
    Case("username", "", BLANK),
    Case("email", lambda user: user.email.upper(), stored=True),
    Case("email", "not-an-email", ["Enter a valid email address."]),
    Case("email", "a@" + "b" * 320 + ".com", ["Enter a valid email address."]),
    Case("email", 5, ["Enter a valid email address."]),
    # booleans: DRF's spellings
    *(Case("accepted", value, stored=True) for value in (True, "true", "yes", "on", 1, "1")),
    *(Case("accepted", value, stored=False) for value in (False, "false", "no", "off", 0, "0")),
    Case("visible", "perhaps", NOT_A_BOOLEAN),
    Case("visible", [1], NOT_A_BOOLEAN),
    Case("visible", {}, NOT_A_BOOLEAN),
    Case("visible", 2, NOT_A_BOOLEAN),
    Case("direct", None, NULL),
    Case("direct", "False", stored=False),
    Case("direct", "TRUE", stored=True),
    # metadata: a JSON object within the bounds
    Case("metadata", {}, stored={}),
    Case("metadata", {"k": ["v", 1, 2.5, None, True]}, stored={"k": ["v", 1, 2.5, None, True]}),
    Case("metadata", {"\u00e9t\u00e9": "\u2603"}, stored={"\u00e9t\u00e9": "\u2603"}),
    Case("metadata", [1, 2], NOT_AN_OBJECT),
    Case("metadata", "text", NOT_AN_OBJECT),
    Case("metadata", None, NULL),
    Case("metadata", {"x": Raw("1e400")}, NOT_JSON),  # parsed as infinity
    Case(
        "metadata",
        {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {}}}}}}}}}}},
        ["JSON nested at most 10 levels deep is accepted; got 11."],
    ),
    Case("metadata", {"x": "y" * 70_000}, ["At most 65536 bytes of JSON are accepted; got 70008."]),
    Case(
        "metadata",
        {"x": "\u00e9" * 32_765},  # fewer characters than the limit, more bytes
        ["At most 65536 bytes of JSON are accepted; got 65538."],
    ),
]


def encode(body: dict[str, Any]) -> str:
    """``body`` as JSON text, with each :class:`Raw` value written as it is."""
    raws: list[str] = []

    def placeholder(value: Any) -> str:
        raws.append(value.text)
        return f"@raw{len(raws) - 1}@"

    text = json.dumps(body, default=placeholder)
    for index, raw in enumerate(raws):
        text = text.replace(f'"@raw{index}@"', raw)
    return text


def case_id(case: Case) -> str:
    value = "per-user" if callable(case.value) else repr(case.value)[:30]
    return f"{case.field}={value}"


@pytest.fixture
def program(world):
    return ProgramFactory(platform=world.p1, program_key=KEY, name="Rules")


def body_with(world, case: Case) -> dict[str, Any]:
    learner = world.users["learner_p1"]
    value = case.value(learner) if callable(case.value) else case.value
    return {"user_id": learner.pk, "program_key": KEY, case.field: value}


def check_stored(world, case: Case) -> None:
    suggestion = ProgramSuggestion.objects.get()
    assert suggestion.user == world.users["learner_p1"]
    if case.field in ("accepted", "visible", "direct", "metadata"):
        assert getattr(suggestion, case.field) == case.stored


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_single_post_and_bulk_row_apply_the_same_rules(world, program, case):
    client = world.client("platform_admin_p1")
    row = body_with(world, case)

    single = client.post(MANAGE, encode({"platform_key": "p1", **row}), content_type=JSON)
    if case.errors is not None:
        assert single.status_code == 400
        assert single.json() == {case.field: case.errors}
        assert not ProgramSuggestion.objects.exists()
    else:
        assert single.status_code == 200, single.json()
        check_stored(world, case)
        ProgramSuggestion.objects.all().delete()

    bulk_body = encode({"platform_key": "p1", "suggestion_data": [row]})
    bulk = client.post(BULK, bulk_body, content_type=JSON)
    assert bulk.status_code == 200
    if case.errors is not None:
        assert bulk.json() == {"successes": 0, "error_codes": ["0:invalid_row"]}
        assert not ProgramSuggestion.objects.exists()
    else:
        assert bulk.json() == {"successes": 1, "error_codes": []}
        check_stored(world, case)


@pytest.mark.parametrize("missing", ["user_id", "program_key"])
def test_a_missing_required_field_is_refused_by_both(world, program, missing):
    client = world.client("platform_admin_p1")
    row = {"user_id": world.users["learner_p1"].pk, "program_key": KEY}
    del row[missing]
    single = client.post(MANAGE, {"platform_key": "p1", **row}, format="json")
    assert single.status_code == 400
    assert single.json() == {missing: ["This field is required."]}
    bulk = client.post(BULK, {"platform_key": "p1", "suggestion_data": [row]}, format="json")
    assert bulk.json() == {"successes": 0, "error_codes": ["0:invalid_row"]}
    assert not ProgramSuggestion.objects.exists()


def test_unknown_fields_are_ignored_by_both(world, program):
    rules = row_rules(PROGRAM_SUGGESTIONS)
    row = {"user_id": 5, "program_key": KEY, "colour": "red", "id": 99}
    assert clean_row(rules, row) == {"user_id": 5, "program_key": KEY}
    assert clean_row(rules, ["user_id", 5]) is None


def drf_answer(field: serializers.Field, value: Any) -> tuple[str, Any]:
    try:
        return "ok", field.run_validation(value)
    except serializers.ValidationError as error:
        return "error", [str(message) for message in error.detail]


def rule_answer(rule, value: Any) -> tuple[str, Any]:
    try:
        return "ok", rule(value)
    except RuleError as error:
        return "error", error.messages


TEXTS = [None, "", " ", " a ", "x" * 10, "x" * 11, 5, 2.5, True, [1], {}, "a\x00", "\ud83d",
         "\u00e9\u00e9", "\x00" + "x" * 11]  # fmt: skip
BOOLEANS = [None, True, False, "true", "True", "TRUE", "t", "yes", "on", "1", 1, 1.0, "false",
            "f", "no", "off", "0", 0, 0.0, "", "maybe", 2, [True], {}, "Yes", "ON"]  # fmt: skip
EMAILS = [None, "", "a@b.co", " a@b.co ", "A@B.CO", "nope", "a@b", 7, "a@" + "b" * 320 + ".com"]


@pytest.mark.parametrize("value", TEXTS, ids=repr)
def test_text_rule_answers_as_drf_charfield(value):
    drf = serializers.CharField(max_length=10)
    assert rule_answer(lambda v: clean_text(v, 10), value) == drf_answer(drf, value)


@pytest.mark.parametrize("value", BOOLEANS, ids=repr)
def test_boolean_rule_answers_as_drf_booleanfield(value):
    assert rule_answer(clean_boolean, value) == drf_answer(serializers.BooleanField(), value)


@pytest.mark.parametrize("value", EMAILS, ids=repr)
def test_email_rule_answers_as_drf_emailfield(value):
    assert rule_answer(clean_email, value) == drf_answer(serializers.EmailField(), value)
