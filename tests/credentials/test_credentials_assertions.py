"""Assertions: issue one, the lists, one assertion (revoke, answer), the public read
(contract ``credentials-lifecycle.md``, "Assertions")."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.utils import timezone

from ibl_credentials.assertions import services
from ibl_credentials.models import Assertion, Credential
from tests.conftest import ROLES
from tests.support.assertion_helpers import (
    assertion_json,
    credential_url,
    detail_url,
    page,
    public_url,
    user_url,
    z,
)
from tests.support.credentials_factories import (
    AssertionFactory,
    CredentialFactory,
    CredentialItemFactory,
    IssuerFactory,
)
from tests.support.factories import CourseFactory, PathwayFactory, ProgramFactory

pytestmark = pytest.mark.django_db

COURSE = "course-v1:org+python+2026"
NO_USER = {"recipient": {"identity": ["No such user on this platform."]}}
ONE_ITEM = {"program": ["Send at most one of course, program and pathway."]}
NO_REASON = {"revocationReason": ["A reason is required to revoke an assertion."]}
REASON_ALONE = {"revoked": ["revocationReason is sent only with revoked: true."]}
NOT_BOOL = {"revoked": ["Must be a valid boolean."]}


@pytest.fixture
def credential(world):
    course = CourseFactory(platform=world.p1, course_id=COURSE, name="Python 101")
    credential = CredentialFactory(
        issuer=IssuerFactory(platform=world.p1, entity_id="issuer-p1"),
        entity_id="cred-python",
        name="Python badge",
        description="Knows Python",
        icon_image="https://img.example.org/python.png",
    )
    credential.course = course
    return credential


def issue(world, body, role="platform_admin_p1", entity_id="cred-python", user=None, **kw):
    return world.client(role).post(
        credential_url(entity_id, user or role), body, format="json", **kw
    )


def assertion_of(world, username="learner_p1", **filters) -> Assertion:
    return Assertion.objects.get(recipient=world.users[username], **filters)


# Issue one ------------------------------------------------------------------------


def test_issue_answers_201_with_the_exact_assertion(world, credential):
    before = timezone.now()
    response = issue(
        world,
        {
            "recipient": {"identity": "learner_p1"},
            "course": COURSE,
            "narrative": "Passed with honours",
            "evidence": [{"url": "https://example.org/proof", "narrative": "The exam"}],
            "metadata": {"grade": 0.9},
        },
    )
    assert response.status_code == 201, response.content
    assertion = assertion_of(world)
    assert response.json() == assertion_json(assertion)
    body = response.json()
    assert body["course"] == {"key": COURSE, "name": "Python 101"}
    assert body["program"] == body["pathway"] == {}
    assert body["expires"] == "" and body["revocationReason"] == ""
    assert body["credentialDetails"]["issuer"] == "issuer-p1"
    assert body["recipient"]["user_id"] == str(world.users["learner_p1"].pk)
    assert body["issuedOn"].endswith("Z")
    assert body["evidence"] == [{"url": "https://example.org/proof", "narrative": "The exam"}]
    assert assertion.issued_by == world.users["platform_admin_p1"]
    assert assertion.issued_on >= before and assertion.acceptance == "Unaccepted"
    assert len(assertion.entity_id) >= 22  # 128 random bits, URL-safe


@pytest.mark.parametrize(
    "identity", ["learner_p1", "LEARNER_P1@example.com", "learner_p1@example.com", "id", "id-int"]
)
def test_recipient_by_username_email_or_id(world, credential, identity):
    pk = world.users["learner_p1"].pk
    identity = {"id": str(pk), "id-int": pk}.get(identity, identity)
    response = issue(world, {"recipient": {"identity": identity}})
    assert response.status_code == 201, response.content
    assert response.json()["recipient"]["username"] == "learner_p1"
    assert response.json()["course"] == {}


def test_an_issue_runs_a_fixed_number_of_queries(world, credential, django_assert_max_num_queries):
    """Key, platform, membership, credential, recipient, the item and the credential's
    items, then the lock, the active check, the insert (in a savepoint) and the event
    in a transaction: nothing read back (the test's transaction turns BEGIN/COMMIT into
    a savepoint and its release)."""
    issue(world, {"recipient": {"identity": "learner_p2"}})  # the key's last_used, once
    with django_assert_max_num_queries(15):
        response = issue(world, {"recipient": {"identity": "learner_p1"}, "course": COURSE})
    assert response.status_code == 201
    with django_assert_max_num_queries(13):  # no item: two lookups fewer
        response = issue(world, {"recipient": {"identity": "learner_p1"}}, entity_id="cred-python")
    assert response.status_code == 201


def test_the_recipient_read_with_the_lookup_defers_what_it_did_not_read(world):
    """The single issue's recipient holds the columns the answer shows; any other is
    read from the database when asked for, never a default standing in for it."""
    learner = world.users["learner_p1"]
    learner.is_staff = True
    learner.save(update_fields=["is_staff"])
    recipient = services.recipient_for_issue(world.p1, "learner_p1", None)
    assert (recipient.pk, recipient.username, recipient.email) == (
        learner.pk,
        "learner_p1",
        "learner_p1@example.com",
    )
    assert {"is_staff", "date_joined"} <= recipient.get_deferred_fields()
    assert recipient.is_staff is True
    assert recipient.date_joined == learner.date_joined


@pytest.mark.parametrize(
    "metadata",
    [
        {"a": 1, "bb": [1.5, {"x": "y"}], "ccc": None},  # as jsonb keeps it
        {"zeta": 1, "a": {"bb": 1e16, "c": -0.0}, "grade": 0.9},  # jsonb rewrites it
    ],
)
def test_an_issue_answers_its_json_as_the_database_gives_it_back(world, credential, metadata):
    """The answer and the event are built from the write, not read back, but their bytes
    are those of the stored row: PostgreSQL's jsonb reorders keys and rewrites some
    numbers, and such a body is read back (services.stored_as_given)."""
    from rest_framework.renderers import JSONRenderer

    from ibl_core.models import Event
    from ibl_credentials.assertions.shapes import RELATED, assertion_object

    evidence = [{"url": "https://example.org/proof", "narrative": "The exam"}]
    body = {"recipient": {"identity": "learner_p1"}, "metadata": metadata, "evidence": evidence}
    response = issue(world, body)
    assert response.status_code == 201, response.content
    stored = Assertion.objects.select_related(*RELATED).get(recipient=world.users["learner_p1"])
    expected = assertion_object(stored)
    for url in ("verifyUrl", "imageUrl"):  # the request's host, which this test has not
        expected[url] = response.json()[url]
    assert response.content == JSONRenderer().render(expected)
    event = Event.objects.get(type="assertion.issued", object_id=stored.entity_id)
    assert event.payload == response.json()


def test_issue_again_answers_the_active_one_with_200(world, credential):
    first = issue(world, {"recipient": {"identity": "learner_p1"}, "course": COURSE})
    again = issue(world, {"recipient": {"identity": "learner_p1"}, "course": COURSE})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Assertion.objects.count() == 1
    # Another item of the same credential is another assertion.
    other = issue(world, {"recipient": {"identity": "learner_p1"}})
    assert other.status_code == 201 and Assertion.objects.count() == 2


def test_an_expired_assertion_is_superseded_by_a_new_one(world, credential):
    old = AssertionFactory(
        credential=credential,
        recipient=world.users["learner_p1"],
        item_kind="course",
        item_key=COURSE,
        expires=timezone.now() - dt.timedelta(days=1),
    )
    response = issue(world, {"recipient": {"identity": "learner_p1"}, "course": COURSE})
    assert response.status_code == 201
    old.refresh_from_db()
    assert old.superseded and not old.revoked
    assert response.json()["entityId"] != old.entity_id
    assert Assertion.objects.filter(superseded=False).count() == 1


def test_a_revoked_assertion_does_not_block_a_new_one(world, credential):
    AssertionFactory(credential=credential, recipient=world.users["learner_p1"], revoked=True)
    response = issue(world, {"recipient": {"identity": "learner_p1"}})
    assert response.status_code == 201
    assert Assertion.objects.filter(revoked=False).count() == 1


@pytest.mark.parametrize(
    ("amount", "duration", "delta"),
    [(10, "days", dt.timedelta(days=10)), (2, "weeks", dt.timedelta(weeks=2))],
)
def test_expires_follows_the_credential_rule(world, credential, amount, duration, delta):
    Credential.objects.filter(pk=credential.pk).update(
        expires_amount=amount, expires_duration=duration
    )
    response = issue(world, {"recipient": {"identity": "learner_p1"}})
    assertion = assertion_of(world)
    assert assertion.expires == assertion.issued_on + delta
    assert response.json()["expires"] == z(assertion.expires)


@pytest.mark.parametrize(
    ("start", "amount", "duration", "expected"),
    [
        (dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC), 1, "months", dt.datetime(2026, 2, 28, 12)),
        (dt.datetime(2028, 1, 31, 12, tzinfo=dt.UTC), 1, "months", dt.datetime(2028, 2, 29, 12)),
        (dt.datetime(2026, 11, 15, tzinfo=dt.UTC), 3, "months", dt.datetime(2027, 2, 15)),
        (dt.datetime(2028, 2, 29, tzinfo=dt.UTC), 1, "years", dt.datetime(2029, 2, 28)),
        (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), 2, "years", dt.datetime(2028, 3, 1)),
    ],
)
def test_months_and_years_are_calendar_aware(start, amount, duration, expected):
    credential = Credential(expires_amount=amount, expires_duration=duration)
    assert services.expiry_from_rule(credential, start) == expected.replace(tzinfo=dt.UTC)


def test_expires_given_wins_over_the_rule(world, credential):
    Credential.objects.filter(pk=credential.pk).update(expires_amount=1, expires_duration="days")
    response = issue(
        world, {"recipient": {"identity": "learner_p1"}, "expires": "2099-06-15T14:30:00Z"}
    )
    assert response.status_code == 201
    assert response.json()["expires"] == "2099-06-15T14:30:00Z"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"recipient": "learner_p1"}, None),
        ({"recipient": {"identity": ""}}, None),
        ({"recipient": {"identity": True}}, None),
        ({"recipient": {"identity": "nobody"}}, NO_USER),
        ({"recipient": {"identity": "learner_p2"}}, NO_USER),
        ({"course": "course-v1:nope"}, {"course": ["No such course on this platform."]}),
        ({"course": COURSE, "program": "x"}, ONE_ITEM),
        ({"course": 5}, {"course": ["Not a valid string."]}),
        ({"metadata": [1]}, {"metadata": ["A JSON object is required."]}),
        ({"metadata": {"a": [[[[[[[[[[[1]]]]]]]]]]]}}, None),
        ({"expires": "2001-01-01T00:00:00Z"}, {"expires": ["Must be in the future."]}),
        ({"expires": "soon"}, None),
        ({"evidence": [{"url": "javascript:alert(1)"}]}, None),
        ({"evidence": {"url": "https://x.org"}}, None),
    ],
)  # fmt: skip
def test_bad_issue_bodies_are_400_and_change_nothing(world, credential, body, errors):
    if "recipient" not in body:  # without one, the path user receives it (client bodies)
        body = {"recipient": {"identity": "learner_p1"}, **body}
    response = issue(world, body)
    assert response.status_code == 400, response.content
    if errors is not None:
        assert response.json() == errors
    assert not Assertion.objects.exists()


def test_the_item_must_be_one_the_credential_lists(world, credential):
    CredentialItemFactory(credential=credential, kind="course", key=COURSE)
    other = CourseFactory(platform=world.p1, course_id="course-v1:org+other+2026")
    response = issue(world, {"recipient": {"identity": "learner_p1"}, "course": other.course_id})
    assert response.status_code == 400
    assert response.json() == {"course": ["This credential is not earned for this course."]}
    # A kind the credential lists nothing of: any item of the catalog.
    program = ProgramFactory(platform=world.p1, program_key="program-v1:org+p+r", name="Prog")
    response = issue(
        world, {"recipient": {"identity": "learner_p1"}, "program": "program-v1:org+p+r"}
    )
    assert response.status_code == 201
    assert response.json()["program"] == {"key": program.program_key, "name": "Prog"}
    assert (
        issue(world, {"recipient": {"identity": "learner_p1"}, "course": COURSE}).status_code == 201
    )


def test_an_item_of_another_platform_is_unknown(world, credential):
    CourseFactory(platform=world.p2, course_id="course-v1:p2+c+r")
    pathway = PathwayFactory(platform=world.p2)
    for field, key in (("course", "course-v1:p2+c+r"), ("pathway", str(pathway.pathway_id))):
        response = issue(world, {"recipient": {"identity": "learner_p1"}, field: key})
        assert response.status_code == 400
        assert response.json() == {field: [f"No such {field} on this platform."]}


def test_a_credential_of_another_platform_is_404(world, credential):
    CredentialFactory(issuer__platform=world.p2, entity_id="cred-p2")
    for entity_id in ("cred-p2", "missing"):
        response = issue(world, {"recipient": {"identity": "learner_p1"}}, entity_id=entity_id)
        assert response.status_code == 404
        assert response.json() == {"detail": "Credential not found."}


@pytest.mark.parametrize("reserved", ["assertions", "Assertions", "bulk", "images"])
def test_a_credential_named_like_a_literal_segment_is_404_not_405(world, credential, reserved):
    # "assertions/assertions/" is the issue path of a credential named "assertions"
    # (none can be: reserved), not a POST to an assertion named "assertions" (405).
    response = issue(world, {"recipient": {"identity": "learner_p1"}}, entity_id=reserved)
    assert (response.status_code, response.json()) == (404, {"detail": "Credential not found."})
    # An assertion's own routes still answer a missing one as before.
    client = world.client("learner_p1")
    assert client.get(detail_url("missing")).status_code == 404


# Who may issue ------------------------------------------------------------------------

#  role:                          issue to learner_p1   to learner_other_department
ISSUE_EXPECTED = {
    "anonymous":                  (401, 401),
    "outsider":                   (403, 403),
    "learner_p1":                 (403, 403),
    "learner_p2":                 (403, 403),
    "department_admin":           (403, 403),
    "department_admin+mode":      (201, 403),
    "platform_admin_p1":          (201, 201),
    "platform_admin_p2":          (403, 403),
    "dm_admin":                   (201, 201),
}  # fmt: skip


def test_issue_matrix_covers_every_role():
    assert {role.split("+")[0] for role in ISSUE_EXPECTED} == set(ROLES)


@pytest.mark.parametrize("role", ISSUE_EXPECTED)
@pytest.mark.parametrize("recipient", ["learner_p1", "learner_other_department"])
def test_issue_access(world, credential, role, recipient):
    name, _, mode = role.partition("+")
    body = {"recipient": {"identity": recipient}}
    if mode:
        body["department_mode"] = True
    path_user = name if name != "anonymous" else "learner_p1"
    response = issue(world, body, role=name, user=path_user)
    expected = ISSUE_EXPECTED[role][recipient != "learner_p1"]
    assert response.status_code == expected, response.content
    assert Assertion.objects.exists() is (expected == 201)


def test_department_admin_gets_one_403_for_outsiders_and_unknown_users(world, credential):
    message = {"detail": "This user is not in a department you administer."}
    for identity in ("learner_other_department", "nobody", "learner_p2", "platform_admin_p1"):
        response = issue(
            world,
            {"recipient": {"identity": identity}, "department_mode": True},
            role="department_admin",
        )
        assert (response.status_code, response.json()) == (403, message)


def test_only_issuers_are_told_why(world, credential):
    response = issue(world, {"recipient": {"identity": "learner_p1"}}, role="learner_p1")
    assert response.json() == {
        "detail": "Only platform admins, or department admins with department_mode=true, "
        "may issue, revoke or list a credential's assertions."
    }


# Lists ----------------------------------------------------------------------------


@pytest.fixture
def assorted(world, credential):
    """learner_p1: active, revoked, expired, superseded, and one of another course."""
    learner = world.users["learner_p1"]
    now = timezone.now()
    make = AssertionFactory
    return {
        "active": make(
            credential=credential,
            recipient=learner,
            item_kind="course",
            item_key=COURSE,
            item_name="Python 101",
            issued_on=now - dt.timedelta(hours=1),
        ),
        "revoked": make(
            credential=credential,
            recipient=learner,
            revoked=True,
            revocation_reason="Cheated",
            issued_on=now - dt.timedelta(hours=2),
        ),
        "expired": make(
            credential=credential,
            recipient=learner,
            item_kind="program",
            item_key="p",
            expires=now - dt.timedelta(minutes=1),
            issued_on=now - dt.timedelta(hours=3),
        ),
        "superseded": make(
            credential=credential,
            recipient=learner,
            item_kind="pathway",
            item_key="w",
            superseded=True,
            expires=now - dt.timedelta(days=1),
            issued_on=now - dt.timedelta(hours=4),
        ),
        "other_course": make(
            credential=credential,
            recipient=learner,
            item_kind="course",
            item_key="course-v1:other",
            issued_on=now - dt.timedelta(hours=5),
            expires=now + dt.timedelta(days=30),
        ),
        "someone_else": make(
            credential=credential, recipient=world.users["learner_other_department"]
        ),
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["active", "other_course"]),
        (f"?course={quote(COURSE)}", ["active"]),
        ("?include_revoked=true", ["active", "revoked", "other_course"]),
        ("?include_expired=1", ["active", "expired", "superseded", "other_course"]),
        (
            "?include_revoked=true&include_expired=true",
            ["active", "revoked", "expired", "superseded", "other_course"],
        ),
        ("?include_revoked=false&include_expired=no", ["active", "other_course"]),
    ],
)
def test_user_list_filters(world, assorted, query, names):
    response = world.client("learner_p1").get(user_url() + query)
    assert response.status_code == 200
    assert response.json() == page([assertion_json(assorted[name]) for name in names])


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("?include_revoked=maybe", {"include_revoked": ["Must be a boolean (true or false)."]}),
        ("?include_expired=", {"include_expired": ["Must be a boolean (true or false)."]}),
        ("?course=", {"course": ["A course key is required."]}),
        ("?page=0", {"page": ["A positive integer is required."]}),
        ("?page_size=x", {"page_size": ["A positive integer is required."]}),
    ],
)
def test_user_list_bad_parameters_are_400(world, assorted, query, errors):
    response = world.client("learner_p1").get(user_url() + query)
    assert (response.status_code, response.json()) == (400, errors)


def test_user_list_pages(world, credential):
    learner = world.users["learner_p1"]
    for n in range(12):
        AssertionFactory(
            credential=credential, recipient=learner, item_kind="course", item_key=f"c{n}"
        )
    first = world.client("learner_p1").get(user_url() + "?page_size=5&page=2").json()
    assert first["count"] == 12 and first["num_pages"] == 3 and first["page_number"] == 2
    assert len(first["data"]) == 5 and first["max_page_size"] == 1000
    assert first["next"] == "http://testserver" + user_url() + "?page=3&page_size=5"
    assert first["previous"] == "http://testserver" + user_url() + "?page_size=5"
    default = world.client("learner_p1").get(user_url()).json()
    assert len(default["data"]) == 10 and default["num_pages"] == 2
    clamped = world.client("learner_p1").get(user_url() + "?page_size=5000").json()
    assert len(clamped["data"]) == 12
    past = world.client("learner_p1").get(user_url() + "?page=9")
    assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})


def test_user_list_of_1000_in_fixed_queries(world, credential, django_assert_max_num_queries):
    learner = world.users["learner_p1"]
    Assertion.objects.bulk_create(
        AssertionFactory.build(
            credential=credential, recipient=learner, item_kind="course", item_key=f"c{n}"
        )
        for n in range(1000)
    )
    client = world.client("platform_admin_p1")
    with django_assert_max_num_queries(8):
        response = client.get(user_url() + "?page_size=1000")
    assert len(response.json()["data"]) == 1000
    with django_assert_max_num_queries(8):
        response = client.get(credential_url("cred-python") + "?page_size=1000")
    assert len(response.json()["data"]) == 1000


def test_credential_list_reads_the_same_rows_in_three_queries(
    world, credential, assorted, django_assert_max_num_queries
):
    """The usual request (an admin, no filter) is read by statements compiled once: the
    key with its platform and membership, the credential, the page (and the count when
    the page is not the last); its pages are those the ORM's querysets read."""
    from ibl_core.models import APIKey
    from ibl_credentials.assertions import selectors
    from ibl_credentials.assertions.shapes import assertion_object

    learner = world.users["learner_p1"]
    Assertion.objects.bulk_create(
        AssertionFactory.build(
            credential=credential, recipient=learner, item_kind="course", item_key=f"c{n}"
        )
        for n in range(25)
    )
    client = world.client("platform_admin_p1")
    client.get(credential_url("cred-python"))  # last_used written once
    APIKey.objects.update(last_used=timezone.now())
    through_orm = list(selectors.ListQuery().apply(selectors.assertions_of_credential(credential)))
    assert len(through_orm) == 28  # the 25, active, other_course and someone_else
    for number in (1, 2, 3):
        with django_assert_max_num_queries(4 if number < 3 else 3):
            response = client.get(credential_url("cred-python") + f"?page_size=10&page={number}")
        body = response.json()
        assert response.status_code == 200 and body["count"] == 28 and body["num_pages"] == 3
        window = through_orm[(number - 1) * 10 : number * 10]
        # The Open Badges URLs are absolute in a request only: compared with the host.
        expected = [assertion_object(a) for a in window]
        for item in expected:
            for name in ("verifyUrl", "imageUrl"):
                item[name] = "http://testserver" + item[name]
        assert body["data"] == expected
    missing = client.get(credential_url("no-such-credential"))
    assert (missing.status_code, missing.json()) == (404, {"detail": "Credential not found."})


