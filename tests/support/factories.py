"""factory_boy factories for the test suite."""

from __future__ import annotations

import secrets

import factory
from django.contrib.auth import get_user_model

from ibl_catalog.models import Course, Pathway, Program
from ibl_core.models import (
    APIKey,
    Department,
    DepartmentAdmin,
    DepartmentMember,
    Platform,
    PlatformMembership,
    UserGroup,
    hash_api_key,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform

    key = factory.Sequence(lambda n: f"platform{n}")
    org = factory.LazyAttribute(lambda p: f"{p.key}-org")
    name = factory.LazyAttribute(lambda p: p.key.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformMembership

    user = factory.SubFactory(UserFactory)
    platform = factory.SubFactory(PlatformFactory)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    platform = factory.SubFactory(PlatformFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class DepartmentMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepartmentMember

    department = factory.SubFactory(DepartmentFactory)
    user = factory.SubFactory(UserFactory)


class DepartmentAdminFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepartmentAdmin

    department = factory.SubFactory(DepartmentFactory)
    user = factory.SubFactory(UserFactory)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    platform = factory.SubFactory(PlatformFactory)
    program_key = factory.Sequence(lambda n: f"program-v1:org+program{n}+run")
    name = factory.Sequence(lambda n: f"Program {n}")


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    platform = factory.SubFactory(PlatformFactory)
    course_id = factory.Sequence(lambda n: f"course-v1:org+course{n}+run")
    name = factory.Sequence(lambda n: f"Course {n}")


class PathwayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pathway

    platform = factory.SubFactory(PlatformFactory)
    pathway_id = factory.Sequence(lambda n: f"pathway-{n}")
    name = factory.Sequence(lambda n: f"Pathway {n}")


class UserGroupFactory(factory.django.DjangoModelFactory):
    """A group without members: add them with ``ibl_core.tenancy.groups``."""

    class Meta:
        model = UserGroup

    platform = factory.SubFactory(PlatformFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


def issue_key(user, platform, **kwargs) -> str:
    """Issue an API key and return the raw value."""
    return APIKey.objects.issue(user=user, platform=platform, **kwargs)[1]


def issue_keys(holders) -> dict[str, str]:
    """Issue one key to each ``(user, platform)`` in one insert, as ``issue_key`` does
    one by one; return username -> raw value."""
    raw = {}
    keys = []
    for user, platform in holders:
        value = secrets.token_hex(32)
        raw[user.username] = value
        keys.append(
            APIKey(
                user=user,
                platform=platform,
                prefix=value[: APIKey.PREFIX_LENGTH],
                hashed_key=hash_api_key(value),
            )
        )
    APIKey.objects.bulk_create(keys)
    return raw
