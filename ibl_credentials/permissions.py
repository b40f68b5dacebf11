"""Who may call the credentials endpoints (contract ``credentials.md``, "Who may call").

The role rules come from :mod:`ibl_core.tenancy.permissions`; this module only composes them
with the one rule that is specific to credentials paths: the ``{user_id}`` segment.
Each class carries the message of its 403, and a view lists them in order::

    permission_classes = [IsPlatformMemberOrDMAdmin, IsPathUserOrPlatformAdmin]

Checked in that order, a caller who is not a member gets 403 before the path user is
looked up, and a learner naming someone else gets 403 without learning whether that
user exists. Only an admin naming an unknown user (or a non-member) gets 404.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ibl_core.tenancy.permissions import IsDMAdmin, IsPlatformAdmin, IsPlatformMember
from ibl_credentials.base import path_user_for_request, path_user_is_caller


class _Rule(BasePermission):
    """A permission made of ibl_core classes, with a message of its own."""

    rule: Any

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(self.rule().has_permission(request, view))


class IsPlatformAdminOrDMAdmin(_Rule):
    """A platform admin of ``{org}``, or a DM admin."""

    rule = IsDMAdmin | IsPlatformAdmin
    message = "Only platform admins may do this."


class IsPlatformMemberOrDMAdmin(_Rule):
    """Any active member of ``{org}``, or a DM admin."""

    rule = IsDMAdmin | IsPlatformMember
    message = "You are not a member of this platform."


class IsPathUserOrPlatformAdmin(BasePermission):
    """``{user_id}`` names the caller, or the caller is a platform admin / DM admin.

    For an admin naming another user, that user must exist and be an active member
    of ``{org}``: otherwise 404, the same answer for both, so admins cannot probe for
    the users of other platforms.
    """

    message = "The user in the path must be you, unless you are an admin of this platform."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if path_user_is_caller(request, view):
            return True
        if not IsPlatformAdminOrDMAdmin().has_permission(request, view):
            return False
        path_user_for_request(request, view)  # 404 for an unknown user or a non-member
        return True


class IsReadOnlyOrPlatformAdmin(BasePermission):
    """Reads for whoever passed the other checks; writes for platform admins / DM admins."""

    message = "Only platform admins may create issuers."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsPlatformAdminOrDMAdmin().has_permission(request, view)


class CanChangeIssuers(IsReadOnlyOrPlatformAdmin):
    """Issuer detail: members read, platform admins / DM admins change and delete."""

    message = "Only platform admins may change or delete issuers."


class CanAddSignatories(IsReadOnlyOrPlatformAdmin):
    """Signatories are written by platform admins / DM admins."""

    message = "Only platform admins may add signatories."


class CanChangeCredentials(IsReadOnlyOrPlatformAdmin):
    """Credentials: members read, platform admins / DM admins create, change and delete."""

    message = "Only platform admins may create, change or delete credentials."


#: Reading issuers, searching and uploading images.
CREDENTIALS_MEMBER = [IsPlatformMemberOrDMAdmin, IsPathUserOrPlatformAdmin]
#: Issuers: members read, admins create.
ISSUERS = [*CREDENTIALS_MEMBER, IsReadOnlyOrPlatformAdmin]
#: One issuer: members read, admins change and delete.
ISSUER_DETAIL = [*CREDENTIALS_MEMBER, CanChangeIssuers]
#: Adding signatories: admins.
SIGNATORIES = [*CREDENTIALS_MEMBER, CanAddSignatories]
#: Credentials (badge classes): members read public ones, admins everything.
CREDENTIALS = [*CREDENTIALS_MEMBER, CanChangeCredentials]
