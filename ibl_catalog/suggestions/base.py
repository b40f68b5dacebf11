"""The abstract suggestion table and the declaration of a suggestion kind."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.db import models
from django.utils import timezone

from ibl_core.models import Platform, UserGroup


class SuggestionBase(models.Model):
    """Columns shared by every suggestion kind; a subclass adds the item foreign key.

    The subclass declares the unique constraint on (platform, user, <item>), indexes
    for the list's sort orders and one on (platform, <item>) for a search matching
    items (see ``ProgramSuggestion``).
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    accepted = models.BooleanField(default=False)
    visible = models.BooleanField(default=True)
    direct = models.BooleanField(default=True)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    metadata = models.JSONField(default=dict, blank=True)
    # Set by the writer (one clock reading for both on creation), not auto_now: a new
    # suggestion's created and modified are equal, as clients expect.
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            self.modified = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "modified"}
        super().save(*args, **kwargs)


class GroupSuggestionBase(models.Model):
    """Columns shared by every kind's group suggestion; a subclass adds ``item``.

    Its own ``direct`` is stored and echoed only: the per-user rows it fans out to
    members are always ``direct=false`` (``fanout.py``).
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="+")
    accepted = models.BooleanField(default=False)
    visible = models.BooleanField(default=True)
    direct = models.BooleanField(default=True)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


#: Fields a request may set on a suggestion; absent ones are left as they are.
WRITABLE_FIELDS = ("accepted", "visible", "direct", "metadata")


@dataclass(frozen=True)
class Identifier:
    """One way requests name an item of a kind, e.g. ``pathway_uuid``.

    ``name`` is the request (and response) field, ``field`` the item model's field.
    """

    name: str
    field: str
    is_uuid: bool = False


@dataclass(frozen=True)
class SuggestionKind:
    """Declares one kind of suggestion.

    ``label`` names it in URLs, operation ids and response fields (``<label>_name``);
    ``item_field`` is the foreign key of ``model`` to the catalog item. Requests name
    the item by one of ``identifiers`` (several: any of them, and those given must
    name the same item); responses carry every identifier, the item's name and, with
    ``item_platform_key``, ``<label>_platform_key``.
    """

    label: str
    model: type[SuggestionBase]
    item_field: str
    identifiers: tuple[Identifier, ...]
    name_field: str = "name"
    #: Items with this flag off cannot be suggested (None: every item can).
    enabled_field: str | None = "enabled"
    item_platform_key: bool = False
    #: The kind's group suggestions (item foreign key ``item``) and the table that
    #: records which group suggestions support which per-user suggestion.
    group_model: type[GroupSuggestionBase] | None = None
    support_model: type[models.Model] | None = None

    @cached_property
    def item_model(self) -> type[models.Model]:
        field: Any = self.model._meta.get_field(self.item_field)
        return field.related_model

    @property
    def key_name(self) -> str:
        """The first identifier's name in requests and responses, e.g. ``program_key``."""
        return self.identifiers[0].name

    @property
    def key_field(self) -> str:
        """The item model's field of the first identifier."""
        return self.identifiers[0].field

    @cached_property
    def identifier_names(self) -> tuple[str, ...]:
        return tuple(identifier.name for identifier in self.identifiers)

    @property
    def item_name(self) -> str:
        """Name of the item's name in responses, e.g. ``program_name``."""
        return f"{self.label}_name"

    @property
    def platform_key_name(self) -> str | None:
        """``<label>_platform_key`` when responses carry it, else ``None``."""
        return f"{self.label}_platform_key" if self.item_platform_key else None

    @property
    def not_found_code(self) -> str:
        """Bulk error code of a row naming an unknown item, e.g. ``program_not_found``."""
        return f"{self.label}_not_found"

    @property
    def unique_fields(self) -> list[str]:
        return ["platform", "user", self.item_field]


class Member(NamedTuple):
    """What a write needs to know of a member: identity checks and the answer's names.

    ``name`` is ``ibl_core.tenancy.scope.full_name_text``, the Python twin of the SQL the list
    builds it with, so a POST answers the same ``name`` as the list."""

    username: str
    email: str
    name: str


class Item(NamedTuple):
    """A suggestable item: its id, name and identifiers (``{"program_key": ...}``)."""

    id: int
    name: str
    keys: dict[str, str]
