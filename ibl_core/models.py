"""Every table of ``ibl_core``, for Django's app registry and migrations.

The tables live beside the code that owns them: tenancy in :mod:`ibl_core.tenancy.models`,
the outbox and webhooks in :mod:`ibl_core.events.models`. Their app label stays
``ibl_core``, so nothing about the database changes.
"""

from ibl_core.events.models import (
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from ibl_core.tenancy.models import (
    APIKey,
    APIKeyManager,
    Department,
    DepartmentAdmin,
    DepartmentMember,
    Platform,
    PlatformMembership,
    TimeStampedModel,
    UserGroup,
    UserGroupMember,
    hash_api_key,
    validate_platform_identifiers,
)

__all__ = [
    "APIKey",
    "APIKeyManager",
    "Department",
    "DepartmentAdmin",
    "DepartmentMember",
    "Event",
    "Platform",
    "PlatformMembership",
    "TimeStampedModel",
    "UserGroup",
    "UserGroupMember",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "hash_api_key",
    "validate_platform_identifiers",
]
