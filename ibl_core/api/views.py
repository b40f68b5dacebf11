"""The base view of every platform-scoped endpoint."""

from __future__ import annotations

from typing import Any, NoReturn

from django.views.decorators.common import no_append_slash
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.settings import api_settings

from ibl_core.api.parsers import API_PARSERS
from ibl_core.api.schema import ThrottledAutoSchema
from ibl_core.ops.throttling import ScopedApiThrottle, Throttled, throttle_scope
from ibl_core.tenancy.authentication import not_authenticated

#: ``Accept`` headers negotiated without DRF's parser (``perform_content_negotiation``).
_PLAIN_ACCEPT = frozenset({"*/*", "application/json"})


class PlatformScopedView(GenericAPIView):
    """A view whose permission classes resolve the platform from the request.

    DRF checks permissions before it looks for the method's handler, so an
    unsupported method (PUT, TRACE...) would first have its platform resolved and
    answer 400 or 404. Refuse it up front with 405, as the schema promises.

    Requests are throttled per caller and scope (``ibl_core.ops.throttling``); a view
    whose writes are heavier than a single write names their scope in
    ``write_throttle_scope`` (``"bulk"``, ``"uploads"``).

    A request that no authentication class authenticated gets a 401 that says which
    ``Authorization`` scheme is expected when it sent another one.

    The URL without its trailing slash is never redirected to the URL with it:
    ``CommonMiddleware``'s 301 would turn a POST into a GET. It is a 404 instead,
    which names the right URL (:mod:`ibl_core.api.errors`).

    JSON bodies are read by the bounded parser (:data:`ibl_core.api.parsers.API_PARSERS`),
    whatever the host project's ``DEFAULT_PARSER_CLASSES``: a body too large or nested
    too deeply is a 413 or a 400, never a 500.
    """

    parser_classes = API_PARSERS
    throttle_classes = [ScopedApiThrottle]
    write_throttle_scope = "writes"
    schema = ThrottledAutoSchema()  # documents the 429

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return no_append_slash(super().as_view(**initkwargs))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            # Negotiate first, so the 405 is rendered as asked: a browser gets the
            # browsable API's page (with the allowed methods' forms), not raw JSON.
            self.format_kwarg = self.get_format_suffix(**kwargs)
            negotiated = self.perform_content_negotiation(request)
            request.accepted_renderer, request.accepted_media_type = negotiated
            raise MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """DRF's negotiation, without parsing anything for the usual API client: no
        ``Accept`` header (or ``*/*``, or exactly the first renderer's type) and no
        ``format`` asked for get the first renderer, as DRF would choose it."""
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        override = api_settings.URL_FORMAT_OVERRIDE
        if (
            accept in _PLAIN_ACCEPT
            and not getattr(self, "format_kwarg", None)
            and (not override or override not in request.query_params)
        ):
            first = self.get_renderers()[0]
            if accept == "*/*" or accept == first.media_type:
                return first, first.media_type
        return super().perform_content_negotiation(request, force)

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        # Throttle as soon as the caller is known, before the permission classes: they
        # may read the body to find the platform, and a throttled request must not cost
        # parsing a 16 MiB bulk body or a multipart upload.
        super().check_throttles(request)

    def check_throttles(self, request: Request) -> None:
        """Already done by :meth:`perform_authentication`: count each request once."""

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise Throttled(wait, throttle_scope(request, self))

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> NoReturn:
        if request.authenticators and not request.successful_authenticator:
            raise not_authenticated(request)
        super().permission_denied(request, message, code)
