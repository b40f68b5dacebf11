"""Group suggestions (``manage/group/``): who may manage which groups, reads, writes.

A group suggestion suggests an item to every member of a user group; ``fanout.py``
turns it into the members' per-user suggestions and keeps them in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import django_filters
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ibl_catalog.suggestions import fanout
from ibl_catalog.suggestions.base import GroupSuggestionBase, SuggestionKind
from ibl_catalog.suggestions.events import group_suggestion_event
from ibl_catalog.suggestions.filters import SortForm
from ibl_catalog.suggestions.rules import Metadata
from ibl_catalog.suggestions.services import item_named, suggester_id
from ibl_core.models import Platform, UserGroup
from ibl_core.sql import in_list, retrying_transaction
from ibl_core.tenancy.groups import with_user_count
from ibl_core.tenancy.platforms import department_mode_requested
from ibl_core.tenancy.roles import roles_for

GROUP_NOT_FOUND_MESSAGE = "No such group on this platform."
DEFAULT_GROUP_SORT = "id"
#: The item foreign key of every group suggestion model.
ITEM = "item"


def group_model(kind: SuggestionKind) -> type[GroupSuggestionBase]:
    assert kind.group_model is not None, f"{kind.label} has no group suggestions"
    return kind.group_model


def managed_groups(request: Request, platform: Platform) -> QuerySet[UserGroup]:
    """The platform's groups the caller may manage: all of them for a DM or platform
    admin; for a department admin in department_mode, those attached to a department
    they administer; none for anyone else."""
    groups = UserGroup.objects.filter(platform=platform)
    roles = roles_for(request, platform)
    if roles.manages_whole_platform:
        return groups
    if not department_mode_requested(request):
        return groups.none()
    return groups.filter(department_id__in=list(roles.administered_department_ids))


def group_suggestions_of(
    kind: SuggestionKind, request: Request, platform: Platform
) -> QuerySet[Any]:
    """The platform's group suggestions of the groups the caller may manage."""
    suggestions = group_model(kind)._default_manager.filter(platform=platform)
    if roles_for(request, platform).manages_whole_platform:
        return suggestions
    return suggestions.filter(group__in=managed_groups(request, platform))


# -- reads ----------------------------------------------------------------------


def sort_columns(kind: SuggestionKind) -> dict[str, str]:
    """The list's ``sort`` values (without ``-``) and the column each orders by."""
    columns = {
        "id": "id",
        "created": "created",
        "modified": "modified",
        "group_name": "group__name",
    }
    for identifier in kind.identifiers:
        columns[identifier.name] = f"{ITEM}__{identifier.field}"
    columns[kind.item_name] = f"{ITEM}__{kind.name_field}"
    return columns


def search(kind: SuggestionKind, suggestions: QuerySet, text: str) -> QuerySet:
    """Case-insensitive substring of the group's name, the item's identifiers or name."""
    condition = Q(group__name__icontains=text) | Q(
        **{f"{ITEM}__{kind.name_field}__icontains": text}
    )
    for identifier in kind.identifiers:
        condition |= Q(**{f"{ITEM}__{identifier.field}__icontains": text})
    return suggestions.filter(condition)


def group_rows(
    kind: SuggestionKind, ids: Sequence[int], platform: Platform
) -> list[dict[str, Any]]:
    """The group suggestion objects of ``ids``, in that order: one query for the rows,
    one for their groups' member counts (whatever the number of rows)."""
    item: dict[str, Any] = {
        identifier.name: F(f"{ITEM}__{identifier.field}") for identifier in kind.identifiers
    }
    item[kind.item_name] = F(f"{ITEM}__{kind.name_field}")
    platform_key = Value(platform.key, output_field=CharField())
    if kind.platform_key_name:  # an item is on the platform of its suggestions
        item[kind.platform_key_name] = platform_key
    manager: Any = group_model(kind)._default_manager
    rows = manager.filter(in_list("pk", list(ids)), platform=platform)
    by_id = {
        row["id"]: row
        for row in rows.values(
            "id",
            "group_id",
            "accepted",
            "visible",
            "created",
            "modified",
            "metadata",
            group_name=F("group__name"),
            platform_key=platform_key,
            **item,
        )
    }
    counted: Any = with_user_count(
        UserGroup.objects.filter(in_list("pk", {row["group_id"] for row in by_id.values()}))
    )
    counts = dict(counted.values_list("pk", "user_count"))
    return [
        {**by_id[pk], "user_count": counts.get(by_id[pk]["group_id"], 0)}
        for pk in ids
        if pk in by_id
    ]


