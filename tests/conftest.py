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
    MembershipFactory,
    PlatformFactory,
    UserFactory,
    issue_key,
)


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


@pytest.fixture
def world(db) -> World:
    p1 = PlatformFactory(key="p1", org="org-one")
    p2 = PlatformFactory(key="p2", org="org-two")
    department = DepartmentFactory(platform=p1, name="Engineering")
    other_department = DepartmentFactory(platform=p1, name="Design")
    w = World(p1=p1, p2=p2, department=department, other_department=other_department)

    def member(name: str, platform, **kwargs):
        user = UserFactory(username=name)
        MembershipFactory(user=user, platform=platform, **kwargs)
        w.users[name] = user
        w.keys[name] = issue_key(user, platform)
        return user

    outsider = UserFactory(username="outsider")
    w.users["outsider"] = outsider
    w.keys["outsider"] = issue_key(outsider, p1)  # a key on p1 without membership
    member("learner_p1", p1)
    member("learner_p2", p2)
    member("platform_admin_p1", p1, is_admin=True)
    member("platform_admin_p2", p2, is_admin=True)
    dept_admin = member("department_admin", p1)
    DepartmentAdminFactory(department=department, user=dept_admin)
    DepartmentMemberFactory(department=department, user=w.users["learner_p1"])
    in_other = member("learner_other_department", p1)
    DepartmentMemberFactory(department=other_department, user=in_other)
    dm = UserFactory(username="dm_admin", is_superuser=True, is_staff=True)
    w.users["dm_admin"] = dm
    w.keys["dm_admin"] = issue_key(dm, p2)  # a DM admin's key works everywhere
    return w


@pytest.fixture
def published_client(request, live_server):
    """The published client on the live server, recording the operations it sends; a
    test's ``@pytest.mark.sdk_operations(...)`` must all be sent
    (tests/support/sdk_operations.py)."""
    from tests.support.sdk_operations import sdk_clients

    yield from sdk_clients(request, live_server)
