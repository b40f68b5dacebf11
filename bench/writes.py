"""Part ``writes`` of ``make bench``: a single write against a bare Django view doing
the same write and event.

Two writes, each against its limit, a bench-only plain Django view (no DRF, served by
the same gunicorn through the same middleware) that does what the API does for one
request as cheaply as plain Django allows, and answers the same body:

* the program-suggestion POST (``POST /api/catalog/suggestions/program/manage/``),
  against ``POST /bench/bare/program-suggestions/``: the same API key check
  (``APIKeyAuthentication.authenticate_key``), the platform and the caller's admin
  membership (one query), the member and the program, one ``INSERT ... ON CONFLICT
  DO UPDATE ... RETURNING`` and the same ``suggestion.created`` event through the
  outbox, in one transaction;
* the assertion issue (``POST /api/credentials/orgs/{org}/users/{me}/{credential}/
  assertions/`` with ``{"recipient": {"identity": username}}``), against
  ``POST /bench/bare/issue/{org}/{credential}/``: the key, the platform and admin
  membership (one query), the credential and its issuer, the recipient, then in one
  transaction the recipient's active assertion (none: a fresh recipient), the
  assertion's INSERT and the same ``assertion.issued`` event.

Before timing, each pair is checked: both answer the same status and the same body
but for what names the row (ids, entity ids, timestamps, the recipient), the event
recorded is the answer, and the rows written are equal field for field but those.
Then ``count`` requests per side, interleaved request by request, each a create for a
user no request wrote to yet; the target is the API's p50 over the bare view's p50.
The queries of one request of each side are counted in this process (Django's test
client, the same settings and database).
"""

from __future__ import annotations

import json
import os
import statistics
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from bench import data
from bench.client import Client, Response
from bench.harness import MANAGE, close_connections, ms
from ibl_core.api.representation import utc_text
from ibl_core.events.outbox import PendingEvent, record_events
from ibl_core.models import Event, Platform
from ibl_core.tenancy.authentication import APIKeyAuthentication
from ibl_core.tenancy.scope import full_name_text

#: API p50 over the bare view's p50, for each write (issue 27, target 2).
TARGET = 2.0

AUTH = APIKeyAuthentication()


def render(body: Any, status: int = 200) -> HttpResponse:
    """``body`` as DRF's JSONRenderer writes it (compact, UTF-8 as is)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(text.encode(), status=status, content_type="application/json")


def admin_platform(request: HttpRequest, key: str) -> tuple[Any, int]:
    """The caller (API key) and the id of platform ``key`` they are an active admin of."""
    raw = request.META.get("HTTP_AUTHORIZATION", "").split()[-1]
    user, _ = AUTH.authenticate_key(raw)
    platform_id = (
        Platform.objects.filter(
            key=key,
            active=True,
            memberships__user=user,
            memberships__is_admin=True,
            memberships__active=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if platform_id is None:
        raise PermissionError(key)
    return user, platform_id


def member_row(platform_id: int, **lookup: Any) -> dict[str, Any] | None:
    return (
        get_user_model()
        ._default_manager.filter(
            is_active=True,
            platform_memberships__platform_id=platform_id,
            platform_memberships__active=True,
            **lookup,
        )
        .values("pk", "username", "email", "first_name", "last_name")
        .first()
    )


# --- the bare suggestion POST --------------------------------------------------------


@csrf_exempt
def bare_suggestion(request: HttpRequest) -> HttpResponse:
    """Create or update one program suggestion (bench bodies: user_id, program_key,
    metadata) and record its event, answering the API's object."""
    from ibl_catalog.models import Program, ProgramSuggestion

    body = json.loads(request.body)
    user, platform_id = admin_platform(request, body["platform_key"])
    member = member_row(platform_id, pk=int(body["user_id"]))
    program = (
        Program.objects.filter(platform_id=platform_id, program_key=body["program_key"])
        .values_list("pk", "name")
        .first()
    )
    if member is None or program is None:
        return render({"detail": "unknown user or program"}, 400)
    metadata = body.get("metadata", {})
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    table = ProgramSuggestion._meta.db_table
    jsonb = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (platform_id, user_id, program_id, accepted, visible, "
            f"direct, suggested_by_id, metadata, created, modified) VALUES "
            f"(%s, %s, %s, FALSE, TRUE, TRUE, %s, {jsonb}, %s, %s) "
            "ON CONFLICT (platform_id, user_id, program_id) DO UPDATE SET "
            "direct = TRUE, metadata = excluded.metadata, modified = excluded.modified "
            "RETURNING id, accepted, visible, created",
            [platform_id, member["pk"], program[0], user.pk, json.dumps(metadata), stamp, stamp],
        )
        pk, accepted, visible, created = cursor.fetchone()
        if isinstance(created, str):  # SQLite
            created = parse_datetime(created)
        if created.tzinfo is None:  # SQLite: UTC without its zone
            created = created.replace(tzinfo=now.tzinfo)
        obj = {
            "id": pk,
            "user_id": member["pk"],
            "username": member["username"],
            "name": full_name_text(member["first_name"], member["last_name"]),
            "platform_key": body["platform_key"],
            "accepted": bool(accepted),
            "visible": bool(visible),
            "created": utc_text(created),
            "modified": utc_text(now),
            "metadata": metadata,
            "program_key": body["program_key"],
            "program_name": program[1],
        }
        kind = "suggestion.created" if created == now else "suggestion.updated"
        record_events(platform_id, [PendingEvent(kind, pk, obj)])
    return render(obj)


