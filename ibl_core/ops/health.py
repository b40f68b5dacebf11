"""Liveness and readiness probes for load balancers and orchestrators.

Plain Django views, not DRF: no authentication, no session, no CSRF, no content
negotiation. ``/healthz`` answers as long as the process serves requests and never
touches a database; ``/readyz`` also runs ``SELECT 1`` on every configured database,
so an instance that lost its database is taken out of rotation (503) without being
restarted.
"""

from __future__ import annotations

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

logger = logging.getLogger("ibl.health")


@csrf_exempt  # skips the CSRF middleware's work; only GET and HEAD get through anyway
@never_cache
@require_safe
def liveness(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}``: the process is up. No database access at all."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # skips the CSRF middleware's work; only GET and HEAD get through anyway
@never_cache
@require_safe
def readiness(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}`` when every database answers ``SELECT 1``, else 503.

    The 503 body names the databases that failed, never the error (which may carry
    host names or user names); the error itself goes to the ``ibl.health`` log.
    """
    unavailable = [alias for alias in connections if not database_answers(alias)]
    if unavailable:
        return JsonResponse({"status": "unavailable", "databases": unavailable}, status=503)
    return JsonResponse({"status": "ok"})


def database_answers(alias: str) -> bool:
    """Whether the database ``alias`` runs ``SELECT 1``; any failure is a no."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("Readiness: database %r does not answer.", alias, exc_info=True)
        return False
    return True
