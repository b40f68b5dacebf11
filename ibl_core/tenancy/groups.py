"""User groups: the one way to create them, change who is in them, and delete them.

Every change of membership goes through :func:`change_members`, which

- refuses users who are not members of the group's platform (``members.py``), in one
  query whatever the number of users;
- writes set-based: one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`` for
  the users who join, one ``DELETE ... RETURNING`` for those who leave, each with the
  ids as a single parameter. What the statements return is exactly what changed, even
  when another transaction changes the same group at the same time;
- then sends ``group_members_changed`` (``signals.py``) with those ids, in the same
  transaction, so another app's bookkeeping (a group's suggestions reaching its
  members) commits or rolls back with the change. A call that changes nothing sends
  nothing.

A member who later leaves the platform stays in the group's rows but is no longer
counted (:func:`group_members`, :func:`with_user_count`): membership of the platform
decides, as everywhere.

A group attached to a department holds only members of that department, so what its
department admins suggest to it never reaches anyone else. Adding someone else is
refused (``NotDepartmentMembers``), attaching a group that holds someone else is
refused, and a user who leaves the department leaves its groups in the same
transaction (:func:`leave_department_groups`, called by the ``DepartmentMember``
signals of ``apps.py``, so every way a membership row goes counts). The department
rows of the users added are locked while they join: a concurrent removal from the
department waits, then finds them in the group and takes them out.

Deleting a group with :func:`delete_group` removes its members first (one signal with
all of them), then the group. ``UserGroup.delete()`` or a platform's deletion
cascades silently; use it only where everything the group fed goes too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import NotSupportedError, connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ibl_core.models import Department, DepartmentMember, Platform, UserGroup, UserGroupMember
from ibl_core.sql import in_list, quoted_column, quoted_table, retrying_transaction, values_select
from ibl_core.tenancy.members import platform_members
from ibl_core.tenancy.signals import group_members_changed

#: Pass as ``department`` to leave a group's department as it is.
UNCHANGED: Any = object()

#: Users named in a refusal; more are counted, not listed.
_NAMES_IN_ERROR = 10


class NotPlatformMembers(ValidationError):
    """Some users cannot join a group: they are not active members of its platform."""

    def __init__(self, platform: Platform, user_ids: Collection[int]) -> None:
        self.user_ids = sorted(user_ids)
        super().__init__(
            f"Not active members of platform {platform.key!r}: {_listed(self.user_ids)}.",
            code="not_platform_member",
        )


class NotDepartmentMembers(ValidationError):
    """Some users cannot be in a group: it is attached to a department they are not in."""

    def __init__(self, department: Department, user_ids: Collection[int]) -> None:
        self.user_ids = sorted(user_ids)
        super().__init__(
            f"Not members of department {department.name!r}, which the group is attached "
            f"to: {_listed(self.user_ids)}.",
            code="not_department_member",
        )


def _listed(user_ids: list[int]) -> str:
    """Usernames of the first few users (ids of unknown ones), and how many more."""
    names = dict(
        get_user_model()
        ._default_manager.filter(in_list("pk", user_ids[:_NAMES_IN_ERROR]))
        .values_list("pk", "username")
    )
    shown = [names.get(pk, f"user id {pk}") for pk in user_ids[:_NAMES_IN_ERROR]]
    more = len(user_ids) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


@dataclass(frozen=True)
class MembershipChange:
    """The users who joined and left, as sorted ids: exactly the rows written."""

    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


def group_members(group: UserGroup) -> QuerySet[Any]:
    """The users of ``group`` who are members of its platform now."""
    return platform_members(group.platform).filter(ibl_group_memberships__group=group)


def with_user_count(groups: QuerySet[UserGroup]) -> QuerySet[UserGroup]:
    """``groups`` annotated with ``user_count``: members who are members of the platform now.

    A correlated subquery rather than a join and ``GROUP BY``: a paginated list counts
    the members of the groups on its page only, not of every group.
    """
    counted = (
        UserGroupMember.objects.filter(
            group=OuterRef("pk"),
            user__is_active=True,
            user__platform_memberships__platform=OuterRef("platform"),
            user__platform_memberships__active=True,
        )
        .order_by()
        .values("group")
        .annotate(count=Count("*"))
        .values("count")
    )
    return groups.annotate(user_count=Coalesce(Subquery(counted), 0))


def validate_group_name(name: str) -> None:
    """A name is 1 to 255 characters, not only spaces."""
    if not name.strip() or len(name) > 255:
        raise ValidationError("A group name must be 1 to 255 characters.", code="invalid_name")


def validate_department(platform: Platform, department: Department | None) -> None:
    """A group's department must be one of its platform's."""
    if department is not None and department.platform_id != platform.pk:
        raise ValidationError(
            f"Department {department.name!r} is not a department of platform {platform.key!r}.",
            code="department_of_another_platform",
        )


def create_or_update_group(
    platform: Platform,
    name: str,
    *,
    department: Department | None = UNCHANGED,
    add: Iterable[Any] = (),
    remove: Iterable[Any] = (),
) -> tuple[UserGroup, bool]:
    """The platform's group called ``name``, created if needed, with its department set
    (unless ``UNCHANGED``) and the given users added and removed; and whether it was
    created. Users are user objects or ids. All of it, or nothing (``ValidationError``).
    """
    validate_group_name(name)
    if department is not UNCHANGED:
        validate_department(platform, department)

    def work() -> tuple[UserGroup, bool]:
        group, created = UserGroup.objects.get_or_create(
            platform=platform,
            name=name,
            defaults={"department": None if department is UNCHANGED else department},
        )
        if not created and department is not UNCHANGED and group.department != department:
            group.department = department
            group.save(update_fields=["department", "modified"])
        change_members(group, add=add, remove=remove)
        if department is not UNCHANGED and department is not None:
            # Named (again): the group must hold only its members, whatever it held.
            check_members_in_department(group)
        return group, created

    return retrying_transaction(work)


def add_members(group: UserGroup, users: Iterable[Any]) -> list[int]:
    """Add users (objects or ids) to ``group``; the ids of those who were not in it yet."""
    return change_members(group, add=users).added


def remove_members(group: UserGroup, users: Iterable[Any]) -> list[int]:
    """Remove users (objects or ids) from ``group``; the ids of those who were in it."""
    return change_members(group, remove=users).removed


def change_members(
    group: UserGroup, *, add: Iterable[Any] = (), remove: Iterable[Any] = ()
) -> MembershipChange:
    """Add and remove users (objects or ids) in one transaction, sending one signal.

    Refuses (``NotPlatformMembers``, nothing written) any user to add who is not an
    active member of the group's platform, and (``NotDepartmentMembers``) one who is not
    in the group's department when it has one. Anyone may be removed, members of the
    platform or not. Adding a user who is in the group, or removing one who is not,
    changes nothing and is not reported.
    """
    add_ids, remove_ids = _user_ids(add), _user_ids(remove)
    both = add_ids & remove_ids
    if both:
        raise ValidationError(
            f"Users cannot be added and removed at once (user ids {sorted(both)}).",
            code="added_and_removed",
        )

    def work() -> MembershipChange:
        if add_ids:
            members = set(
                platform_members(group.platform)
                .filter(in_list("pk", add_ids))
                .values_list("pk", flat=True)
            )
            if add_ids - members:
                raise NotPlatformMembers(group.platform, add_ids - members)
            if group.department_id is not None:
                _lock_department_members(group.department_id, add_ids)
        change = MembershipChange(
            added=_insert_members(group, add_ids) if add_ids else [],
            removed=_delete_members(group, remove_ids) if remove_ids else [],
        )
        if change.added or change.removed:
            group_members_changed.send(
                sender=UserGroup, group=group, added=change.added, removed=change.removed
            )
        return change

    return retrying_transaction(work)


def _lock_department_members(department_id: int, user_ids: set[int]) -> None:
    """Refuse users outside the department; lock the rows of those in it (in user
    order) until the transaction ends, so none of them leaves it meanwhile."""
    in_department = set(
        DepartmentMember.objects.select_for_update()
        .filter(in_list("user_id", sorted(user_ids)), department_id=department_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    if user_ids - in_department:
        department = Department.objects.get(pk=department_id)
        raise NotDepartmentMembers(department, user_ids - in_department)


def members_outside_department(group: UserGroup) -> list[int]:
    """Ids of the group's users who are not in its department (none when it has none)."""
    if group.department_id is None:
        return []
    return sorted(
        UserGroupMember.objects.filter(group=group)
        .exclude(
            user_id__in=DepartmentMember.objects.filter(department_id=group.department_id).values(
                "user_id"
            )
        )
        .values_list("user_id", flat=True)
    )


