"""GET .../assertions-over-time/, credentials-over-time/, course-assertions-over-time/
(contract ``credentials-lifecycle.md``, "Analytics")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ibl_credentials.analytics import selectors
from ibl_credentials.analytics.selectors import change_percent, utc_today
from ibl_credentials.models import Credential
from tests.conftest import ROLES
from tests.support.credentials_factories import AssertionFactory, CredentialFactory, IssuerFactory
from tests.support.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ASSERTIONS = "assertions-over-time"
CREDENTIALS = "credentials-over-time"
COURSE_ASSERTIONS = "course-assertions-over-time"
ENDPOINTS = [ASSERTIONS, CREDENTIALS, COURSE_ASSERTIONS]
MARCH = {"start_date": "2026-03-01", "end_date": "2026-03-03"}
ADMINS_ONLY = {"detail": "Only platform admins may do this."}


def url(endpoint: str, user: str = "platform_admin_p1", org: str = "p1") -> str:
    return f"/api/credentials/orgs/{org}/users/{user}/{endpoint}/"


def get(world, endpoint: str, role: str = "platform_admin_p1", user: str | None = None,
        org: str = "p1", **params):  # fmt: skip
    return world.client(role).get(url(endpoint, user or role, org), params)


def at(day: str, time: str = "12:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


def days(first: str, last: str, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Every day from ``first`` to ``last`` with 0, except the ``counts`` given."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    span = range((end - start).days + 1)
    data = {(start + dt.timedelta(days=n)).isoformat(): 0 for n in span}
    assert set(counts or {}) <= set(data)
    return {**data, **(counts or {})}


def meta(total: int, change_range: int, last_7: int, last_30: int,
         range_percent, last_7_percent, last_30_percent) -> dict:  # fmt: skip
    return {
        "total": total,
        "change_range": change_range,
        "change_last_seven_days": last_7,
        "change_last_thirty_days": last_30,
        "change_last_seven_days_percent": last_7_percent,
        "change_last_thirty_days_percent": last_30_percent,
        "change_range_percent": range_percent,
    }


def credential(platform, created: dt.datetime) -> Credential:
    made = CredentialFactory(issuer=IssuerFactory(platform=platform))
    Credential.objects.filter(pk=made.pk).update(created=created)  # auto_now_add otherwise
    return made


@pytest.fixture
def seeded(world):
    """p1: credentials created on 1 and 3 March 2026 (and 27 February); assertions
    around 1-3 March, of Engineering's learner_p1 and of others. p2: its own, never
    counted on p1."""
    users = world.users
    a = credential(world.p1, at("2026-03-01", "10:00:00"))
    b = credential(world.p1, at("2026-03-03", "23:59:59"))
    credential(world.p1, at("2026-02-27"))
    c = credential(world.p2, at("2026-03-02"))

    def assertion(cred, user, issued_on, kind="", key="", **extra):
        return AssertionFactory(credential=cred, recipient=users[user], issued_on=issued_on,
                                item_kind=kind, item_key=key, **extra)  # fmt: skip

    # In the range 1-3 March: 1 (revoked) on the 1st, 2 on the 2nd (one a course).
    assertion(a, "learner_p1", at("2026-03-02", "00:00:00"), "course", "course-v1:x+c1+1")
    assertion(a, "learner_p1", at("2026-03-02", "23:59:59.999999"), "program", "program-v1:x+p")
    assertion(a, "platform_admin_p1", at("2026-03-01"), revoked=True, revocation_reason="Error")
    # After the range, and in the periods before it.
    assertion(b, "learner_other_department", at("2026-03-04", "00:00:00"), "course", "c2")
    assertion(b, "learner_p1", at("2026-02-27"), "course", "course-v1:x+c3+1")
    assertion(b, "learner_other_department", at("2026-02-20"), "course", "c1", superseded=True)
    assertion(a, "learner_other_department", at("2026-01-15"), "pathway", "data-analyst")
    # Another tenant's, on the same days.
    assertion(c, "learner_p2", at("2026-03-02"), "course", "course-v1:x+c1+1")
    assertion(c, "learner_p2", at("2026-02-27"), "course", "course-v1:x+c3+1")
    return world


# Answers ---------------------------------------------------------------------------------


def test_assertions_per_day_with_the_changes_from_the_periods_before(seeded):
    response = get(seeded, ASSERTIONS, **MARCH)
    assert response.status_code == 200
    # Range: 3 (vs 1 on 26-28 Feb); 7 days to 3 March: 4 (vs 1); 30 days: 5 (vs 1).
    assert response.json() == {
        "data": {"2026-03-01": 1, "2026-03-02": 2, "2026-03-03": 0},
        "total": 3,
        "meta": meta(6, 2, 3, 4, 200.0, 300.0, 400.0),
    }


def test_course_assertions_per_day(seeded):
    response = get(seeded, COURSE_ASSERTIONS, **MARCH)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"2026-03-01": 0, "2026-03-02": 1, "2026-03-03": 0},
        "total": 1,
    }


def test_credentials_created_per_day(seeded):
    response = get(seeded, CREDENTIALS, **MARCH)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"2026-03-01": 1, "2026-03-02": 0, "2026-03-03": 1},
        "total": 2,
    }


def test_another_platform_counts_only_its_own(seeded):
    response = get(seeded, ASSERTIONS, "platform_admin_p2", org="p2", **MARCH)
    assert response.json() == {
        "data": {"2026-03-01": 0, "2026-03-02": 1, "2026-03-03": 0},
        "total": 1,
        "meta": meta(2, 0, 2, 2, 0.0, None, None),
    }
    assert get(seeded, CREDENTIALS, "platform_admin_p2", org="p2", **MARCH).json() == {
        "data": {"2026-03-01": 0, "2026-03-02": 1, "2026-03-03": 0},
        "total": 1,
    }


def test_every_day_of_the_range_is_there_in_order_zero_filled(seeded):
    response = get(seeded, COURSE_ASSERTIONS, start_date="2026-02-25", end_date="2026-03-05")
    body = response.json()
    expected = days("2026-02-25", "2026-03-05", {"2026-02-27": 1, "2026-03-02": 1, "2026-03-04": 1})
    assert list(body["data"].items()) == list(expected.items())
    assert body["total"] == 3


def test_an_empty_platform_answers_zeros(world):
    response = get(world, ASSERTIONS, start_date="2024-02-28", end_date="2024-03-01")
    assert response.json() == {
        "data": {"2024-02-28": 0, "2024-02-29": 0, "2024-03-01": 0},
        "total": 0,
        "meta": meta(0, 0, 0, 0, 0.0, 0.0, 0.0),
    }


def test_days_are_utc_days_whatever_the_time_zone(world, settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: already 3 March there
    cred = credential(world.p1, at("2026-03-02", "23:30:00"))
    AssertionFactory(credential=cred, recipient=world.users["learner_p1"],
                     issued_on=at("2026-03-02", "23:30:00"))  # fmt: skip
    for endpoint in (ASSERTIONS, CREDENTIALS):
        body = get(world, endpoint, start_date="2026-03-02", end_date="2026-03-03").json()
        assert body["data"] == {"2026-03-02": 1, "2026-03-03": 0}, endpoint


def test_a_one_day_range(seeded):
    response = get(seeded, ASSERTIONS, start_date="2026-03-02", end_date="2026-03-02")
    # The day before (1 March) had 1; the 7 and 30 days ending on 2 March as above.
    assert response.json() == {
        "data": {"2026-03-02": 2},
        "total": 2,
        "meta": meta(6, 1, 3, 4, 100.0, 300.0, 400.0),
    }


@pytest.mark.parametrize(
    ("later", "earlier", "percent"),
    [(0, 0, 0.0), (3, 0, None), (0, 4, -100.0), (4, 3, 33.33), (2, 3, -33.33), (6, 3, 100.0),
     (3, 3, 0.0), (1, 7, -85.71)],
)  # fmt: skip
def test_change_percent(later, earlier, percent):
    assert change_percent(later, earlier) == percent


# Dates -----------------------------------------------------------------------------------


@pytest.fixture
def today(monkeypatch):
    """Today (UTC) is 3 March 2026."""
    monkeypatch.setattr(selectors, "utc_today", lambda: dt.date(2026, 3, 3))
    return dt.date(2026, 3, 3)


def test_the_default_range_is_the_30_days_ending_today(seeded, today):
    expected = days("2026-02-02", "2026-03-03", {"2026-02-20": 1, "2026-02-27": 1,
                                                 "2026-03-01": 1, "2026-03-02": 2})  # fmt: skip
    body = get(seeded, ASSERTIONS).json()
    assert list(body["data"].items()) == list(expected.items())
    assert (body["total"], body["meta"]) == (5, meta(6, 4, 3, 4, 400.0, 300.0, 400.0))


def test_only_a_start_date_counts_up_to_today(seeded, today):
    body = get(seeded, CREDENTIALS, start_date="2026-02-27").json()
    created = {"2026-02-27": 1, "2026-03-01": 1, "2026-03-03": 1}
    assert body == {"data": days("2026-02-27", "2026-03-03", created), "total": 3}


def test_only_an_end_date_counts_the_30_days_ending_then(seeded, today):
    body = get(seeded, COURSE_ASSERTIONS, end_date="2026-02-28").json()
    assert body == {
        "data": days("2026-01-30", "2026-02-28", {"2026-02-20": 1, "2026-02-27": 1}),
        "total": 2,
    }


@pytest.mark.parametrize("name", ["start_date", "end_date", "department_mode", "department_id"])
def test_an_empty_parameter_is_400_naming_it(seeded, today, name):
    response = get(seeded, CREDENTIALS, **{name: ""})
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_the_real_today_is_the_utc_date():
    assert utc_today() == dt.datetime.now(dt.UTC).date()


def test_a_range_of_366_days_is_accepted_367_is_not(world):
    response = get(world, ASSERTIONS, start_date="2025-03-04", end_date="2026-03-04")
    assert response.status_code == 200
    assert len(response.json()["data"]) == 366
    response = get(world, ASSERTIONS, start_date="2025-03-03", end_date="2026-03-04")
    assert response.status_code == 400
    assert response.json() == {
        "end_date": ["A range spans at most 366 days (both dates included); this one spans 367."]
    }


def test_the_far_ends_of_the_calendar(world):
    response = get(world, ASSERTIONS, start_date="9999-12-01", end_date="9999-12-31")
    assert response.status_code == 200
    assert response.json()["total"] == 0
    response = get(world, CREDENTIALS, start_date="1900-01-01", end_date="1900-01-02")
    assert response.json() == {"data": {"1900-01-01": 0, "1900-01-02": 0}, "total": 0}


WRONG_FORMAT = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"start_date": "yesterday"}, {"start_date": [WRONG_FORMAT]}),
        ({"end_date": "2026-02-30"}, {"end_date": [WRONG_FORMAT]}),
        ({"end_date": "2026-03-01T00:00:00Z"}, {"end_date": [WRONG_FORMAT]}),
        ({"start_date": "03/01/2026"}, {"start_date": [WRONG_FORMAT]}),
        ({"start_date": "2026-03-01\x00"}, {"start_date": [WRONG_FORMAT]}),
        ({"start_date": "1899-12-31", "end_date": "1900-01-01"},
         {"start_date": ["Dates before 1900-01-01 are not accepted."]}),
        ({"start_date": "2026-03-02", "end_date": "2026-03-01"},
         {"end_date": ["end_date must not be before start_date."]}),
        ({"start_date": "2026-03-04"},
         {"start_date": ["start_date must not be after today (the default end_date)."]}),
        ({"start_date": "2025-03-02"},
         {"start_date": ["A range spans at most 366 days (both dates included); "
                         "this one spans 367."]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_dates_are_400_naming_the_parameter(world, today, endpoint, params, expected):
    response = get(world, endpoint, **params)
    assert (response.status_code, response.json()) == (400, expected)


# Department filter -------------------------------------------------------------------------


def department_params(world, department=None) -> dict:
    return {
        **MARCH,
        "department_mode": "true",
        "department_id": (department or world.department).pk,
    }


def test_department_filter_counts_only_its_members_assertions(seeded):
    # Engineering holds learner_p1: 2 on 2 March, 1 on 27 February.
    response = get(seeded, ASSERTIONS, **department_params(seeded))
    assert response.json() == {
        "data": {"2026-03-01": 0, "2026-03-02": 2, "2026-03-03": 0},
        "total": 2,
        "meta": meta(3, 1, 3, 3, 100.0, None, None),
    }
    response = get(seeded, COURSE_ASSERTIONS, **department_params(seeded))
    assert response.json()["data"] == {"2026-03-01": 0, "2026-03-02": 1, "2026-03-03": 0}


def test_department_filter_of_the_other_department(seeded):
    body = get(seeded, ASSERTIONS, **department_params(seeded, seeded.other_department)).json()
    assert (body["total"], body["meta"]["total"]) == (0, 2)


def test_credentials_belong_to_the_platform_not_filtered_by_department(seeded):
    response = get(seeded, CREDENTIALS, **department_params(seeded))
    assert response.json() == get(seeded, CREDENTIALS, **MARCH).json()


def test_department_mode_without_department_id_counts_the_whole_platform(seeded):
    response = get(seeded, ASSERTIONS, department_mode="true", **MARCH)
    assert response.json() == get(seeded, ASSERTIONS, **MARCH).json()


def test_dm_admin_may_filter_by_department(seeded):
    response = get(seeded, COURSE_ASSERTIONS, "dm_admin", **department_params(seeded))
    assert response.json() == {
        "data": {"2026-03-01": 0, "2026-03-02": 1, "2026-03-03": 0},
        "total": 1,
    }


UNKNOWN = {"department_id": ["Not a department of this platform."]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department_mode": "true", "department_id": "p2"}, UNKNOWN),  # see the test
        ({"department_mode": "true", "department_id": 999999}, UNKNOWN),
        ({"department_mode": "true", "department_id": 0}, UNKNOWN),
        ({"department_mode": "true", "department_id": -1}, UNKNOWN),
        ({"department_mode": "true", "department_id": "9" * 25}, UNKNOWN),
        ({"department_mode": "true", "department_id": "engineering"},
         {"department_id": ["A valid integer is required."]}),
        ({"department_id": "own"},
         {"department_id": ["department_id filters only with department_mode=true."]}),
        ({"department_mode": "false", "department_id": "own"},
         {"department_id": ["department_id filters only with department_mode=true."]}),
        ({"department_mode": "maybe"}, {"department_mode": ["Must be a valid boolean."]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_department_parameters_are_400(world, endpoint, params, expected):
    foreign = DepartmentFactory(platform=world.p2, name="Engineering")
    ids = {"p2": foreign.pk, "own": world.department.pk}
    params = {**params, **MARCH}
    if params.get("department_id") in ids:
        params["department_id"] = ids[params["department_id"]]
    response = get(world, endpoint, **params)
    assert (response.status_code, response.json()) == (400, expected)


# Who may call ------------------------------------------------------------------------------

MEMBERS_ONLY = {"detail": "You are not a member of this platform."}
PATH_USER = {
    "detail": "The user in the path must be you, unless you are an admin of this platform."
}
#  role:                 own path             learner_p1's path
EXPECTED = {
    "anonymous":          (401,                 401),
    "outsider":           (MEMBERS_ONLY,        MEMBERS_ONLY),
    "learner_p1":         (ADMINS_ONLY,         ADMINS_ONLY),
    "learner_p2":         (MEMBERS_ONLY,        MEMBERS_ONLY),
    "department_admin":   (ADMINS_ONLY,         PATH_USER),
    "platform_admin_p1":  (200,                 200),
    "platform_admin_p2":  (MEMBERS_ONLY,        MEMBERS_ONLY),
    "dm_admin":           (200,                 200),
}  # fmt: skip
#: The seeded totals of 1-3 March: whole platform, and Engineering only.
TOTALS = {ASSERTIONS: (3, 2), CREDENTIALS: (2, 2), COURSE_ASSERTIONS: (1, 1)}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("department_mode", [False, True])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_call(seeded, role, endpoint, department_mode):
    """Platform admins of p1 and DM admins; a department admin not even in department mode."""
    params = department_params(seeded) if department_mode else MARCH
    for user, expected in zip((role, "learner_p1"), EXPECTED[role], strict=True):
        response = get(seeded, endpoint, role, user=user, **params)
        if expected == 200:
            assert response.status_code == 200
            assert response.json()["total"] == TOTALS[endpoint][department_mode]
        elif expected == 401:
            assert response.status_code == 401
            assert response["WWW-Authenticate"] == "Api-Token"
        else:
            assert (response.status_code, response.json()) == (403, expected), user


def test_an_admin_naming_an_unknown_user_is_404(seeded):
    for user in ("nobody", "999999", "learner_p2"):
        response = get(seeded, ASSERTIONS, user=user, **MARCH)
        assert response.status_code == 404, user


def test_an_unknown_platform_is_404(seeded):
    assert get(seeded, ASSERTIONS, "dm_admin", org="nowhere", **MARCH).status_code == 404


def test_the_platform_may_be_named_by_its_org(seeded):
    response = get(seeded, CREDENTIALS, org="org-one", **MARCH)
    assert response.json()["total"] == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_only_get(seeded, endpoint):
    client = seeded.client("platform_admin_p1")
    response = client.post(url(endpoint), {}, format="json")
    assert response.status_code == 405


# Queries -----------------------------------------------------------------------------------


def queries(world, endpoint: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = get(world, endpoint, **params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_one_grouped_query_whatever_the_range(seeded, endpoint, django_assert_max_num_queries):
    get(seeded, endpoint)  # the key's last use is written once a minute: not in the counts
    short = queries(seeded, endpoint, start_date="2026-03-01", end_date="2026-03-01")
    long = queries(seeded, endpoint, start_date="2025-03-04", end_date="2026-03-04")
    filtered = queries(seeded, endpoint, start_date="2025-03-04", end_date="2026-03-04",
                       department_mode="true", department_id=seeded.department.pk)  # fmt: skip
    assert short == long and filtered == long + 1  # the department's lookup
    # Key, platform, membership; then the counts (and the meta's aggregate).
    with django_assert_max_num_queries(5 if endpoint == ASSERTIONS else 4):
        get(seeded, endpoint, start_date="2025-03-04", end_date="2026-03-04")


def test_the_counts_are_grouped_by_day_in_the_database(seeded):
    with CaptureQueriesContext(connection) as captured:
        get(seeded, ASSERTIONS, start_date="2025-03-04", end_date="2026-03-04")
    grouped = [q["sql"] for q in captured if "GROUP BY" in q["sql"].upper()]
    assert len(grouped) == 1


def test_the_sdk_format_parameter_and_the_browsable_api(seeded):
    response = get(seeded, CREDENTIALS, format="json", **MARCH)
    assert response.json()["total"] == 2
    client = seeded.client("platform_admin_p1")
    page = client.get(url(CREDENTIALS), MARCH, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"2026-03-03" in page.content
