"""Every API view reads bodies with the bounded parser: a body too large or nested too
deeply is a 4xx, never a 500 (DRF's own JSON parser raises ``RecursionError``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.parsers import MultiPartParser
from rest_framework.views import APIView

from ibl_core.api.parsers import API_PARSERS, LimitedJSONParser
from ibl_credentials.images.pipeline import UPLOAD_PARSERS
from ibl_credentials.images.views import ImagesView
from ibl_credentials.openbadges.verify_views import VerifyCredentialView

#: The views that take other bodies than JSON, and the parsers they use.
UPLOAD_VIEWS = {
    ImagesView: UPLOAD_PARSERS,
    # A credential as JSON, or a baked image as multipart.
    VerifyCredentialView: [LimitedJSONParser, MultiPartParser],
}


def api_views(patterns: Any = None, prefix: str = "") -> Iterator[tuple[str, type, list]]:
    """Every DRF view the project routes: ``(route, view class, parser classes)``."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                initkwargs = getattr(entry.callback, "initkwargs", {})
                parsers = list(initkwargs.get("parser_classes", view.parser_classes))
                yield prefix + str(entry.pattern), view, parsers


def test_the_walk_finds_the_api_views_of_every_app():
    modules = {view.__module__.split(".")[0] for _, view, _ in api_views()}
    assert {"ibl_core", "ibl_catalog", "ibl_credentials", "drf_spectacular"} <= modules
    assert len(list(api_views())) > 40


def test_every_api_view_reads_bodies_with_the_bounded_parser():
    unbounded = [
        (route, view.__name__, [parser.__name__ for parser in parsers])
        for route, view, parsers in api_views()
        if parsers != UPLOAD_VIEWS.get(view, API_PARSERS)
    ]
    assert unbounded == []
    assert [LimitedJSONParser] == API_PARSERS


WEBHOOKS = "/api/core/orgs/p1/webhooks/"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["top", "url", "events", "overlap_seconds"])
@pytest.mark.parametrize(
    ("method", "path"), [("post", ""), ("patch", "{id}/"), ("post", "{id}/rotate-secret/")]
)
def test_a_deeply_nested_webhook_body_is_400_and_changes_nothing(world, method, path, where):
    from ibl_core.events.webhooks.services import create_endpoint
    from ibl_core.models import WebhookEndpoint

    endpoint = create_endpoint(world.p1, url="https://127.0.0.1/hooks")
    before = WebhookEndpoint.objects.values().get()
    body = nested(1000) if where == "top" else f'{{"{where}": {nested(1000)}}}'
    client = world.client("platform_admin_p1")
    response = getattr(client, method)(
        WEBHOOKS + path.format(id=endpoint.pk), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}
    assert list(WebhookEndpoint.objects.values()) == [before]