#  role:                   own list   learner_p1's list   credential's list
LIST_EXPECTED = {
    "anonymous":             (401,     401,                401),
    "outsider":              (403,     403,                403),
    "learner_p1":            (200,     200,                403),
    "learner_p2":            (403,     403,                403),
    "department_admin":      (200,     403,                403),
    "department_admin+mode": (200,     200,                200),
    "platform_admin_p1":     (200,     200,                200),
    "platform_admin_p2":     (403,     403,                403),
    "dm_admin":              (200,     200,                200),
}  # fmt: skip


@pytest.mark.parametrize("role", LIST_EXPECTED)
@pytest.mark.parametrize("operation", [0, 1, 2])
def test_list_access(world, assorted, role, operation):
    name, _, mode = role.partition("+")
    query = "?department_mode=true" if mode else ""
    own = name if name != "anonymous" else "learner_p1"
    url = [user_url(own), user_url("learner_p1"), credential_url("cred-python", own)][operation]
    response = world.client(name).get(url + query)
    assert response.status_code == LIST_EXPECTED[role][operation], response.content


def test_department_admin_cannot_probe_users(world, assorted):
    client = world.client("department_admin")
    for user in ("learner_other_department", "nobody", "learner_p2"):
        response = client.get(user_url(user) + "?department_mode=true")
        assert response.status_code == 403
    assert world.client("platform_admin_p1").get(user_url("nobody")).status_code == 404


