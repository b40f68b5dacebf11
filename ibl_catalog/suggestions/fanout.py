"""Group suggestions reaching their members: fan-out, joins, leaves and removal.

A group suggestion gives every member of its group a per-user suggestion of the same
item (``direct=false``), written by the one writer in create-only mode: a member who
already has that suggestion keeps it as it is, ``direct`` flag included. A support
row (the kind's ``support_model``) records each group suggestion that gave or keeps
a per-user suggestion, so removal is exact: a per-user suggestion goes when its last
support goes, unless it was written directly (``direct=true``).

Every step is a fixed number of set-based statements (one per batch of
``BULK_BATCH_SIZE`` users), whatever the group's size, with the user ids as one
parameter (``ibl_core.sql.values_select``). Everything runs in the caller's
transaction: a POST's, or the membership change's (``group_members_changed`` is sent
inside it), so it is visible when the request or command returns and rolls back with
it. A group suggestion to more than ``GROUP_FANOUT_TASK_THRESHOLD`` members is fanned
out by a background task instead (:func:`fan_out_task`, enqueued when the transaction
commits): the request answers at once, and the members receive it when the task runs.
The task reads the members then, under the group's lock, so joins and leaves in
between are neither missed nor applied twice (a join writes create-only and its
support rows do nothing on conflict).

Lock order (PostgreSQL): per-user suggestions are inserted and locked in (user, item)
order, as every other writer does, before support rows are written or removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connections
from django.db.models import CharField, Model, Value

from ibl_catalog.suggestions.base import GroupSuggestionBase, SuggestionKind
from ibl_catalog.suggestions.registry import group_suggestion_kinds
from ibl_catalog.suggestions.writer import PendingWrite, give_to_users, write_suggestions
from ibl_core.conf import ibl_settings
from ibl_core.events.tasks import enqueue_on_commit, task
from ibl_core.models import Platform, UserGroup
from ibl_core.sql import quoted_column, quoted_table, retrying_transaction, values_select
from ibl_core.tenancy.groups import group_members

logger = logging.getLogger("ibl.catalog")


def _batches(ids: Sequence[int]) -> list[Sequence[int]]:
    size = int(ibl_settings.BULK_BATCH_SIZE)
    return [ids[start : start + size] for start in range(0, len(ids), size)]


class _Tables:
    """Quoted table and column names of one kind's three tables."""

    def __init__(self, kind: SuggestionKind) -> None:
        assert kind.group_model is not None and kind.support_model is not None
        self.alias = kind.model._default_manager.db
        connection = connections[self.alias]
        self.vendor = connection.vendor

        def column(model: type[Model], name: str) -> str:
            return quoted_column(connection, model, name)

        self.suggestions = quoted_table(connection, kind.model)
        self.s_id = column(kind.model, "id")
        self.s_user = column(kind.model, "user")
        self.s_item = column(kind.model, kind.item_field)
        self.s_platform = column(kind.model, "platform")
        self.s_direct = column(kind.model, "direct")
        self.groups = quoted_table(connection, kind.group_model)
        self.g_id = column(kind.group_model, "id")
        self.g_group = column(kind.group_model, "group")
        self.g_item = column(kind.group_model, "item")
        self.g_platform = column(kind.group_model, "platform")
        self.support = quoted_table(connection, kind.support_model)
        self.sup_group = column(kind.support_model, "group_suggestion")
        self.sup_suggestion = column(kind.support_model, "suggestion")

    def values(self, ids: Sequence[int]) -> tuple[str, tuple[Any, ...]]:
        select = values_select(list(ids), using=self.alias)
        if select is None:
            raise NotImplementedError("Group suggestions need SQLite or PostgreSQL.")
        return select


def _row_fields(group_suggestion: Any) -> dict[str, Any]:
    """The fields a member's new per-user suggestion takes from a group suggestion
    (a model instance or a ``values()`` row)."""
    get = (
        group_suggestion.get
        if isinstance(group_suggestion, dict)
        else (lambda name: getattr(group_suggestion, name))
    )
    return {
        "accepted": get("accepted"),
        "visible": get("visible"),
        "direct": False,
        "metadata": get("metadata"),
        "suggested_by_id": get("suggested_by_id"),
    }


