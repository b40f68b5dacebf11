"""User groups (suggestions.md, "Groups"): the membership service and its signal."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from ibl_core.models import PlatformMembership, UserGroup, UserGroupMember
from ibl_core.tenancy import groups
from ibl_core.tenancy.signals import group_members_changed
from tests.support.factories import (
    DepartmentFactory,
    DepartmentMemberFactory,
    MembershipFactory,
    PlatformFactory,
    UserFactory,
    UserGroupFactory,
)

pytestmark = pytest.mark.django_db


class Heard:
    """What ``group_members_changed`` carried, call by call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, sender, **kwargs) -> None:
        # The group's id as sent: deleting the group clears it on the object afterwards.
        self.calls.append({"sender": sender, "group_id": kwargs["group"].pk, **kwargs})

    def changes(self) -> list[tuple[int, list[int], list[int]]]:
        return [(c["group_id"], c["added"], c["removed"]) for c in self.calls]


@pytest.fixture
def heard():
    receiver = Heard()
    group_members_changed.connect(receiver)
    yield receiver
    group_members_changed.disconnect(receiver)


def members(platform, count: int) -> list:
    users = [UserFactory() for _ in range(count)]
    for user in users:
        MembershipFactory(user=user, platform=platform)
    return users


def stored(group) -> list[int]:
    return sorted(UserGroupMember.objects.filter(group=group).values_list("user_id", flat=True))


def test_add_members_reports_exactly_who_joined(heard):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    ann, bob, cy = members(platform, 3)
    assert groups.add_members(group, [ann, bob.pk]) == sorted([ann.pk, bob.pk])
    # Already in: nothing written, nothing sent.
    assert groups.add_members(group, [ann, bob]) == []
    assert groups.add_members(group, [bob, cy]) == [cy.pk]
    assert stored(group) == sorted([ann.pk, bob.pk, cy.pk])
    assert heard.changes() == [
        (group.pk, sorted([ann.pk, bob.pk]), []),
        (group.pk, [cy.pk], []),
    ]
    assert all(call["sender"] is UserGroup for call in heard.calls)


def test_remove_members_reports_exactly_who_left(heard):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    ann, bob, cy = members(platform, 3)
    groups.add_members(group, [ann, bob])
    heard.calls.clear()
    assert groups.remove_members(group, [bob, cy]) == [bob.pk]  # cy was never in
    assert groups.remove_members(group, [bob]) == []
    assert stored(group) == [ann.pk]
    assert heard.changes() == [(group.pk, [], [bob.pk])]


def test_add_and_remove_at_once_send_one_signal(heard):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    ann, bob = members(platform, 2)
    groups.add_members(group, [ann])
    heard.calls.clear()
    change = groups.change_members(group, add=[bob], remove=[ann])
    assert change == groups.MembershipChange(added=[bob.pk], removed=[ann.pk])
    assert heard.changes() == [(group.pk, [bob.pk], [ann.pk])]
    with pytest.raises(ValidationError, match="cannot be added and removed at once"):
        groups.change_members(group, add=[ann], remove=[ann])


def test_non_members_are_refused_and_nothing_is_written(heard):
    platform, other = PlatformFactory(key="p1"), PlatformFactory(key="p2")
    group = UserGroupFactory(platform=platform)
    (ann,) = members(platform, 1)
    elsewhere = UserFactory(username="elsewhere")
    MembershipFactory(user=elsewhere, platform=other)
    left = UserFactory(username="left")
    MembershipFactory(user=left, platform=platform, active=False)
    deactivated = UserFactory(username="deactivated", is_active=False)
    MembershipFactory(user=deactivated, platform=platform)
    refused = [elsewhere, left, deactivated]
    with pytest.raises(groups.NotPlatformMembers) as error:
        groups.add_members(group, [ann, *refused, 999_999])
    assert error.value.user_ids == sorted([u.pk for u in refused] + [999_999])
    assert error.value.messages == [
        "Not active members of platform 'p1': elsewhere, left, deactivated, user id 999999."
    ]
    assert stored(group) == [] and heard.calls == []  # all or nothing: not even ann