def test_credential_list_for_a_department_admin_shows_their_departments(world, assorted):
    response = world.client("department_admin").get(
        credential_url("cred-python", "department_admin") + "?department_mode=true"
    )
    assert response.json() == page(
        [assertion_json(assorted["active"]), assertion_json(assorted["other_course"])]
    )
    everyone = world.client("platform_admin_p1").get(credential_url("cred-python")).json()
    assert [a["entityId"] for a in everyone["data"]] == [
        assorted[name].entity_id for name in ("someone_else", "active", "other_course")
    ]


def test_credential_list_of_another_platform_is_404(world, credential):
    CredentialFactory(issuer__platform=world.p2, entity_id="cred-p2")
    response = world.client("platform_admin_p1").get(credential_url("cred-p2"))
    assert (response.status_code, response.json()) == (404, {"detail": "Credential not found."})


# One assertion ------------------------------------------------------------------------


@pytest.fixture
def held(world, credential):
    return AssertionFactory(credential=credential, recipient=world.users["learner_p1"])


#  role: GET learner_p1's assertion (department_admin+mode: department_mode in the query)
DETAIL_EXPECTED = {
    "anonymous": 401,
    "outsider": 403,
    "learner_p1": 200,
    "learner_p2": 403,
    "learner_other_department": 404,
    "department_admin": 404,
    "department_admin+mode": 200,
    "platform_admin_p1": 200,
    "platform_admin_p2": 403,
    "dm_admin": 200,
}