def fan_out(
    kind: SuggestionKind,
    platform: Platform,
    group_suggestion: GroupSuggestionBase,
    *,
    in_background: bool = False,
) -> int:
    """Give every current member of the group the per-user suggestion (create-only) and
    record that this group suggestion supports it; the number of members reached.

    Above ``GROUP_FANOUT_TASK_THRESHOLD`` members (and not already in the task), the
    work is left to :func:`fan_out_task` once the transaction commits."""
    user_ids = sorted(
        group_members(group_suggestion.group).values_list("pk", flat=True)  # type: ignore[attr-defined]
    )
    if not user_ids:
        return 0
    if not in_background and len(user_ids) > int(ibl_settings.GROUP_FANOUT_TASK_THRESHOLD):
        logger.info(
            "Fanning out group suggestion %s to %d members in a background task "
            "(above GROUP_FANOUT_TASK_THRESHOLD).",
            group_suggestion.pk,
            len(user_ids),
        )
        enqueue_on_commit(fan_out_task, kind.label, group_suggestion.pk)
        return len(user_ids)
    give_to_users(
        kind,
        platform,
        group_suggestion.item_id,  # type: ignore[attr-defined]
        user_ids,
        _row_fields(group_suggestion),
    )
    _add_support(kind, "id", group_suggestion.pk, user_ids)
    return len(user_ids)


@task()
def fan_out_task(kind_label: str, group_suggestion_id: int) -> int:
    """The fan-out of a large group's suggestion, in its own transaction under the
    group's lock; the members reached (0 when it was deleted meanwhile)."""
    kind = next(kind for kind in group_suggestion_kinds() if kind.label == kind_label)
    manager: Any = kind.group_model._default_manager  # type: ignore[union-attr]

    def work() -> int:
        found = manager.filter(pk=group_suggestion_id).values_list("group_id", flat=True).first()
        if found is None:
            return 0
        lock_group(found)
        suggestion = (
            manager.select_related("group__platform").filter(pk=group_suggestion_id).first()
        )
        if suggestion is None:  # deleted while we waited for the lock
            return 0
        return fan_out(kind, suggestion.group.platform, suggestion, in_background=True)

    return retrying_transaction(work, using=manager.db)


def group_suggestions_by_kind(group: UserGroup) -> dict[str, list[dict[str, Any]]]:
    """The group suggestions of ``group``, by kind label, in one query for all kinds
    (a membership change of a group without suggestions costs one query here)."""
    queries = [
        cast(Any, kind.group_model)
        ._default_manager.filter(group=group)
        .values(
            "id",
            "item_id",
            "accepted",
            "visible",
            "metadata",
            "suggested_by_id",
            label=Value(kind.label, output_field=CharField()),
        )
        for kind in group_suggestion_kinds()
    ]
    found: dict[str, list[dict[str, Any]]] = {}
    for row in queries[0].union(*queries[1:], all=True):
        found.setdefault(row["label"], []).append(row)
    return found


def members_joined(group: UserGroup, user_ids: Iterable[int]) -> None:
    """Users joined ``group``: they receive every group suggestion of it, of all kinds."""
    ordered = sorted(set(user_ids))
    found = group_suggestions_by_kind(group)
    for kind in group_suggestion_kinds():
        if kind.label not in found:
            continue
        writes = [
            PendingWrite(user_id, row["item_id"], _row_fields(row))
            for row in found[kind.label]
            for user_id in ordered
        ]
        write_suggestions(kind, group.platform, writes, suggested_by_id=None, update_existing=False)
        _add_support(kind, "group", group.pk, ordered)


def members_left(group: UserGroup, user_ids: Iterable[int]) -> None:
    """Users left ``group``: they lose its support, and the per-user suggestions that no
    other group suggestion supports and that were not written directly."""
    ordered = sorted(set(user_ids))
    found = group_suggestions_by_kind(group)
    for kind in group_suggestion_kinds():
        if kind.label not in found:
            continue
        t = _Tables(kind)
        supported: list[int] = []
        with connections[t.alias].cursor() as cursor:
            for batch in _batches(ordered):
                values_sql, values_params = t.values(batch)
                cursor.execute(
                    f"DELETE FROM {t.support} WHERE {t.sup_group} IN "
                    f"(SELECT {t.g_id} FROM {t.groups} WHERE {t.g_group} = %s) "
                    f"AND {t.sup_suggestion} IN (SELECT {t.s_id} FROM {t.suggestions} "
                    f"WHERE {t.s_user} IN ({values_sql})) RETURNING {t.sup_suggestion}",
                    (group.pk, *values_params),
                )
                supported += [row[0] for row in cursor.fetchall()]
        _remove_unsupported(kind, supported)


