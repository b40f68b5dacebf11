"""Signals other apps listen to, to keep their own tables in step with ibl_core's."""

from __future__ import annotations

from django.dispatch import Signal

#: Users joined or left a user group. Sent by ``ibl_core.tenancy.groups`` (the only writer of
#: group membership) after the rows changed, synchronously and inside the transaction
#: that changed them, so what a receiver writes commits or rolls back with the change.
#: A receiver must therefore only write to the database; an exception it raises undoes
#: the change.
#:
#: ``sender``: ``UserGroup``. Keyword arguments: ``group`` (the ``UserGroup``),
#: ``added`` and ``removed`` (sorted lists of user ids; at least one is not empty: a
#: change that changes nothing sends nothing). Deleting a group through
#: ``ibl_core.tenancy.groups.delete_group`` first sends it with every member in ``removed``.
group_members_changed = Signal()