# --- the bare assertion issue --------------------------------------------------------


@csrf_exempt
def bare_issue(request: HttpRequest, org: str, entity_id: str) -> HttpResponse:
    """Issue credential ``entity_id`` to the member ``{"recipient": {"identity":
    username}}`` names, as the caller, and record its event, answering the API's
    assertion object."""
    from ibl_credentials.assertions.services import expiry_from_rule
    from ibl_credentials.assertions.shapes import assertion_object
    from ibl_credentials.models import Assertion, Credential

    user, platform_id = admin_platform(request, org)
    credential = (
        Credential.objects.select_related("issuer")
        .filter(platform_id=platform_id, entity_id=entity_id)
        .first()
    )
    body = json.loads(request.body)
    member = member_row(platform_id, username=body["recipient"]["identity"])
    if credential is None or member is None:
        return render({"detail": "unknown credential or recipient"}, 400)
    recipient = get_user_model()(**{k: v for k, v in member.items() if k != "pk"}, id=member["pk"])
    now = timezone.now()
    with transaction.atomic():
        current = (
            Assertion.objects.filter(
                credential=credential,
                recipient_id=member["pk"],
                item_kind="",
                item_key="",
                revoked=False,
                superseded=False,
            )
            .values_list("pk", flat=True)
            .first()
        )
        if current is not None:
            return render({"detail": "already issued"}, 409)
        assertion = Assertion(
            platform_id=platform_id,
            credential=credential,
            recipient=recipient,
            issued_on=now,
            expires=expiry_from_rule(credential, now),
            issued_by=user,
        )
        assertion.save(force_insert=True)
        obj = assertion_object(assertion)
        record_events(platform_id, [PendingEvent("assertion.issued", assertion.entity_id, obj)])
    return render(obj, 201)


# --- the part ---------------------------------------------------------------------


SUGGESTION_NAMING = ("id", "user_id", "username", "name", "created", "modified")
ASSERTION_NAMING = ("entityId", "issuedOn", "recipient", "verifyUrl", "imageUrl")
#: Assertion columns that name the row or its recipient.
ROW_NAMING = (
    *("id", "entity_id", "recipient", "recipient_salt", "issued_on", "user", "created"),
    "modified",
)


def masked(obj: dict[str, Any], naming: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in naming}


def last_event(platform_key: str) -> tuple[str, Any]:
    event = Event.objects.filter(platform__key=platform_key).order_by("-pk").first()
    assert event is not None
    return event.type, event.payload


