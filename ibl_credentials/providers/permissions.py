"""Who may read and change a platform's providers: its platform admins (and DM admins).

A configuration holds the platform's API key at the provider and a mapping decides
what is sent there: both are an admin's business. Any member who is not an admin gets
403, a caller of another platform 403 before anything is looked up.
"""

from __future__ import annotations

from ibl_credentials.permissions import (
    IsPathUserOrPlatformAdmin,
    IsPlatformAdminOrDMAdmin,
    IsPlatformMemberOrDMAdmin,
)


class IsProviderAdmin(IsPlatformAdminOrDMAdmin):
    """A platform admin of ``{org}``, or a DM admin."""

    message = "Only platform admins may read or change the platform's providers."


#: provider-config/ and external-mapping/.
PROVIDER_ADMINS = [IsPlatformMemberOrDMAdmin, IsPathUserOrPlatformAdmin, IsProviderAdmin]