@pytest.mark.parametrize("role", DETAIL_EXPECTED)
def test_detail_access(world, held, role):
    name, _, mode = role.partition("+")
    own = name if name != "anonymous" else "learner_p1"
    url = detail_url(held.entity_id, own) + ("?department_mode=true" if mode else "")
    response = world.client(name).get(url)
    assert response.status_code == DETAIL_EXPECTED[role], response.content
    if response.status_code == 200:
        assert response.json() == assertion_json(held)
    if response.status_code == 404:
        assert response.json() == {"detail": "Assertion not found."}


def test_detail_with_a_trailing_slash_and_across_tenants(world, held):
    client = world.client("learner_p1")
    assert client.get(detail_url(held.entity_id) + "/").json() == assertion_json(held)
    # p2's admin on p2's path: p1's assertion does not exist there.
    response = world.client("platform_admin_p2").get(
        detail_url(held.entity_id, "platform_admin_p2", "p2")
    )
    assert (response.status_code, response.json()) == (404, {"detail": "Assertion not found."})
    response = world.client("dm_admin").get(detail_url(held.entity_id, "dm_admin", "p2"))
    assert response.status_code == 404
    assert client.get(detail_url("missing")).status_code == 404


def put(world, held, body, role="platform_admin_p1", query=""):
    return world.client(role).put(detail_url(held.entity_id, role) + query, body, format="json")