def written_row(obj: dict[str, Any]) -> dict[str, Any]:
    """The row an answer names (an assertion or a suggestion), but its naming columns."""
    from django.forms.models import model_to_dict

    from ibl_catalog.models import ProgramSuggestion
    from ibl_credentials.models import Assertion

    if "entityId" in obj:
        row = model_to_dict(Assertion.objects.get(entity_id=obj["entityId"]))
    else:
        row = model_to_dict(ProgramSuggestion.objects.get(pk=obj["id"]))
        row["created_is_modified"] = obj["created"] == obj["modified"]
    return {key: value for key, value in row.items() if key not in ROW_NAMING}


def written_counts(key: str) -> tuple[int, int, int]:
    """The platform's events, suggestions and assertions."""
    from ibl_catalog.models import ProgramSuggestion
    from ibl_credentials.models import Assertion

    return (
        Event.objects.filter(platform__key=key).count(),
        ProgramSuggestion.objects.filter(platform__key=key).count(),
        Assertion.objects.filter(platform__key=key).count(),
    )


class Pair:
    """One write's two sides: the request of each for the i-th fresh user."""

    def __init__(self, name: str, client: Client, api: Any, bare: Any) -> None:
        self.name, self.client = name, client
        self.sides = {"API": api, "bare": bare}
        self.latencies: dict[str, list[float]] = {"API": [], "bare": []}

    def send(self, side: str, index: int) -> Response:
        method_path, body = self.sides[side](index)
        response = self.client.request("POST", method_path, json_body=body)
        if response.status not in (200, 201):
            raise RuntimeError(f"{self.name} {side}: {response.status} {response.body[:300]!r}")
        return response


def check_same_effect(pair: Pair, first: int, naming: tuple[str, ...], key: str) -> list[str]:
    """Send one request per side (users ``first`` and ``first + 1``); raise unless
    the answers, the events, the rows and what each wrote are the same but for what
    names the row; the two answers' statuses."""
    answers = []
    for offset, side in enumerate(("API", "bare")):
        before = written_counts(key)
        response = pair.send(side, first + offset)
        obj = response.json()
        event_type, event_data = last_event(key)
        if event_data != obj:
            raise RuntimeError(f"{pair.name} {side}: the event is not the answer: {event_data}")
        # One event and one row more, of the write's kind, and nothing else.
        added = tuple(after - was for after, was in zip(written_counts(key), before, strict=True))
        answers.append((response.status, masked(obj, naming), event_type, written_row(obj), added))
    close_connections()
    if answers[0] != answers[1]:
        raise RuntimeError(f"{pair.name}: API and bare differ:\n{answers[0]}\n{answers[1]}")
    return [str(answers[0][0])]


def count_queries(pair: Pair, index: int) -> dict[str, int]:
    """The queries of one request per side, in this process (users ``index``, ``+1``)."""
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    counts = {}
    django_client = DjangoClient(HTTP_HOST="127.0.0.1")
    for offset, side in enumerate(("API", "bare")):
        path, body = pair.sides[side](index + offset)
        with CaptureQueriesContext(connection) as captured:
            response = django_client.post(
                path,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Api-Token {pair.client.api_key}",
            )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{pair.name} {side} in-process: {response.status_code}")
        counts[side] = len(captured.captured_queries)
        if os.environ.get("BENCH_WRITES_SQL"):  # what each query is, to read them
            for query in captured.captured_queries:
                print(f"    {pair.name} {side}: {query['sql'][:160]}")
    close_connections()
    return counts


