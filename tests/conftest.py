"""Fixtures shared by the suite: a two-platform world with every role in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.factories import (
    DepartmentAdminFactory,
    DepartmentFactory,
    DepartmentMemberFactory,
    PlatformFactory,
    UserFactory,
    issue_keys,
)

#: Rough seconds per test of each tier, to start the longest modules first.
TIER_SECONDS = {"live": 6.0, "fuzz": 0.6, "slow": 2.0}


def module_weight(items: list[pytest.Item]) -> float:
    return sum(
        max((TIER_SECONDS.get(mark.name, 0.0) for mark in item.iter_markers()), default=0.05)
        for item in items
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the modules longest first, by their tiers' rough weight, each module's
    tests in their own order.

    ``make test`` hands whole modules to its processes (``--dist loadfile``) in the
    order collected (``--no-loadscope-reorder``; xdist would otherwise order them by
    how many tests they hold): a module that starts a server and runs for a minute
    must start early, not be the one a process is still busy with after the other ran
    out of work."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    ordered = sorted(modules.values(), key=module_weight, reverse=True)
    items[:] = [item for module in ordered for item in module]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a fresh folder per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Each test starts with no request counted against any throttle."""
    from django.core.cache import caches

    from ibl_core.conf import ibl_settings

    caches[ibl_settings.THROTTLE_CACHE].clear()


@dataclass
class World:
    """Two platforms; on p1 every role, on p2 a learner and an admin."""

    p1: Any
    p2: Any
    department: Any
    other_department: Any
    users: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        """An API client authenticated with the role's key (anonymous: none)."""
        client = APIClient()
        if role != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Token {self.keys[role]}")
        return client


ROLES = [
    "anonymous",
    "outsider",
    "learner_p1",
    "learner_p2",
    "department_admin",
    "platform_admin_p1",
    "platform_admin_p2",
    "dm_admin",
]


#: The world's people: username -> (platform attribute or None, membership fields, the
#: platform attribute of their key). Built with four multi-row inserts: the world is set
#: up for most of the suite's tests, and one save per row was about half of a typical
#: test's time.
PEOPLE: dict[str, tuple[str | None, dict[str, Any], str]] = {
    "outsider": (None, {}, "p1"),  # a key on p1 without membership
    "learner_p1": ("p1", {}, "p1"),
    "learner_p2": ("p2", {}, "p2"),
    "platform_admin_p1": ("p1", {"is_admin": True}, "p1"),
    "platform_admin_p2": ("p2", {"is_admin": True}, "p2"),
    "department_admin": ("p1", {}, "p1"),
    "learner_other_department": ("p1", {}, "p1"),
    "dm_admin": (None, {}, "p2"),  # a DM admin's key works everywhere
}


STAFF = {"dm_admin": {"is_superuser": True, "is_staff": True}}


@pytest.fixture
def world(db) -> World:
    from django.contrib.auth import get_user_model

    from ibl_core.models import PlatformMembership

    p1 = PlatformFactory(key="p1", org="org-one")
    p2 = PlatformFactory(key="p2", org="org-two")
    department = DepartmentFactory(platform=p1, name="Engineering")
    other_department = DepartmentFactory(platform=p1, name="Design")
    w = World(p1=p1, p2=p2, department=department, other_department=other_department)
    platforms = {"p1": p1, "p2": p2}

    users = [UserFactory.build(username=name, **STAFF.get(name, {})) for name in PEOPLE]
    get_user_model().objects.bulk_create(users)
    w.users = {user.username: user for user in users}
    PlatformMembership.objects.bulk_create(
        PlatformMembership(user=w.users[name], platform=platforms[platform], **fields)
        for name, (platform, fields, _) in PEOPLE.items()
        if platform is not None
    )
    w.keys = issue_keys((w.users[name], platforms[key_on]) for name, (*_, key_on) in PEOPLE.items())
    # One save each: their signals keep the groups that follow a department.
    DepartmentAdminFactory(department=department, user=w.users["department_admin"])
    DepartmentMemberFactory(department=department, user=w.users["learner_p1"])
    DepartmentMemberFactory(department=other_department, user=w.users["learner_other_department"])
    return w


@pytest.fixture
def published_client(request, live_server):
    """The published client on the live server, recording the operations it sends; a
    test's ``@pytest.mark.sdk_operations(...)`` must all be sent
    (tests/support/sdk_operations.py)."""
    from tests.support.sdk_operations import sdk_clients

    yield from sdk_clients(request, live_server)
