"""Who may issue, revoke, read and answer assertions (contract "Who may call").

* Issuing and revoking: platform admins, DM admins, and department admins acting with
  ``department_mode=true`` for recipients in their departments.
* A user's assertions: that user, or an admin who manages them (as above).
* The recipient alone answers an assertion (``acceptance``).

The object rules of a PUT read which fields the body carries: whoever may see an
assertion may send a body, but ``revoked``/``revocationReason`` need an issuer of the
recipient and ``acceptance`` the recipient, else 403. Who may *see* an assertion is
decided by the selector (``visible_assertions``): anyone else gets 404, as for a
missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ibl_core.tenancy.permissions import (
    CanManagePlatform,
    IsDepartmentModeAdminInPlatform,
    IsDMAdmin,
    IsPlatformAdmin,
)
from ibl_core.tenancy.platforms import platform_for_request
from ibl_credentials.assertions.client_bodies import sent_fields
from ibl_credentials.assertions.selectors import manages_user
from ibl_credentials.base import path_user_for_request, path_user_is_caller
from ibl_credentials.models import Assertion
from ibl_credentials.permissions import (
    IsPathUserOrPlatformAdmin,
    IsPlatformMemberOrDMAdmin,
)

#: Body fields only an issuer of the recipient may send.
REVOCATION_FIELDS = frozenset({"revoked", "revocationReason"})


def body_fields(request: Request) -> frozenset[str]:
    """The fields a body sets, read as the serializer reads them (``client_bodies``):
    the published client's ``"revocationReason": ""`` asks nothing of the caller."""
    data = sent_fields(request.data)
    return frozenset(data) if isinstance(data, Mapping) else frozenset()


class CanIssueAssertions(BasePermission):
    """A platform admin, a DM admin, or a department admin with ``department_mode=true``."""

    message = (
        "Only platform admins, or department admins with department_mode=true, "
        "may issue, revoke or list a credential's assertions."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(CanManagePlatform().has_permission(request, view))


class IsPathUserOrTheirManager(BasePermission):
    """``{user_id}`` is the caller, or a member the caller manages.

    A platform or DM admin naming an unknown user (or a non-member) gets 404. A
    department admin gets the same 403 for a user outside their departments and for
    one who does not exist, so they cannot probe for users.
    """

    message = "You may read your own assertions, or those of the users you manage."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if path_user_is_caller(request, view):
            return True
        if (IsDMAdmin | IsPlatformAdmin)().has_permission(request, view):
            path_user_for_request(request, view)  # 404 for an unknown user or a non-member
            return True
        if not IsDepartmentModeAdminInPlatform().has_permission(request, view):
            return False
        try:
            user = path_user_for_request(request, view)
        except NotFound:
            return False
        return manages_user(request, platform_for_request(request, view), user.pk)


class RevokesOnlyByIssuers(BasePermission):
    """A body with ``revoked`` or ``revocationReason``: an issuer who manages the recipient."""

    message = "Only admins who manage the recipient may revoke this assertion."

    def has_object_permission(self, request: Request, view: Any, obj: Assertion) -> bool:
        if request.method in SAFE_METHODS or not body_fields(request) & REVOCATION_FIELDS:
            return True
        if not CanManagePlatform().has_permission(request, view):
            return False
        return manages_user(request, platform_for_request(request, view), obj.recipient_id)


class AnswersOnlyByRecipient(BasePermission):
    """A body with ``acceptance``: the recipient."""

    message = "Only the recipient may accept or reject this assertion."

    def has_object_permission(self, request: Request, view: Any, obj: Assertion) -> bool:
        if request.method in SAFE_METHODS or "acceptance" not in body_fields(request):
            return True
        return bool(obj.recipient_id == request.user.pk)


#: Issuing (one, bulk) and a credential's list: issuers acting as themselves.
ISSUERS = [IsPlatformMemberOrDMAdmin, IsPathUserOrPlatformAdmin, CanIssueAssertions]
#: A user's assertions: themselves, or who manages them.
USER_ASSERTIONS = [IsPlatformMemberOrDMAdmin, IsPathUserOrTheirManager]
#: One assertion: as a user's list, plus the rules of what a PUT may change.
ASSERTION_DETAIL = [*USER_ASSERTIONS, RevokesOnlyByIssuers, AnswersOnlyByRecipient]
