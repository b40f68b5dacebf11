"""The base view of every platform-scoped endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request


class PlatformScopedView(GenericAPIView):
    """A view whose permission classes resolve the platform from the request.

    DRF checks permissions before it looks for the method's handler, so an
    unsupported method (PUT, TRACE...) would first have its platform resolved and
    answer 400 or 404. Refuse it up front with 405, as the schema promises.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)
