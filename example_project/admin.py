"""The example project's adjustments to the admin of its host's own models.

The API names users by numeric id (``user_id``), so the user list shows it. This is
done here, in the project, by extending whatever admin the user model has: an app
must not replace a host project's user admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model

_User = get_user_model()
_registered = admin.site.get_model_admin(_User)


class UserAdminWithId(type(_registered)):  # type: ignore[misc]
    """The registered user admin, with the id as the list's first column."""

    list_display = ("id", *_registered.list_display)
    # The link to the user's page stays on the column that had it (the username).
    list_display_links = _registered.list_display_links or _registered.list_display[:1]


admin.site.unregister(_User)
admin.site.register(_User, UserAdminWithId)

admin.site.site_header = "ibl-data-manager administration"
admin.site.site_title = "ibl-data-manager"