def test_the_refusal_lists_ten_users_and_counts_the_rest():
    group = UserGroupFactory(platform=PlatformFactory(key="p1"))
    outsiders = [UserFactory(username=f"out{n:02}") for n in range(12)]
    with pytest.raises(groups.NotPlatformMembers) as error:
        groups.add_members(group, outsiders)
    names = ", ".join(f"out{n:02}" for n in range(10))
    assert error.value.messages == [f"Not active members of platform 'p1': {names} and 2 more."]


def test_anyone_can_be_removed_even_after_leaving_the_platform(heard):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    (ann,) = members(platform, 1)
    groups.add_members(group, [ann])
    PlatformMembership.objects.filter(user=ann).update(active=False)
    assert list(groups.group_members(group)) == []  # no longer counted...
    assert stored(group) == [ann.pk]  # ...but still listed until removed
    assert groups.remove_members(group, [ann]) == [ann.pk]
    assert stored(group) == []


def test_the_signal_is_sent_inside_the_transaction_after_the_change():
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    (ann,) = members(platform, 1)
    seen: list[tuple[bool, list[int]]] = []

    def receiver(sender, group, added, removed, **kwargs):
        seen.append((connection.in_atomic_block, stored(group)))

    group_members_changed.connect(receiver)
    try:
        groups.add_members(group, [ann])
    finally:
        group_members_changed.disconnect(receiver)
    assert seen == [(True, [ann.pk])]


def test_a_failing_receiver_undoes_the_change():
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    (ann,) = members(platform, 1)

    def receiver(sender, **kwargs):
        raise RuntimeError("bookkeeping failed")

    group_members_changed.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            groups.add_members(group, [ann])
    finally:
        group_members_changed.disconnect(receiver)
    assert stored(group) == []


def test_a_thousand_members_join_and_leave_in_a_few_queries(heard, django_assert_max_num_queries):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bulk{n}") for n in range(1000)]
    )
    PlatformMembership.objects.bulk_create(
        [PlatformMembership(user=user, platform=platform) for user in users]
    )
    ids = sorted(user.pk for user in users)
    # A savepoint and its release, the membership check, the insert, the catalog's
    # receiver: it locks the group and finds it has no suggestions (one query for
    # every kind), and the credentials' receiver: it finds no assignment of the group
    # that follows membership (one query).
    with django_assert_max_num_queries(7):
        assert groups.add_members(group, ids) == ids
    with django_assert_max_num_queries(4):  # nothing changed: no signal
        assert groups.add_members(group, ids) == []
    with django_assert_max_num_queries(5):  # a savepoint and its release, the delete, ditto
        assert groups.remove_members(group, ids[:600]) == ids[:600]
    assert stored(group) == ids[600:]
    assert heard.changes() == [(group.pk, ids, []), (group.pk, [], ids[:600])]


def test_create_or_update_group_is_idempotent(heard):
    platform = PlatformFactory()
    engineering = DepartmentFactory(platform=platform, name="Engineering")
    ann, bob = members(platform, 2)
    for user in (ann, bob):  # a department's group holds only its members
        DepartmentMemberFactory(department=engineering, user=user)
    group, created = groups.create_or_update_group(
        platform, "Team", department=engineering, add=[ann, bob]
    )
    assert created and group.department == engineering
    again, created = groups.create_or_update_group(platform, "Team", add=[ann], remove=[bob])
    assert (again.pk, created) == (group.pk, False)
    again.refresh_from_db()
    assert again.department == engineering  # not named: unchanged
    groups.create_or_update_group(platform, "Team", department=None)
    again.refresh_from_db()
    assert again.department is None
    assert UserGroup.objects.count() == 1 and stored(group) == [ann.pk]
    assert heard.changes() == [
        (group.pk, sorted([ann.pk, bob.pk]), []),
        (group.pk, [], [bob.pk]),
    ]


