"""Assertion request bodies as the published client (``iblai``) sends them.

The client's ``Assertion`` model is declared as the body of issue (POST) and of revoke
or answer (PUT). It never sends ``recipient``, ``course``, ``program`` or
``credentialDetails`` (it marks them read-only) and always sends ``entityId``,
``issuedOn``, ``revocationReason`` and ``expires``, as empty strings when unset. So a
body is read the same way by the serializers and by the permission classes (which
look at which fields a PUT carries): the fields only the server writes are dropped,
and an empty string or an empty object means the field was not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Fields of an assertion that only the server writes: ignored in a request body.
READ_ONLY_FIELDS = frozenset({"entityId", "issuedOn", "credentialDetails"})


def is_unset(value: Any) -> bool:
    """An empty string or an empty object: the client's way of sending nothing."""
    return value == "" or (isinstance(value, Mapping) and not value)


def sent_fields(data: Any, required: frozenset[str] = frozenset()) -> Any:
    """``data`` without read-only fields, and without unset values unless the field is
    ``required`` (an empty required field keeps its own error message).

    Anything but a JSON object is returned as it is: a non-object for the serializer to
    refuse, a form (the browsable API's) for DRF's own reading of form fields.
    """
    if not isinstance(data, Mapping) or hasattr(data, "getlist"):
        return data
    return {
        name: value
        for name, value in data.items()
        if name not in READ_ONLY_FIELDS and (name in required or not is_unset(value))
    }