def time_pair(report: Any, pair: Pair, start: int, count: int, key: str) -> None:
    for i in range(count):
        order = ("API", "bare") if i % 2 == 0 else ("bare", "API")
        for offset, side in enumerate(order):
            pair.latencies[side].append(pair.send(side, start + 2 * i + offset).seconds)
    p50 = {side: ms(statistics.median(values)) for side, values in pair.latencies.items()}
    ratio = p50["API"] / p50["bare"]
    for side in ("API", "bare"):
        report.add(f"{pair.name}, {side}: p50 of {count}", p50[side], "ms", key=f"{key}.{side}",
                   latencies_ms=[ms(value) for value in pair.latencies[side]])  # fmt: skip
    report.add(
        f"{pair.name}: API p50 / bare view p50",
        ratio,
        "x",
        target=f"<= {TARGET:g}x",
        ok=ratio <= TARGET,
        key=f"{key}.ratio",
        table=f"writes: {pair.name}, p50 vs a bare Django view ({count} each)",
        level=1,
        cell=f"{ratio:.2f}x ({p50['API']:.1f} vs {p50['bare']:.1f} ms)",
    )


def create_credential(bench: data.BenchPlatform) -> str:
    from ibl_credentials.models import Credential, Issuer

    platform = Platform.objects.get(key=bench.key)
    issuer = Issuer.objects.create(platform=platform, name="Bench issuer", entity_id="bench-iss")
    Credential.objects.create(
        platform=platform,
        issuer=issuer,
        entity_id="bench-cred",
        name="Bench badge",
        description="Issued by the bench",
        icon_image="https://img.example.org/bench.png",
    )
    return "bench-cred"


def bench_writes(report: Any, client: Client, plan: Any) -> None:
    count = plan.single_sample
    users = 2 * count + 8  # two checked, two counted, 2 x count timed, per write
    report.start(
        f"Writes: single suggestion POST and assertion issue vs a bare Django view doing "
        f"the same write and event ({count} each, interleaved, a fresh user per request)"
    )
    bench = data.create_platform("writes", users=users, programs=1)
    credential = create_credential(bench)
    admin = get_user_model()._default_manager.get(pk=bench.admin_id).get_username()
    usernames = dict(
        get_user_model()
        ._default_manager.filter(pk__in=bench.user_ids)
        .values_list("pk", "username")
    )
    close_connections()
    own = Client(client.port, bench.api_key)
    program = bench.program_keys[0]

    def suggestion_body(index: int) -> dict[str, Any]:
        user_id = bench.user_ids[index]
        return {"platform_key": bench.key, "user_id": user_id, "program_key": program,
                "metadata": {"source": "bench"}}  # fmt: skip

    def issue_body(index: int) -> dict[str, Any]:
        return {"recipient": {"identity": usernames[bench.user_ids[index]]}}

    issue_path = f"/api/credentials/orgs/{bench.key}/users/{admin}/{credential}/assertions/"
    suggestions = Pair(
        "single suggestion POST (create)",
        own,
        lambda i: (MANAGE, suggestion_body(i)),
        lambda i: ("/bench/bare/program-suggestions/", suggestion_body(i)),
    )
    issues = Pair(
        "single assertion issue",
        own,
        lambda i: (issue_path, issue_body(i)),
        lambda i: (f"/bench/bare/issue/{bench.key}/{credential}/", issue_body(i)),
    )
    queries = {}
    for pair, naming, key in (
        (suggestions, SUGGESTION_NAMING, "writes.suggestion"),
        (issues, ASSERTION_NAMING, "writes.issue"),
    ):
        check_same_effect(pair, 0, naming, bench.key)
        queries[key] = count_queries(pair, 2)
        report.add(f"{pair.name}: queries, API / bare", f"{queries[key]['API']} / "
                   f"{queries[key]['bare']}", key=f"{key}.queries")  # fmt: skip
        time_pair(report, pair, 4, count, key)
        close_connections()
    report.note(
        "writes: the bare views (bench/writes.py) run in the same gunicorn, through the "
        "same middleware, and do the same write and event with plain Django (one query "
        "for the platform and admin membership, no serializer, no permission classes, "
        "the suggestion as one raw upsert); before timing, each pair's answers, events "
        "and rows were checked equal but for ids, timestamps and the recipient; every "
        "request is a create for a fresh user, API and bare alternating"
    )
