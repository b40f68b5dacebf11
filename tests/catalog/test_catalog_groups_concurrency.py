"""A group's fan-out racing direct writes of the same users (PostgreSQL).

Every answer is 200 (no 500, no deadlock) and the end state is what the requests
say in any order: every member has the suggestion, supported by the group
suggestion; those written directly are direct and survive the group suggestion.
"""

from __future__ import annotations

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS as KIND
from ibl_catalog.models import ProgramGroupSupport, ProgramSuggestion
from ibl_core.tenancy.groups import create_or_update_group
from tests.catalog.test_catalog_concurrency import many_learners
from tests.support.catalog_helpers import group_url, manage_url
from tests.support.factories import (
    MembershipFactory,
    PlatformFactory,
    ProgramFactory,
    UserFactory,
    issue_key,
)
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES


def setup(size=300):
    from rest_framework.test import APIClient

    platform = PlatformFactory(key="race")
    admin = UserFactory()
    MembershipFactory(user=admin, platform=platform, is_admin=True)
    learners = many_learners(platform, size)
    group, _ = create_or_update_group(platform, "Everyone", add=learners)
    program = ProgramFactory(platform=platform)
    key = issue_key(admin, platform)

    def client():
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Api-Token {key}")
        return c

    return platform, learners, group, program, client


def test_fan_out_races_direct_posts_and_bulks_of_overlapping_users():
    _, learners, group, program, client = setup()
    group_body = {"platform_key": "race", "group_id": group.pk, "program_key": program.program_key}
    direct_users = learners[::37]  # spread over the whole (user, item) order
    bulk_users = learners[100:160]

    def direct(user):
        body = {"platform_key": "race", "user_id": user.pk, "program_key": program.program_key,
                "accepted": True}  # fmt: skip
        return lambda: client().post(manage_url(KIND), body, format="json")

    def bulk():
        rows = [{"user_id": u.pk, "program_key": program.program_key} for u in bulk_users]
        return client().post(
            manage_url(KIND) + "bulk/", {"platform_key": "race", "suggestion_data": rows},
            format="json",
        )  # fmt: skip

    requests = [
        lambda: client().post(group_url(KIND), group_body, format="json"),
        *[direct(user) for user in direct_users],
        bulk,
    ]
    responses = run_together(requests)
    assert [r.status_code for r in responses] == [200] * len(requests)

    rows = {row.user_id: row for row in ProgramSuggestion.objects.filter(program=program)}
    assert set(rows) == {user.pk for user in learners}
    written_directly = {user.pk for user in [*direct_users, *bulk_users]}
    assert {pk for pk, row in rows.items() if row.direct} == written_directly
    assert all(rows[user.pk].accepted for user in direct_users)
    supported = set(ProgramGroupSupport.objects.values_list("suggestion__user_id", flat=True))
    assert supported == {user.pk for user in learners}

    # The group suggestion goes while more direct writes arrive: the rows written
    # directly stay, the others go.
    group_suggestion_id = responses[0].json()["id"]
    late = learners[1::50]
    responses = run_together(
        [
            lambda: client().delete(
                f"{group_url(KIND)}?platform_key=race&suggestion_id={group_suggestion_id}"
            ),
            *[direct(user) for user in late],
        ]
    )
    assert [r.status_code for r in responses] == [200] * (1 + len(late))
    left = set(ProgramSuggestion.objects.filter(program=program).values_list("user_id", flat=True))
    assert left == written_directly | {user.pk for user in late}
    assert not ProgramGroupSupport.objects.exists()


def test_fan_out_races_membership_changes():
    """A group suggestion is created while members leave and others join."""
    platform, learners, group, program, client = setup(200)
    newcomers = many_learners(platform, 50)
    from ibl_core.tenancy.groups import change_members

    body = {"platform_key": "race", "group_id": group.pk, "program_key": program.program_key}

    def change():
        change_members(group, add=newcomers, remove=learners[:50])

    responses = run_together([lambda: client().post(group_url(KIND), body, format="json"), change])
    assert responses[0].status_code == 200
    members = {user.pk for user in [*learners[50:], *newcomers]}
    rows = set(ProgramSuggestion.objects.filter(program=program).values_list("user_id", flat=True))
    assert rows == members
    supported = set(ProgramGroupSupport.objects.values_list("suggestion__user_id", flat=True))
    assert supported == members
