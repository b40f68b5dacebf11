"""Concurrent membership changes on PostgreSQL: each reports exactly what it changed.

Threads with their own connections add (then remove) overlapping sets of users in one
group at the same instant. The signal a later fan-out listens to carries what each
call reports, so every user must be reported as added (removed) by exactly one call.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ibl_core.models import DepartmentMember, UserGroupMember
from ibl_core.tenancy import groups
from tests.support.factories import (
    DepartmentFactory,
    DepartmentMemberFactory,
    MembershipFactory,
    PlatformFactory,
    UserFactory,
    UserGroupFactory,
)
from tests.support.race_helpers import RACES, run_together

pytestmark = RACES
THREADS = 8


def test_overlapping_adds_and_removes_report_each_user_once():
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    users = UserFactory.create_batch(THREADS * 10 + 90)
    for user in users:
        MembershipFactory(user=user, platform=platform)
    ids = sorted(user.pk for user in users)
    windows = [ids[start * 10 : start * 10 + 100] for start in range(THREADS)]

    added = run_together([lambda w=w: groups.add_members(group, w) for w in windows])
    reported = [pk for call in added for pk in call]
    assert sorted(reported) == ids  # everyone once: no one twice, no one missed
    assert UserGroupMember.objects.filter(group=group).count() == len(ids)

    removed = run_together([lambda w=w: groups.remove_members(group, w) for w in windows])
    reported = [pk for call in removed for pk in call]
    assert sorted(reported) == ids
    assert not UserGroupMember.objects.filter(group=group).exists()


def test_joining_a_departments_group_while_leaving_the_department_never_leaves_an_outsider():
    """One thread adds users to a department's group while others take the same users out
    of the department: whatever the order, no one ends in the group outside it."""
    platform = PlatformFactory()
    department = DepartmentFactory(platform=platform)
    group = UserGroupFactory(platform=platform, department=department)
    for _ in range(5):  # rounds: the interleavings differ
        users = UserFactory.create_batch(THREADS)
        for user in users:
            MembershipFactory(user=user, platform=platform)
            DepartmentMemberFactory(department=department, user=user)

        def join(user) -> str:
            try:
                groups.add_members(group, [user])
            except ValidationError:
                return "refused"  # the user had left already
            return "joined"

        def leave(user) -> str:
            DepartmentMember.objects.filter(department=department, user=user).delete()
            return "left"

        pairs = [action for user in users[: THREADS // 2] for action in (join, leave)]
        outcomes = run_together(
            [lambda action=action, user=user: action(user) for action, user in zip(
                pairs, [user for user in users[: THREADS // 2] for _ in (0, 1)], strict=True
            )]
        )  # fmt: skip
        assert None not in outcomes, outcomes
        assert groups.members_outside_department(group) == []