def check_members_in_department(group: UserGroup) -> None:
    """Refuse (``NotDepartmentMembers``) a group that holds users outside its department."""
    outside = members_outside_department(group)
    if outside:
        assert group.department is not None  # members_outside_department found some
        raise NotDepartmentMembers(group.department, outside)


def leave_department_groups(department_id: int, user_ids: Iterable[int]) -> None:
    """Take users who are no longer in a department out of the groups attached to it
    (with the signal, in the caller's transaction): a department's groups hold only its
    members. Users who are in it (again) stay."""
    ids = set(user_ids)
    if not ids:
        return
    gone = ids - set(
        DepartmentMember.objects.filter(
            in_list("user_id", sorted(ids)), department_id=department_id
        ).values_list("user_id", flat=True)
    )
    if not gone:
        return
    held = UserGroupMember.objects.filter(
        in_list("user_id", sorted(gone)), group__department_id=department_id
    ).values_list("group_id", "user_id")
    by_group: dict[int, list[int]] = {}
    for group_id, user_id in held:
        by_group.setdefault(group_id, []).append(user_id)
    for group in UserGroup.objects.filter(pk__in=by_group).select_related("platform"):
        change_members(group, remove=by_group[group.pk])


def on_department_member_saving(sender: Any, instance: DepartmentMember, **kwargs: Any) -> None:
    """``pre_save``: note the department and user an edited row named until now."""
    if instance.pk is not None and not kwargs.get("raw"):
        instance._ibl_before = (  # type: ignore[attr-defined]
            DepartmentMember.objects.filter(pk=instance.pk)
            .values_list("department_id", "user_id")
            .first()
        )


