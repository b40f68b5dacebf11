"""Admin pages of user groups and of courses and pathways (operations.md, "Admin").

Membership edited in the admin goes through the membership service: the signal
fires, and a user who is not an active member of the platform is a form error.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from ibl_catalog.models import Course, Pathway
from ibl_core.models import UserGroup, UserGroupMember
from ibl_core.tenancy import groups
from ibl_core.tenancy.signals import group_members_changed
from tests.support.factories import (
    DepartmentFactory,
    DepartmentMemberFactory,
    MembershipFactory,
    PathwayFactory,
    UserFactory,
    UserGroupFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["dm_admin"])
    return client


@pytest.fixture
def heard():
    calls: list[tuple[int, list[int], list[int]]] = []

    def receiver(sender, group, added, removed, **kwargs):
        calls.append((group.pk, added, removed))

    group_members_changed.connect(receiver)
    yield calls
    group_members_changed.disconnect(receiver)


def inline(rows: list[dict], initial: int = 0) -> dict[str, str]:
    """The POST fields of the members inline, one dict of fields per row."""
    data = {
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(initial),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"memberships-{index}-{name}": str(value) for name, value in row.items()})
    return data


def stored(group) -> list[int]:
    return sorted(UserGroupMember.objects.filter(group=group).values_list("user_id", flat=True))


def test_a_group_is_created_with_members_and_the_signal_fires(admin_client, world, heard):
    learner, dept_admin = world.users["learner_p1"], world.users["department_admin"]
    DepartmentMemberFactory(department=world.department, user=dept_admin)
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_add"),
        {
            "platform": world.p1.pk,
            "name": "Cohort A",
            "department": world.department.pk,
            **inline([{"user": learner.pk}, {"user": dept_admin.pk}]),
        },
    )
    assert response.status_code == 302, response.content.decode()
    group = UserGroup.objects.get()
    assert (group.platform, group.name, group.department) == (
        world.p1,
        "Cohort A",
        world.department,
    )
    assert stored(group) == sorted([learner.pk, dept_admin.pk])
    assert heard == [(group.pk, sorted([learner.pk, dept_admin.pk]), [])]


def test_members_are_added_and_removed_on_the_change_page(admin_client, world, heard):
    learner, dept_admin = world.users["learner_p1"], world.users["department_admin"]
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    groups.add_members(group, [learner])
    heard.clear()
    row = UserGroupMember.objects.get()
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[group.pk]),
        {
            "name": "Cohort",
            "department": "",
            **inline(
                [
                    {"id": row.pk, "group": group.pk, "DELETE": "on"},
                    {"user": dept_admin.pk, "group": group.pk},
                ],
                initial=1,
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert stored(group) == [dept_admin.pk]
    assert heard == [(group.pk, [dept_admin.pk], [learner.pk])]


def test_saving_without_membership_changes_sends_nothing(admin_client, world, heard):
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    groups.add_members(group, [world.users["learner_p1"]])
    heard.clear()
    row = UserGroupMember.objects.get()
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[group.pk]),
        {
            "name": "Renamed",
            "department": "",
            **inline([{"id": row.pk, "group": group.pk}], initial=1),
        },
    )
    assert response.status_code == 302, response.content.decode()
    group.refresh_from_db()
    assert group.name == "Renamed" and heard == []
    assert stored(group) == [world.users["learner_p1"].pk]


@pytest.mark.parametrize("who", ["learner_p2", "outsider", "inactive_membership", "inactive_user"])
def test_a_user_who_is_not_an_active_member_is_a_form_error(admin_client, world, heard, who):
    if who == "inactive_membership":
        user = UserFactory(username=who)
        MembershipFactory(user=user, platform=world.p1, active=False)
    elif who == "inactive_user":
        user = UserFactory(username=who, is_active=False)
        MembershipFactory(user=user, platform=world.p1)
    else:
        user = world.users[who]
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[group.pk]),
        {"name": "Cohort", "department": "", **inline([{"user": user.pk, "group": group.pk}])},
    )
    assert response.status_code == 200
    assert escape(f"{user} is not an active member of platform p1.") in response.content.decode()
    assert stored(group) == [] and heard == []


def test_the_add_page_refuses_a_member_of_another_platform(admin_client, world, heard):
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_add"),
        {
            "platform": world.p1.pk,
            "name": "Cohort",
            **inline([{"user": world.users["learner_p2"].pk}]),
        },
    )
    assert response.status_code == 200
    assert "learner_p2 is not an active member of platform p1." in response.content.decode()
    assert not UserGroup.objects.exists() and heard == []


def test_a_department_of_another_platform_is_a_form_error(admin_client, world):
    foreign = DepartmentFactory(platform=world.p2, name="Sales")
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_add"),
        {"platform": world.p1.pk, "name": "Cohort", "department": foreign.pk, **inline([])},
    )
    assert response.status_code == 200
    assert escape("Choose a department of the group's platform.") in response.content.decode()
    assert not UserGroup.objects.exists()


def test_a_duplicate_name_is_a_form_error(admin_client, world):
    UserGroupFactory(platform=world.p1, name="Cohort")
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_add"),
        {"platform": world.p1.pk, "name": "Cohort", **inline([])},
    )
    assert response.status_code == 200
    assert "User group with this Platform and Name already exists." in response.content.decode()
    assert UserGroup.objects.count() == 1
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_add"),
        {"platform": world.p2.pk, "name": "Cohort", **inline([])},
    )
    assert response.status_code == 302  # the same name on another platform


def test_the_platform_of_a_group_cannot_change(admin_client, world):
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[group.pk]),
        {"platform": world.p2.pk, "name": "Cohort", "department": "", **inline([])},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.platform == world.p1


def test_a_duplicate_member_row_is_a_form_error(admin_client, world, heard):
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    groups.add_members(group, [world.users["learner_p1"]])
    heard.clear()
    row = UserGroupMember.objects.get()
    learner = world.users["learner_p1"]
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[group.pk]),
        {
            "name": "Cohort",
            "department": "",
            **inline(
                [{"id": row.pk, "group": group.pk}, {"user": learner.pk, "group": group.pk}],
                initial=1,
            ),
        },
    )
    assert response.status_code == 200
    assert "Please correct the duplicate data for user" in response.content.decode()
    assert heard == [] and stored(group) == [learner.pk]


def test_deleting_a_group_removes_its_members_with_the_signal(admin_client, world, heard):
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    learner = world.users["learner_p1"]
    groups.add_members(group, [learner])
    heard.clear()
    group_id = group.pk
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_delete", args=[group_id]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not UserGroup.objects.exists()
    assert heard == [(group_id, [], [learner.pk])]


def test_the_delete_action_on_groups_goes_through_the_service(admin_client, world, heard):
    learner = world.users["learner_p1"]
    one, two = (UserGroupFactory(platform=world.p1) for _ in range(2))
    for group in (one, two):
        groups.add_members(group, [learner])
    heard.clear()
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_changelist"),
        {"action": "delete_selected", "_selected_action": [one.pk, two.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not UserGroup.objects.exists()
    assert sorted(heard) == sorted([(one.pk, [], [learner.pk]), (two.pk, [], [learner.pk])])


def test_removing_members_from_the_member_list_goes_through_the_service(admin_client, world, heard):
    learner, dept_admin = world.users["learner_p1"], world.users["department_admin"]
    one, two = (UserGroupFactory(platform=world.p1) for _ in range(2))
    groups.add_members(one, [learner, dept_admin])
    groups.add_members(two, [learner])
    heard.clear()
    rows = UserGroupMember.objects.filter(user=learner).values_list("pk", flat=True)
    response = admin_client.post(
        reverse("admin:ibl_core_usergroupmember_changelist"),
        {"action": "delete_selected", "_selected_action": list(rows), "post": "yes"},
    )
    assert response.status_code == 302
    assert sorted(heard) == sorted([(one.pk, [], [learner.pk]), (two.pk, [], [learner.pk])])
    assert stored(one) == [dept_admin.pk] and stored(two) == []
    row = UserGroupMember.objects.get()
    response = admin_client.post(
        reverse("admin:ibl_core_usergroupmember_delete", args=[row.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert heard[-1] == (one.pk, [], [dept_admin.pk]) and stored(one) == []


def test_the_group_list_counts_active_members_in_bounded_queries(
    admin_client, world, django_assert_max_num_queries
):
    url = reverse("admin:ibl_core_usergroup_changelist")
    admin_client.get(url)
    for n in range(20):
        group = UserGroupFactory(platform=world.p1, name=f"Group {n:02}")
        groups.add_members(group, [world.users["learner_p1"], world.users["department_admin"]])
    world.p1.memberships.filter(user=world.users["department_admin"]).update(active=False)
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    counts = re.findall(r'<td class="field-user_count">(\d+)</td>', page)
    assert counts == ["1"] * 20
    groups.add_members(
        UserGroupFactory(platform=world.p1, name="Zz"), [world.users["platform_admin_p1"]]
    )
    UserGroupFactory(platform=world.p1, name="Empty")
    by_count = admin_client.get(url, {"o": "-4"}).content.decode()  # the Members column
    counts = re.findall(r'<td class="field-user_count">(\d+)</td>', by_count)
    assert counts[0] == "1" and counts[-1] == "0" and len(counts) == 22


def test_the_change_page_loads_no_user_list(admin_client, world):
    UserFactory(username="someone-unrelated")
    group = UserGroupFactory(platform=world.p1, name="Cohort")
    groups.add_members(group, [world.users["learner_p1"]])
    page = admin_client.get(reverse("admin:ibl_core_usergroup_change", args=[group.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "learner_p1" in text  # the member's row
    assert "someone-unrelated" not in text  # users are searched, not listed
    assert "admin-autocomplete" in text


def test_course_admin_refuses_a_malformed_course_id(admin_client, world):
    url = reverse("admin:ibl_catalog_course_add")
    response = admin_client.post(
        url, {"platform": world.p1.pk, "course_id": "CS101", "name": "CS", "enabled": "on"}
    )
    assert response.status_code == 200
    assert "Enter a course id such as course-v1:org+course+run" in response.content.decode()
    response = admin_client.post(
        url,
        {"platform": world.p1.pk, "course_id": "course-v1:a+CS101+r", "name": "CS"},
    )
    assert response.status_code == 302
    assert Course.objects.get().course_id == "course-v1:a+CS101+r"


def test_pathway_admin_finds_a_pathway_by_its_uuid(admin_client, world):
    wanted = PathwayFactory(platform=world.p1, pathway_id="wanted")
    PathwayFactory(platform=world.p1, pathway_id="other")
    url = reverse("admin:ibl_catalog_pathway_changelist")
    for term in (str(wanted.pathway_uuid), "not-a-uuid"):
        response = admin_client.get(url, {"q": term})
        assert response.status_code == 200
        found = re.findall(
            r'<th class="field-pathway_id"><a [^>]*>([^<]+)</a>', response.content.decode()
        )
        assert found == (["wanted"] if term != "not-a-uuid" else [])


def test_pathway_admin_refuses_a_bad_slug_and_a_taken_uuid(admin_client, world):
    taken = PathwayFactory(platform=world.p2)
    url = reverse("admin:ibl_catalog_pathway_add")
    response = admin_client.post(
        url,
        {
            "platform": world.p1.pk,
            "pathway_id": "not a slug",
            "pathway_uuid": str(taken.pathway_uuid),
            "name": "P",
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Pathway with this Pathway uuid already exists." in text
    assert "letters, numbers, underscores or hyphens" in text
    assert Pathway.objects.count() == 1