def test_an_admin_revokes_with_a_reason(world, held):
    response = put(world, held, {"revoked": True, "revocationReason": "  Cheated  "})
    assert response.status_code == 200, response.content
    held.refresh_from_db()
    assert held.revoked and held.revocation_reason == "Cheated" and held.revoked_at is not None
    assert response.json() == assertion_json(held)
    # Revoking again changes nothing: the first reason and time stay.
    revoked_at = held.revoked_at
    again = put(world, held, {"revoked": True, "revocationReason": "Other"})
    assert again.status_code == 200 and again.json()["revocationReason"] == "Cheated"
    held.refresh_from_db()
    assert held.revoked_at == revoked_at
    # Un-revoking is refused.
    back = put(world, held, {"revoked": False})
    assert (back.status_code, back.json()) == (
        400,
        {"revoked": ["A revoked assertion cannot be un-revoked."]},
    )
    held.refresh_from_db()
    assert held.revoked


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"revoked": True}, NO_REASON),
        ({"revoked": True, "revocationReason": "  "}, NO_REASON),
        ({"revocationReason": "x"}, REASON_ALONE),
        ({"revoked": "perhaps", "revocationReason": "x"}, NOT_BOOL),
        ({}, {"non_field_errors": ["Send revoked with revocationReason, or acceptance."]}),
    ],
)  # fmt: skip
def test_bad_revocations_are_400(world, held, body, errors):
    response = put(world, held, body)
    assert (response.status_code, response.json()) == (400, errors)
    held.refresh_from_db()
    assert not held.revoked