def test_create_or_update_group_refuses_bad_input_and_writes_nothing():
    platform, other = PlatformFactory(key="p1"), PlatformFactory(key="p2")
    foreign = DepartmentFactory(platform=other, name="Sales")
    outsider = UserFactory()
    with pytest.raises(ValidationError, match="'Sales' is not a department of platform 'p1'"):
        groups.create_or_update_group(platform, "Team", department=foreign)
    for name in ("", "   ", "x" * 256):
        with pytest.raises(ValidationError, match="1 to 255 characters"):
            groups.create_or_update_group(platform, name)
    with pytest.raises(groups.NotPlatformMembers):
        groups.create_or_update_group(platform, "Team", add=[outsider])
    assert not UserGroup.objects.exists()  # the group made before the refusal is undone


def test_names_are_unique_per_platform():
    one, two = PlatformFactory(), PlatformFactory()
    first, _ = groups.create_or_update_group(one, "Team")
    second, _ = groups.create_or_update_group(two, "Team")
    assert first.pk != second.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        UserGroup.objects.create(platform=one, name="Team")


def test_a_department_of_another_platform_fails_model_validation():
    platform, other = PlatformFactory(), PlatformFactory()
    group = UserGroup(platform=platform, name="Team", department=DepartmentFactory(platform=other))
    with pytest.raises(ValidationError) as error:
        group.full_clean()
    assert error.value.message_dict == {
        "department": ["Choose a department of the group's platform."]
    }


def test_delete_group_removes_members_first_with_the_signal(heard):
    platform = PlatformFactory()
    group = UserGroupFactory(platform=platform)
    ann, bob = members(platform, 2)
    groups.add_members(group, [ann, bob])
    heard.calls.clear()
    group_id = group.pk
    groups.delete_group(group)
    assert heard.changes() == [(group_id, [], sorted([ann.pk, bob.pk]))]
    assert not UserGroup.objects.exists() and not UserGroupMember.objects.exists()
    assert PlatformMembership.objects.count() == 2  # the users stay


def test_deleting_an_empty_group_sends_nothing(heard):
    group = UserGroupFactory()
    groups.delete_group(group)
    assert heard.calls == [] and not UserGroup.objects.exists()


def test_deleting_the_department_or_platform(heard):
    platform = PlatformFactory()
    department = DepartmentFactory(platform=platform)
    group = UserGroupFactory(platform=platform, department=department)
    (ann,) = members(platform, 1)
    DepartmentMemberFactory(department=department, user=ann)
    groups.add_members(group, [ann])
    department.delete()
    group.refresh_from_db()
    assert group.department is None  # the group stays, without a department
    assert stored(group) == [ann.pk]  # and keeps its members: no department to leave
    platform.delete()  # cascades through groups and their members
    assert not UserGroup.objects.exists() and not UserGroupMember.objects.exists()


def test_user_count_counts_current_members_of_the_platform():
    platform, other = PlatformFactory(), PlatformFactory()
    big, small, empty = (UserGroupFactory(platform=platform) for _ in range(3))
    ann, bob, cy = members(platform, 3)
    MembershipFactory(user=ann, platform=other)  # a member elsewhere too: counted once
    groups.add_members(big, [ann, bob, cy])
    groups.add_members(small, [ann])
    PlatformMembership.objects.filter(user=bob, platform=platform).update(active=False)
    type(cy).objects.filter(pk=cy.pk).update(is_active=False)
    counts = dict(
        groups.with_user_count(UserGroup.objects.filter(platform=platform)).values_list(
            "pk", "user_count"
        )
    )
    assert counts == {big.pk: 1, small.pk: 1, empty.pk: 0}
    assert list(groups.group_members(big)) == [ann]
