"""The answer to a login that django-axes refuses after too many failed attempts.

A host project that protects its admin login with django-axes sets
``AXES_LOCKOUT_CALLABLE = "ibl_core.ops.login_lockout.lockout_response"`` (docs/install.md,
"Admin login lockout"). The answer is the same for every username, existing or not, and
whether or not the password was right: it says only that logins from this address
are paused, and for how long (``429`` with ``Retry-After``).
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 with ``Retry-After`` (the cool-off, counted from this refused attempt)."""
    from axes.helpers import get_cool_off  # only called by django-axes, so it is installed

    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else None
    page = render_to_string(
        "ibl_core/login_locked.html",
        {"minutes": math.ceil(seconds / 60) if seconds else None, "login_url": request.path},
    )
    response = HttpResponse(page, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
