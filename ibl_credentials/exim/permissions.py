"""Who may export and import course credentials: DM admins only.

The routes name no platform (a course's credentials may live on several), so no
platform role can apply; the rule is :class:`ibl_core.tenancy.permissions.IsDMAdmin` with the
message of its 403.
"""

from __future__ import annotations

from ibl_core.tenancy.permissions import IsDMAdmin


class IsDMAdminForExim(IsDMAdmin):
    """The data-manager admin (Django superuser)."""

    message = "Only DM admins may export or import course credentials."


EXIM = [IsDMAdminForExim]