def on_department_member_saved(sender: Any, instance: DepartmentMember, **kwargs: Any) -> None:
    """``post_save``: an edit that moved the row is the old pair leaving."""
    before = getattr(instance, "_ibl_before", None)
    if before is not None and before != (instance.department_id, instance.user_id):
        leave_department_groups(before[0], [before[1]])


def on_department_member_deleted(sender: Any, instance: DepartmentMember, **kwargs: Any) -> None:
    """``post_delete``: the user left the department (also when their user or the
    department is deleted: a department's groups are detached before, so none holds)."""
    leave_department_groups(instance.department_id, [instance.user_id])


def delete_group(group: UserGroup) -> None:
    """Delete ``group``, after removing its members (with the signal, so listeners undo
    what membership gave them) in the same transaction."""

    def work() -> None:
        removed = _delete_members(group, None)
        if removed:
            group_members_changed.send(sender=UserGroup, group=group, added=[], removed=removed)
        group.delete()

    retrying_transaction(work)


def _user_ids(users: Iterable[Any]) -> set[int]:
    return {user if isinstance(user, int) else user.pk for user in users}


def _values(user_ids: list[int]) -> tuple[str, tuple[Any, ...]]:
    select = values_select(user_ids)
    if select is None:
        raise NotSupportedError("User groups need SQLite or PostgreSQL.")
    return select


def _columns() -> tuple[str, str, str, str]:
    """The quoted names of the member table and of its group, user and created columns."""
    return (
        quoted_table(connection, UserGroupMember),
        quoted_column(connection, UserGroupMember, "group"),
        quoted_column(connection, UserGroupMember, "user"),
        quoted_column(connection, UserGroupMember, "created"),
    )


def _insert_members(group: UserGroup, user_ids: set[int]) -> list[int]:
    """Insert the rows that do not exist yet, in user order; the ids inserted."""
    ordered = sorted(user_ids)  # one order for every writer: no deadlock between two adds
    values_sql, values_params = _values(ordered)
    table, group_column, user_column, created_column = _columns()
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    # "WHERE true": SQLite needs it to read ON CONFLICT as the upsert clause, not a join.
    sql = (
        f"INSERT INTO {table} ({group_column}, {user_column}, {created_column}) "
        f"SELECT %s, ids.value, %s FROM ({values_sql}) AS ids WHERE true "
        f"ON CONFLICT ({group_column}, {user_column}) DO NOTHING RETURNING {user_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (group.pk, created, *values_params))
        return sorted(row[0] for row in cursor.fetchall())


def _delete_members(group: UserGroup, user_ids: set[int] | None) -> list[int]:
    """Delete the rows of these users (``None``: of everyone); the ids deleted."""
    table, group_column, user_column, _ = _columns()
    sql = f"DELETE FROM {table} WHERE {group_column} = %s"
    params: tuple[Any, ...] = (group.pk,)
    if user_ids is not None:
        values_sql, values_params = _values(sorted(user_ids))
        sql += f" AND {user_column} IN ({values_sql})"
        params += values_params
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {user_column}", params)
        return sorted(row[0] for row in cursor.fetchall())