#  role:                    revoke   accept (learner_p1's assertion)
PUT_EXPECTED = {
    "learner_p1":             (403,    200),
    "learner_other_department": (404, 404),
    "department_admin":       (404,    404),
    "department_admin+mode":  (200,    403),
    "platform_admin_p1":      (200,    403),
    "dm_admin":               (200,    403),
    "anonymous":              (401,    401),
}  # fmt: skip


@pytest.mark.parametrize("role", PUT_EXPECTED)
@pytest.mark.parametrize("operation", [0, 1])
def test_put_access(world, held, role, operation):
    name, _, mode = role.partition("+")
    body = (
        {"revoked": True, "revocationReason": "Fraud"}
        if operation == 0
        else {"acceptance": "Accepted"}
    )
    if mode:
        body["department_mode"] = True
    own = name if name != "anonymous" else "learner_p1"
    response = world.client(name).put(detail_url(held.entity_id, own), body, format="json")
    assert response.status_code == PUT_EXPECTED[role][operation], response.content
    held.refresh_from_db()
    assert held.revoked is (operation == 0 and response.status_code == 200)
    assert (held.acceptance == "Accepted") is (operation == 1 and response.status_code == 200)


def test_the_recipient_answers(world, held):
    response = put(world, held, {"acceptance": "Rejected"}, role="learner_p1")
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.acceptance == "Rejected" and response.json() == assertion_json(held)
    for bad in ("Unaccepted", "accepted", 1):
        response = put(world, held, {"acceptance": bad}, role="learner_p1")
        assert response.status_code == 400
        assert list(response.json()) == ["acceptance"]
    held.refresh_from_db()
    assert held.acceptance == "Rejected"