def withdraw(kind: SuggestionKind, group_suggestion_id: int) -> None:
    """Before a group suggestion is deleted: remove its support rows and the per-user
    suggestions only it supported (not those written directly)."""
    t = _Tables(kind)
    with connections[t.alias].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {t.support} WHERE {t.sup_group} = %s RETURNING {t.sup_suggestion}",
            (group_suggestion_id,),
        )
        supported = [row[0] for row in cursor.fetchall()]
    _remove_unsupported(kind, supported)


def lock_group(group_id: int) -> None:
    """Lock the group's row (PostgreSQL) until the transaction ends.

    A group suggestion's write or deletion and a membership change of its group take
    it, so each sees the other's result: otherwise a fan-out reading the members
    before a join commits, and the join reading the group's suggestions before the
    fan-out commits, would leave the newcomer without the suggestion (and a leaver
    with one).
    """
    # No ordering: UserGroup's default one joins the platform, which FOR UPDATE would
    # lock too, and every suggestion write checks its platform key at commit.
    list(
        UserGroup.objects.select_for_update(of=("self",))
        .filter(pk=group_id)
        .order_by()
        .values_list("pk", flat=True)
    )


def on_group_members_changed(
    sender: Any, group: UserGroup, added: list[int], removed: list[int], **kwargs: Any
) -> None:
    """``group_members_changed`` receiver: joins receive, leaves lose (same transaction)."""
    lock_group(group.pk)
    if added:
        members_joined(group, added)
    if removed:
        members_left(group, removed)


# -- statements ----------------------------------------------------------------


def _add_support(kind: SuggestionKind, by: str, value: int, user_ids: Sequence[int]) -> None:
    """Record that the group suggestions with ``<by> = value`` (``id``: one; ``group``:
    all of a group) support the per-user suggestions of their item for ``user_ids``:
    one ``INSERT ... SELECT`` per batch."""
    t = _Tables(kind)
    condition = t.g_id if by == "id" else t.g_group
    with connections[t.alias].cursor() as cursor:
        for batch in _batches(user_ids):
            values_sql, values_params = t.values(batch)
            cursor.execute(
                f"INSERT INTO {t.support} ({t.sup_group}, {t.sup_suggestion}) "
                f"SELECT g.{t.g_id}, s.{t.s_id} FROM {t.groups} g "
                f"INNER JOIN {t.suggestions} s ON s.{t.s_platform} = g.{t.g_platform} "
                f"AND s.{t.s_item} = g.{t.g_item} "
                f"WHERE g.{condition} = %s AND s.{t.s_user} IN ({values_sql}) "
                f"ON CONFLICT ({t.sup_group}, {t.sup_suggestion}) DO NOTHING",
                (value, *values_params),
            )


def _remove_unsupported(kind: SuggestionKind, suggestion_ids: Sequence[int]) -> None:
    """Delete those of ``suggestion_ids`` that no support row holds and that are not
    ``direct``.

    On PostgreSQL the rows are locked first, in (user, item) order like every writer:
    a fan-out that added a support row meanwhile has committed when the lock is
    granted, and the DELETE (a new statement, a new snapshot) sees that row.
    """
    if not suggestion_ids:
        return
    t = _Tables(kind)
    ids = sorted(set(suggestion_ids))
    with connections[t.alias].cursor() as cursor:
        for batch in _batches(ids):
            values_sql, values_params = t.values(batch)
            if t.vendor == "postgresql":
                cursor.execute(
                    f"SELECT {t.s_id} FROM {t.suggestions} WHERE {t.s_id} IN ({values_sql}) "
                    f"ORDER BY {t.s_user}, {t.s_item} FOR UPDATE",
                    values_params,
                )
            cursor.execute(
                f"DELETE FROM {t.suggestions} WHERE {t.s_id} IN ({values_sql}) "
                f"AND {t.s_direct} = %s AND NOT EXISTS (SELECT 1 FROM {t.support} x "
                f"WHERE x.{t.sup_suggestion} = {t.suggestions}.{t.s_id})",
                (*values_params, False),
            )