def build_group_filterset(kind: SuggestionKind) -> type[django_filters.FilterSet]:
    """The filter set of ``kind``'s group list: search and a whitelisted sort."""
    columns = sort_columns(kind)
    values = [*columns, *(f"-{name}" for name in columns)]
    choices = [(value, value) for value in values]
    accepted = ", ".join(values)

    def filter_query(queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search(kind, queryset, value)

    def filter_sort(queryset: QuerySet, name: str, value: str) -> QuerySet:
        prefix = "-" if value.startswith("-") else ""
        # Ties are broken by id in the same direction, so pages never repeat or skip rows.
        return queryset.order_by(f"{prefix}{columns[value.lstrip('-')]}", f"{prefix}id")

    names = ", ".join([*kind.identifier_names, kind.item_name])
    attrs: dict[str, Any] = {
        "query": django_filters.CharFilter(
            method=filter_query,
            label="Search",
            max_length=255,
            help_text=f"Case-insensitive substring of the group's name, {names}.",
        ),
        "sort": django_filters.ChoiceFilter(
            choices=choices,
            label="Sort",
            method=filter_sort,
            empty_label=None,
            help_text=f"Sort order (default {DEFAULT_GROUP_SORT}); ties are broken by id.",
            error_messages={
                "invalid_choice": f"Unknown sort value %(value)s; accepted values: {accepted}."
            },
        ),
        "Meta": type("Meta", (), {"form": SortForm}),
        "__module__": __name__,
    }
    return type(f"{kind.label.title()}GroupSuggestionFilterSet", (django_filters.FilterSet,), attrs)


# -- writes ---------------------------------------------------------------------


def upsert_group_suggestion(
    kind: SuggestionKind,
    *,
    request: Request,
    platform: Platform,
    data: Mapping[str, Any],
    actor_id: int | None,
) -> dict[str, Any]:
    """Create or update a group suggestion from a validated body and fan it out to the
    group's members, in one transaction; the group suggestion object as written (read
    in that transaction, under the group's lock: no member can join or leave before
    the commit, and no read after it can find the suggestion deleted meanwhile).

    Checks, in this order: the group (one 400 for an unknown group, another
    platform's and one a department admin does not manage), the item (400),
    ``suggested_by`` (400). Creating sets the defaults of the fields not sent;
    updating changes only the fields sent.
    """
    group = managed_groups(request, platform).filter(pk=data["group_id"]).first()
    if group is None:
        raise exceptions.ValidationError({"group_id": [GROUP_NOT_FOUND_MESSAGE]})
    group.platform = platform  # the fan-out reads the group's platform: no second lookup
    item = item_named(kind, platform, data)
    fields: dict[str, Any] = {
        name: data[name] for name in ("accepted", "visible", "direct") if name in data
    }
    if "metadata" in data:
        metadata = data["metadata"]
        fields["metadata"] = metadata.value if isinstance(metadata, Metadata) else metadata
    if "suggested_by" in data:
        fields["suggested_by_id"] = suggester_id(platform, data["suggested_by"])
    model = group_model(kind)
    manager = model._default_manager
    key = {"platform": platform, "group": group, "item_id": item.id}

    def work() -> dict[str, Any]:
        fanout.lock_group(group.pk)  # before the members are read: see lock_group
        now = timezone.now()
        suggestion = manager.select_for_update().filter(**key).first()
        created = False
        if suggestion is None:
            try:
                with transaction.atomic(using=manager.db):
                    suggestion = manager.create(
                        **key,
                        **{"suggested_by_id": actor_id, **fields},
                        created=now,
                        modified=now,
                    )
                created = True
            except IntegrityError:  # created meanwhile by a concurrent request
                suggestion = manager.select_for_update().get(**key)
                suggestion = _update(suggestion, fields, now)
        else:
            suggestion = _update(suggestion, fields, now)
        suggestion.group = group  # the members to fan out to: no second lookup
        fanout.fan_out(kind, platform, suggestion)
        (row,) = group_rows(kind, [suggestion.pk], platform)
        if created:
            group_suggestion_event(kind, platform, "group_suggestion.created", row)
        return row

    return retrying_transaction(work, using=manager.db)


def _update(suggestion: Any, fields: Mapping[str, Any], now: Any) -> Any:
    for name, value in fields.items():
        setattr(suggestion, name, value)
    suggestion.modified = now
    suggestion.save(update_fields=[*fields, "modified"])
    return suggestion


def delete_group_suggestion(
    suggestions: QuerySet, kind: SuggestionKind, suggestion_id: int
) -> None:
    """Delete the group suggestion ``suggestion_id`` among ``suggestions`` (404 when
    absent) and the per-user suggestions only it supported, in one transaction."""
    manager = group_model(kind)._default_manager

    def work() -> None:
        group_id = suggestions.filter(pk=suggestion_id).values_list("group_id", flat=True).first()
        if group_id is None:
            raise exceptions.NotFound("Suggestion not found.")
        fanout.lock_group(group_id)  # the group first, as every writer of its suggestions
        found = suggestions.select_for_update().filter(pk=suggestion_id)
        if found.values_list("pk", flat=True).first() is None:  # deleted meanwhile
            raise exceptions.NotFound("Suggestion not found.")
        platform = Platform.objects.get(pk=found.values_list("platform_id", flat=True)[0])
        (row,) = group_rows(kind, [suggestion_id], platform)
        fanout.withdraw(kind, suggestion_id)
        manager.filter(pk=suggestion_id).delete()
        group_suggestion_event(kind, platform, "group_suggestion.deleted", row)

    retrying_transaction(work, using=manager.db)