def test_a_revoked_assertion_cannot_be_answered(world, held):
    Assertion.objects.filter(pk=held.pk).update(revoked=True, revocation_reason="x")
    response = put(world, held, {"acceptance": "Accepted"}, role="learner_p1")
    assert (response.status_code, response.json()) == (
        400,
        {"acceptance": ["A revoked assertion cannot be accepted or rejected."]},
    )


def test_forbidden_messages(world, held):
    response = put(world, held, {"revoked": True, "revocationReason": "x"}, role="learner_p1")
    assert response.json() == {
        "detail": "Only admins who manage the recipient may revoke this assertion."
    }
    response = put(world, held, {"acceptance": "Accepted"})
    assert response.json() == {"detail": "Only the recipient may accept or reject this assertion."}


# Public ---------------------------------------------------------------------------


def test_public_read_shows_the_name_only(world, held):
    client = world.client("anonymous")
    response = client.get(public_url(held.entity_id))
    assert response.status_code == 200
    assert response.json() == assertion_json(held, public=True)
    assert "learner_p1" not in response.content.decode()
    # A bad token is ignored, not a 401.
    client.credentials(HTTP_AUTHORIZATION="Api-Token " + "0" * 64)
    assert client.get(public_url(held.entity_id)).status_code == 200


def test_public_read_of_unknown_and_revoked(world, held):
    client = world.client("anonymous")
    unknown = client.get(public_url("missing"))
    # JSON like every error under /api/ (an empty body had no content type).
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json"
    assert unknown.json() == {"detail": "No assertion with this entityId."}
    Assertion.objects.filter(pk=held.pk).update(revoked=True, revocation_reason="Cheated")
    revoked = client.get(public_url(held.entity_id))
    assert (revoked.status_code, revoked.json()) == (
        404,
        {"detail": "This assertion has been revoked.", "revocationReason": "Cheated"},
    )


