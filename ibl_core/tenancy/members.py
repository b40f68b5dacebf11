"""Who is a member of a platform: one rule for every endpoint.

A member is a user with ``is_active=True`` and an active membership of the platform.
A deactivated user is no member anywhere: they cannot be the target of a suggestion,
suggest anything, or be named in a credentials path, and they get the same answer as
a user who does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from ibl_core.models import Platform


def platform_members(platform: Platform) -> QuerySet[Any]:
    """The users who are members of ``platform``, as a queryset to filter further."""
    return get_user_model()._default_manager.filter(
        is_active=True,
        platform_memberships__platform=platform,
        platform_memberships__active=True,
    )
