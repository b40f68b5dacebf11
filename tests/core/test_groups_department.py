"""A group attached to a department holds only members of that department (issue 25,
item 7): what a department admin suggests to the group never reaches anyone else.

Every path that changes who is in the group, or who is in the department, is tried:
the membership service, ``ibl_group``, the admin, and a user leaving the department
by every way a department membership row can go or move. No API changes a group's
members (groups are managed in the admin and with ``ibl_group``).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ibl_catalog.declarations import SUGGESTION_KINDS
from ibl_core.models import DepartmentMember, UserGroup, UserGroupMember
from ibl_core.tenancy import groups
from ibl_core.tenancy.signals import group_members_changed
from tests.support.catalog_helpers import group_body, group_url, make_item, manage_url
from tests.support.factories import DepartmentMemberFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROGRAM = next(kind for kind in SUGGESTION_KINDS if kind.label == "program")
ADMIN_MODE = "?platform_key=p1&department_mode=true"


@pytest.fixture
def heard():
    calls: list[tuple[int, list[int], list[int]]] = []

    def receiver(sender, group, added, removed, **kwargs):
        calls.append((group.pk, added, removed))

    group_members_changed.connect(receiver)
    yield calls
    group_members_changed.disconnect(receiver)


@pytest.fixture
def cohort(world):
    """p1's group "Eng cohort" attached to Engineering: learner_p1 and eng2, both in it.
    learner_other_department (in Design) is a member of p1 outside Engineering."""
    eng2 = UserFactory(username="eng2")
    MembershipFactory(user=eng2, platform=world.p1)
    DepartmentMemberFactory(department=world.department, user=eng2)
    world.users["eng2"] = eng2
    group, _ = groups.create_or_update_group(
        world.p1, "Eng cohort", department=world.department, add=[world.users["learner_p1"], eng2]
    )
    return group


def stored(group) -> list[str]:
    return sorted(
        UserGroupMember.objects.filter(group=group).values_list("user__username", flat=True)
    )


def receivers(item) -> list[str]:
    return sorted(
        PROGRAM.model._default_manager.filter(program=item).values_list("user__username", flat=True)
    )


def suggest_to_group(world, group):
    """The department admin suggests a new program to ``group`` in department mode."""
    item = make_item(PROGRAM, world.p1)
    response = world.client("department_admin").post(
        group_url(PROGRAM) + ADMIN_MODE,
        group_body(PROGRAM, group, item, department_mode=True),
        format="json",
    )
    assert response.status_code == 200, response.content
    return item


OUTSIDER_REFUSED = (
    "Not members of department 'Engineering', which the group is attached to: "
    "learner_other_department."
)


# -- who may join -----------------------------------------------------------------


def test_the_service_refuses_a_user_outside_the_department(world, cohort, heard):
    with pytest.raises(ValidationError) as refused:
        groups.add_members(cohort, [world.users["learner_other_department"]])
    assert refused.value.messages == [OUTSIDER_REFUSED]
    assert refused.value.code == "not_department_member"
    assert stored(cohort) == ["eng2", "learner_p1"] and heard == []


def test_a_refusal_writes_nothing_even_for_the_users_who_could_join(world, cohort):
    groups.remove_members(cohort, [world.users["eng2"]])
    with pytest.raises(ValidationError):
        groups.add_members(cohort, [world.users["eng2"], world.users["learner_other_department"]])
    assert stored(cohort) == ["learner_p1"]


def test_attaching_a_group_that_holds_someone_else_is_refused(world, heard):
    loose, _ = groups.create_or_update_group(
        world.p1, "Loose", add=[world.users["learner_p1"], world.users["learner_other_department"]]
    )
    heard.clear()
    with pytest.raises(ValidationError) as refused:
        groups.create_or_update_group(world.p1, "Loose", department=world.department)
    assert refused.value.messages == [OUTSIDER_REFUSED]
    loose.refresh_from_db()
    assert loose.department is None and heard == []
    # Removing the outsider in the same call makes it acceptable.
    groups.create_or_update_group(
        world.p1,
        "Loose",
        department=world.department,
        remove=[world.users["learner_other_department"]],
    )
    loose.refresh_from_db()
    assert loose.department == world.department and stored(loose) == ["learner_p1"]


def test_a_new_group_of_a_department_refuses_others_and_is_not_created(world):
    with pytest.raises(ValidationError):
        groups.create_or_update_group(
            world.p1,
            "New",
            department=world.department,
            add=[world.users["learner_other_department"]],
        )
    assert not UserGroup.objects.filter(name="New").exists()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_ibl_group_refuses_a_user_outside_the_department(world, cohort):
    with pytest.raises(CommandError) as refused:
        run("ibl_group", "Eng cohort", "--platform", "p1", "--add", "learner_other_department")
    assert str(refused.value) == OUTSIDER_REFUSED
    assert stored(cohort) == ["eng2", "learner_p1"]


def test_ibl_group_refuses_to_attach_a_group_that_holds_someone_else(world):
    run("ibl_group", "Loose", "--platform", "p1", "--add", "learner_other_department")
    with pytest.raises(CommandError) as refused:
        run("ibl_group", "Loose", "--platform", "p1", "--department", "Engineering")
    assert str(refused.value) == OUTSIDER_REFUSED
    assert UserGroup.objects.get(name="Loose").department is None


def test_ibl_group_names_and_removes_an_outsider_a_group_held_before_the_rule(world, cohort):
    outsider = world.users["learner_other_department"]
    UserGroupMember.objects.create(group=cohort, user=outsider)  # as an older version left it
    with pytest.raises(CommandError) as refused:
        run("ibl_group", "Eng cohort", "--platform", "p1", "--department", "Engineering")
    assert str(refused.value) == OUTSIDER_REFUSED
    run("ibl_group", "Eng cohort", "--platform", "p1", "--department", "Engineering",
        "--remove", "learner_other_department")  # fmt: skip
    assert stored(cohort) == ["eng2", "learner_p1"]


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["dm_admin"])
    return client


def inline(rows: list[dict], initial: int = 0) -> dict[str, str]:
    data = {
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(initial),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"memberships-{index}-{name}": str(value) for name, value in row.items()})
    return data


def kept_rows(group) -> list[dict]:
    return [
        {"id": row.pk, "group": group.pk}
        for row in UserGroupMember.objects.filter(group=group).order_by("pk")
    ]


def test_the_admin_refuses_a_user_outside_the_department_on_the_row(
    admin_client, world, cohort, heard
):
    rows = kept_rows(cohort)
    outsider = world.users["learner_other_department"]
    response = admin_client.post(
        reverse("admin:ibl_core_usergroup_change", args=[cohort.pk]),
        {
            "name": "Eng cohort",
            "department": world.department.pk,
            **inline([*rows, {"group": cohort.pk, "user": outsider.pk}], initial=len(rows)),
        },
    )
    assert response.status_code == 200  # the page again, with the error
    assert (
        "learner_other_department is not in department Engineering, which the group is attached to."
    ) in response.content.decode()
    assert stored(cohort) == ["eng2", "learner_p1"] and heard == []


def test_the_admin_refuses_a_department_while_someone_else_stays(admin_client, world, heard):
    loose, _ = groups.create_or_update_group(
        world.p1, "Loose", add=[world.users["learner_p1"], world.users["learner_other_department"]]
    )
    heard.clear()
    rows = kept_rows(loose)
    url = reverse("admin:ibl_core_usergroup_change", args=[loose.pk])
    page = {"name": "Loose", "department": world.department.pk}
    response = admin_client.post(url, {**page, **inline(rows, initial=len(rows))})
    assert response.status_code == 200
    assert "Members not in department Engineering: learner_other_department." in (
        response.content.decode()
    )
    loose.refresh_from_db()
    assert loose.department is None and heard == []
    # Removing the outsider on the same page is accepted.
    outsider_row = next(
        row
        for row in rows
        if UserGroupMember.objects.get(pk=row["id"]).user.username == "learner_other_department"
    )
    outsider_row["DELETE"] = "on"
    response = admin_client.post(url, {**page, **inline(rows, initial=len(rows))})
    assert response.status_code == 302, response.content.decode()
    loose.refresh_from_db()
    assert loose.department == world.department and stored(loose) == ["learner_p1"]


# -- a department admin's suggestion reaches only their department ------------------


def test_a_department_admins_group_suggestion_reaches_only_their_department(world, cohort):
    item = suggest_to_group(world, cohort)
    assert receivers(item) == ["eng2", "learner_p1"]
    with pytest.raises(ValidationError):
        groups.add_members(cohort, [world.users["learner_other_department"]])
    assert receivers(item) == ["eng2", "learner_p1"]


def leave_by_deleting_the_row(world, user):
    DepartmentMember.objects.get(department=world.department, user=user).delete()


def leave_by_deleting_rows(world, user):
    DepartmentMember.objects.filter(department=world.department, user=user).delete()


def leave_by_the_departments_members(world, user):
    world.department.members.remove(user)


def leave_by_the_users_departments(world, user):
    user.ibl_departments.clear()


def leave_by_moving_the_row(world, user):
    row = DepartmentMember.objects.get(department=world.department, user=user)
    row.department = world.other_department
    row.save()


def leave_in_the_admin(world, user, client):
    row = DepartmentMember.objects.get(department=world.department, user=user)
    response = client.post(
        reverse("admin:ibl_core_departmentmember_delete", args=[row.pk]), {"post": "yes"}
    )
    assert response.status_code == 302


def leave_in_the_admins_list(world, user, client):
    row = DepartmentMember.objects.get(department=world.department, user=user)
    response = client.post(
        reverse("admin:ibl_core_departmentmember_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert response.status_code == 302


def leave_on_the_departments_page(world, user, client):
    rows = list(DepartmentMember.objects.filter(department=world.department).order_by("pk"))
    data = {
        "platform": world.p1.pk,
        "name": world.department.name,
        "departmentmember_set-TOTAL_FORMS": str(len(rows)),
        "departmentmember_set-INITIAL_FORMS": str(len(rows)),
        "departmentmember_set-MIN_NUM_FORMS": "0",
        "departmentmember_set-MAX_NUM_FORMS": "1000",
        "departmentadmin_set-TOTAL_FORMS": "0",
        "departmentadmin_set-INITIAL_FORMS": "0",
        "departmentadmin_set-MIN_NUM_FORMS": "0",
        "departmentadmin_set-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        prefix = f"departmentmember_set-{index}-"
        data.update({f"{prefix}id": row.pk, f"{prefix}department": world.department.pk})
        data[f"{prefix}user"] = row.user_id
        if row.user_id == user.pk:
            data[f"{prefix}DELETE"] = "on"
    response = client.post(
        reverse("admin:ibl_core_department_change", args=[world.department.pk]), data
    )
    assert response.status_code == 302, response.content.decode()


IN_CODE = [
    leave_by_deleting_the_row,
    leave_by_deleting_rows,
    leave_by_the_departments_members,
    leave_by_the_users_departments,
    leave_by_moving_the_row,
]
IN_THE_ADMIN = [leave_in_the_admin, leave_in_the_admins_list, leave_on_the_departments_page]


@pytest.mark.parametrize("leave", IN_CODE + IN_THE_ADMIN, ids=lambda leave: leave.__name__)
def test_a_user_who_leaves_the_department_leaves_its_groups(
    world, cohort, leave, admin_client, heard
):
    item = suggest_to_group(world, cohort)
    leaver = world.users["eng2"]
    heard.clear()
    if leave in IN_THE_ADMIN:
        leave(world, leaver, admin_client)
    else:
        leave(world, leaver)
    assert not DepartmentMember.objects.filter(department=world.department, user=leaver).exists()
    assert stored(cohort) == ["learner_p1"]
    assert heard == [(cohort.pk, [], [leaver.pk])]
    # What the group gave them went with it; the department admin cannot reach them.
    assert receivers(item) == ["learner_p1"]
    direct = world.client("department_admin").post(
        manage_url(PROGRAM) + ADMIN_MODE,
        {
            "platform_key": "p1",
            "user_id": leaver.pk,
            "program_key": item.program_key,
            "department_mode": True,
        },
        format="json",
    )
    assert direct.status_code == 403


def test_leaving_another_department_or_editing_a_row_in_place_keeps_the_group(world, cohort):
    eng2 = world.users["eng2"]
    DepartmentMemberFactory(department=world.other_department, user=eng2)
    DepartmentMember.objects.get(department=world.other_department, user=eng2).delete()
    row = DepartmentMember.objects.get(department=world.department, user=eng2)
    row.save()  # nothing moved
    assert stored(cohort) == ["eng2", "learner_p1"]


def test_a_deleted_department_detaches_its_groups_which_keep_their_members(world, cohort):
    world.department.delete()
    cohort.refresh_from_db()
    assert cohort.department is None
    assert stored(cohort) == ["eng2", "learner_p1"]