def test_public_read_in_fixed_queries(world, held, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert world.client("anonymous").get(public_url(held.entity_id)).status_code == 200


# Admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["dm_admin"])
    return client


def test_admin_revoke_action_needs_a_reason(admin_client, world, held):
    other = AssertionFactory(credential=held.credential, recipient=world.users["department_admin"])
    url = "/admin/ibl_credentials/assertion/"
    ids = [held.pk, other.pk]
    response = admin_client.post(
        url, {"action": "revoke", "_selected_action": ids, "reason": " "}, follow=True
    )
    assert "Type a revocation reason" in response.content.decode()
    assert not Assertion.objects.filter(revoked=True).exists()
    response = admin_client.post(
        url, {"action": "revoke", "_selected_action": ids, "reason": "Fraud"}, follow=True
    )
    assert "Revoked 2 assertion(s)." in response.content.decode()
    for assertion in (held, other):
        assertion.refresh_from_db()
        assert assertion.revoked and assertion.revocation_reason == "Fraud"
        assert assertion.revoked_at is not None


def test_admin_pages(admin_client, world, held, django_assert_max_num_queries):
    for n in range(5):
        AssertionFactory(credential=held.credential, item_kind="course", item_key=f"c{n}")
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/ibl_credentials/assertion/?q=learner")
    assert response.status_code == 200 and held.entity_id in response.content.decode()
    page_html = admin_client.get(f"/admin/ibl_credentials/assertion/{held.pk}/change/")
    assert public_url(held.entity_id) in page_html.content.decode()


def test_admin_corrects_an_assertion_but_does_not_reissue_it(admin_client, world, held):
    assert admin_client.get("/admin/ibl_credentials/assertion/add/").status_code == 403
    url = f"/admin/ibl_credentials/assertion/{held.pk}/change/"
    form = {
        "narrative": "Corrected.",
        "evidence": "[]",
        "metadata": '{"fixed": true}',
        "expires_0": "",
        "expires_1": "",
        # read-only fields sent anyway are ignored
        "recipient": world.users["learner_p2"].pk,
        "revoked": "on",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    held.refresh_from_db()
    assert (held.narrative, held.metadata) == ("Corrected.", {"fixed": True})
    assert (held.recipient, held.revoked) == (world.users["learner_p1"], False)


def test_losing_the_race_answers_the_winner(world, credential, monkeypatch):
    """The one-active constraint decides: an issue whose insert it refuses answers 200
    with the assertion that got in first (the _postgres tests show it with threads).
    Here the competitor is written between the service's check and its insert."""

    def competitor_then_no_expiry(credential, issued_on):
        AssertionFactory(
            credential=credential, recipient=world.users["learner_p1"], entity_id="first"
        )
        return None

    monkeypatch.setattr(services, "expiry_from_rule", competitor_then_no_expiry)
    response = issue(world, {"recipient": {"identity": "learner_p1"}})
    assert response.status_code == 200
    assert response.json()["entityId"] == "first"
    assert Assertion.objects.count() == 1


def test_browsable_api_pages(client, world, held):
    client.force_login(world.users["dm_admin"])
    pages = {
        user_url("dm_admin"): 200,
        detail_url(held.entity_id, "dm_admin"): 200,
        credential_url("cred-python", "dm_admin"): 200,
        credential_url("cred-python", "dm_admin") + "bulk/": 405,
        public_url(held.entity_id): 200,
    }
    for url, expected in pages.items():
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == expected
        assert b"should either include" not in response.content


@pytest.mark.parametrize("role", ["learner_p1", "platform_admin_p1", "department_admin"])
def test_a_malformed_department_mode_is_400_for_every_caller(world, role):
    # (a learner may not read a credential's list at all: 403 before its parameters)
    urls = [user_url(role)] + (
        [] if role == "learner_p1" else [credential_url("cred-python", role)]
    )
    for url in urls:
        response = world.client(role).get(url, {"department_mode": "maybe"})
        assert response.status_code == 400, url
        assert list(response.json()) == ["department_mode"]


@pytest.mark.parametrize(
    ("role", "body"),
    [
        ("platform_admin_p1", {"revoked": True, "revocationReason": "Cheated"}),
        ("learner_p1", {"acceptance": "Accepted"}),
    ],
)
def test_a_put_racing_the_credentials_delete_is_404(world, held, monkeypatch, role, body):
    """The credential (its assertions all inactive) is deleted between the PUT's read of
    the assertion and its write: 404, as if the delete had come first, and no event."""
    from ibl_core.models import Event

    Assertion.objects.filter(pk=held.pk).update(superseded=True)
    real = services.update_assertion

    def delete_first(assertion, changes):
        Credential.objects.filter(pk=assertion.credential_id).delete()
        return real(assertion, changes)

    monkeypatch.setattr(services, "update_assertion", delete_first)
    response = put(world, held, body, role=role)
    assert (response.status_code, response.json()) == (404, {"detail": "Assertion not found."})
    assert not Assertion.objects.filter(pk=held.pk).exists()
    assert not Event.objects.filter(object_id=held.entity_id).exists()
