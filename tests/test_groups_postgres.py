"""Concurrent membership changes on PostgreSQL: each reports exactly what it changed.

Threads with their own connections add (then remove) overlapping sets of users in one
group at the same instant. The signal a later fan-out listens to carries what each
call reports, so every user must be reported as added (removed) by exactly one call.
"""

from __future__ import annotations

from ibl_core import groups
from ibl_core.models import UserGroupMember
from tests.factories import MembershipFactory, PlatformFactory, UserFactory, UserGroupFactory
from tests.race_helpers import RACES, run_together

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
