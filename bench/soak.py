"""``python -m bench.soak`` (``make soak``): the whole surface as concurrent mixed traffic.

For ``SOAK_SECONDS`` (default 600) a few client threads send a weighted mix of every
kind of request to gunicorn (2 sync workers), while two ``db_worker`` processes deliver
the webhooks of every event to a verifying receiver on 127.0.0.1:

* suggestions of every kind (course, program, pathway): single creates and deletes,
  bulk requests, group suggestions with their fan-out, learners' answers, lists;
* credentials: issuing, revoking, creating and deleting badge classes, and the public
  verification paths (Open Badges 2.0 JSON and baked image, 3.0, the public API);
* webhooks: every event delivered by the two workers.

Each thread owns a slice of the users and groups, so what it did is an exact ledger
(:class:`Ledger`). When the time is up the soak waits for the last deliveries, then
checks, and fails (exit 1) on any of: a 5xx answer, an answer that contradicts the
ledger (a revoked assertion answered 200...), a row in the database the ledger does not
account for or a missing one, an event not delivered, or delivered twice. It prints
p50/p99 per route. SQLite by default; with ``DATABASE_URL=postgres://...`` a scratch
database on that server (``BENCH_DB_NAME``, default ``ibl_soak``: dropped and created).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DB_NAME", "ibl_soak")

from bench.client import Client, Response
from bench.harness import bench_env, close_connections, setup_django
from bench.server import bench_database, gunicorn, vendor_of

PLATFORM = "soak"
KINDS = {"course": "course_id", "program": "program_key", "pathway": "pathway_id"}
#: Items per kind, users per thread for direct writes, members per thread's group.
ITEMS = 12
USERS_PER_THREAD = 40
GROUP_MEMBERS = 15
#: Operation -> weight in the mix.
MIX = {
    "suggest": 30,
    "unsuggest": 10,
    "bulk": 4,
    "group": 4,
    "ungroup": 2,
    "answer": 8,
    "list": 8,
    "learner_list": 4,
    "issue": 8,
    "revoke": 3,
    "verify": 16,
    "credential_churn": 2,
}
#: Seconds without a finished delivery after which the soak stops waiting for the rest.
DELIVERY_TIMEOUT = 120.0


# --- the ledger ---------------------------------------------------------------------


@dataclass
class Ledger:
    """What one client thread did, as the database must show it afterwards.

    ``suggestions``: (kind, user id, item) -> the suggestion's id (None when only a bulk
    request wrote it); ``answers``: the learner's last answer per suggestion;
    ``group_suggestions``: (kind, group id, item) -> id; ``assertions``: entity id ->
    revoked; ``credentials``: the badge classes it created and has not deleted.
    """

    suggestions: dict[tuple[str, int, str], int | None] = field(default_factory=dict)
    answers: dict[tuple[str, int, str], bool] = field(default_factory=dict)
    group_suggestions: dict[tuple[str, int, str], int] = field(default_factory=dict)
    assertions: dict[str, bool] = field(default_factory=dict)
    credentials: set[str] = field(default_factory=set)


def expected_rows(
    ledgers: list[Ledger], group_members: dict[int, list[int]]
) -> dict[str, set[tuple[int, str]]]:
    """(user id, item) per kind that must exist: the direct writes, plus each live group
    suggestion's item for every member of its group (the fan-out)."""
    rows: dict[str, set[tuple[int, str]]] = {kind: set() for kind in KINDS}
    for ledger in ledgers:
        for kind, user, item in ledger.suggestions:
            rows[kind].add((user, item))
        for kind, group, item in ledger.group_suggestions:
            rows[kind].update((member, item) for member in group_members[group])
    return rows


def compare(what: str, expected: set[Any], found: set[Any]) -> list[str]:
    """Problems (empty when equal): the rows missing and the rows unaccounted for."""
    problems = []
    if expected - found:
        problems.append(
            f"{what}: {len(expected - found)} missing, e.g. {sorted(expected - found)[:3]}"
        )
    if found - expected:
        extra = sorted(found - expected)
        problems.append(f"{what}: {len(extra)} not accounted for, e.g. {extra[:3]}")
    return problems


def delivery_problems(
    event_ids: set[str], delivered: dict[str, str], received: dict[str, int]
) -> list[str]:
    """Every event delivered once: ``event_ids`` (the webhook-ids of the events the
    database recorded), ``delivered`` (webhook-id -> the delivery row's status),
    ``received`` (webhook-id -> how many times the receiver verified it)."""
    problems = compare("deliveries recorded for the events", event_ids, set(delivered))
    unfinished = {mid: status for mid, status in delivered.items() if status != "succeeded"}
    if unfinished:
        problems.append(
            f"{len(unfinished)} deliveries not succeeded: {list(unfinished.items())[:3]}"
        )
    problems += compare("webhook-ids received", event_ids, set(received))
    twice = {mid: n for mid, n in received.items() if n != 1}
    if twice:
        problems.append(f"{len(twice)} events received more than once: {list(twice.items())[:3]}")
    return problems


# --- traffic ------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, response: Response, expected: tuple[int, ...]) -> bool:
        with self.lock:
            self.latencies[route].append(response.seconds)
            self.statuses[route][response.status] += 1
            if response.status not in expected:
                self.failures.append(
                    f"{route}: {response.status}, expected {expected}: {response.body[:200]!r}"
                )
                return False
        return True


@dataclass
class World:
    """What the setup made: ids and keys the threads use."""

    admin_id: int
    admin_key: str
    users: list[list[int]]  # per thread: users for direct writes and issuing
    usernames: dict[int, str]
    learners: list[tuple[int, str]]  # per thread: (user id, API key)
    groups: list[int]  # per thread: a group id
    group_members: dict[int, list[int]]
    items: dict[str, list[str]]
    issuer: str


class Traffic:
    """One client thread's traffic: operations on what it owns, recorded in its ledger."""

    def __init__(self, index: int, port: int, world: World, stats: Stats, seed: int) -> None:
        self.index = index
        self.world = world
        self.stats = stats
        self.ledger = Ledger()
        self.random = random.Random(seed)
        self.admin = Client(port, world.admin_key, timeout=60)
        learner_id, learner_key = world.learners[index]
        self.learner_id = learner_id
        self.learner = Client(port, learner_key, timeout=60)
        self.credential: str | None = None
        self.recipients: list[int] = []

    # helpers
    def call(
        self,
        route: str,
        client: Client,
        method: str,
        path: str,
        expected: tuple[int, ...],
        body: Any = None,
    ) -> Response | None:
        response = client.request(method, path, json_body=body)
        return response if self.stats.record(route, response, expected) else None

    def pick_item(self, kind: str) -> str:
        return self.random.choice(self.world.items[kind])

    def run(self, deadline: float) -> None:
        operations = list(MIX)
        weights = [MIX[name] for name in operations]
        while time.monotonic() < deadline:
            name = self.random.choices(operations, weights)[0]
            getattr(self, name)()

    # suggestions
    def suggest(self) -> None:
        kind = self.random.choice(list(KINDS))
        users = [*self.world.users[self.index], self.learner_id]
        user = self.random.choice(users)
        item = self.pick_item(kind)
        body = {"platform_key": PLATFORM, "user_id": user, KINDS[kind]: item}
        if self.random.random() < 0.3:
            body["metadata"] = {"n": self.random.randint(0, 9)}
        response = self.call(
            f"POST {kind}/manage/",
            self.admin,
            "POST",
            f"/api/catalog/suggestions/{kind}/manage/",
            (200, 201),
            body,
        )
        if response is not None:
            self.ledger.suggestions[(kind, user, item)] = response.json()["id"]

    def unsuggest(self) -> None:
        known = [key for key, pk in self.ledger.suggestions.items() if pk is not None]
        if not known:
            return self.suggest()
        key = self.random.choice(known)
        kind = key[0]
        response = self.call(
            f"DELETE {kind}/manage/",
            self.admin,
            "DELETE",
            f"/api/catalog/suggestions/{kind}/manage/?platform_key={PLATFORM}"
            f"&suggestion_id={self.ledger.suggestions[key]}",
            (200,),
        )
        if response is not None:
            del self.ledger.suggestions[key]
            self.ledger.answers.pop(key, None)

    def bulk(self) -> None:
        kind = self.random.choice(list(KINDS))
        users = self.random.sample(self.world.users[self.index], 10)
        items = self.random.sample(self.world.items[kind], 3)
        rows = [{"user_id": user, KINDS[kind]: item} for user in users for item in items]
        response = self.call(
            f"POST {kind}/manage/bulk/",
            self.admin,
            "POST",
            f"/api/catalog/suggestions/{kind}/manage/bulk/",
            (200,),
            {"platform_key": PLATFORM, "suggestion_data": rows},
        )
        if response is None:
            return
        answer = response.json()
        if answer != {"successes": len(rows), "error_codes": []}:
            self.stats.failures.append(f"bulk {kind}: {answer}")
            return
        for user in users:
            for item in items:
                self.ledger.suggestions.setdefault((kind, user, item), None)

    def group(self) -> None:
        kind = self.random.choice(list(KINDS))
        group = self.world.groups[self.index]
        item = self.pick_item(kind)
        body = {"platform_key": PLATFORM, "group_id": group, KINDS[kind]: item}
        response = self.call(
            f"POST {kind}/manage/group/",
            self.admin,
            "POST",
            f"/api/catalog/suggestions/{kind}/manage/group/",
            (200,),
            body,
        )
        if response is not None:
            answer = response.json()
            if answer["user_count"] != GROUP_MEMBERS:
                self.stats.failures.append(f"group {kind}: user_count {answer['user_count']}")
            self.ledger.group_suggestions[(kind, group, item)] = answer["id"]

    def ungroup(self) -> None:
        if not self.ledger.group_suggestions:
            return self.group()
        key = self.random.choice(list(self.ledger.group_suggestions))
        kind = key[0]
        response = self.call(
            f"DELETE {kind}/manage/group/",
            self.admin,
            "DELETE",
            f"/api/catalog/suggestions/{kind}/manage/group/?platform_key={PLATFORM}"
            f"&suggestion_id={self.ledger.group_suggestions[key]}",
            (200,),
        )
        if response is not None:
            del self.ledger.group_suggestions[key]

    def answer(self) -> None:
        mine = [
            key
            for key, pk in self.ledger.suggestions.items()
            if key[1] == self.learner_id and pk is not None
        ]
        if not mine:
            kind = self.random.choice(list(KINDS))
            item = self.pick_item(kind)
            body = {"platform_key": PLATFORM, "user_id": self.learner_id, KINDS[kind]: item}
            response = self.call(
                f"POST {kind}/manage/",
                self.admin,
                "POST",
                f"/api/catalog/suggestions/{kind}/manage/",
                (200, 201),
                body,
            )
            if response is None:
                return
            key = (kind, self.learner_id, item)
            self.ledger.suggestions[key] = response.json()["id"]
            mine = [key]
        key = self.random.choice(mine)
        accepted = self.random.random() < 0.6
        response = self.call(
            f"POST {key[0]}/user/ (learner)",
            self.learner,
            "POST",
            f"/api/catalog/suggestions/{key[0]}/user/",
            (200,),
            {"suggestion_id": self.ledger.suggestions[key], "accepted": accepted},
        )
        if response is not None:
            self.ledger.answers[key] = accepted

    def list(self) -> None:
        kind = self.random.choice(list(KINDS))
        path = f"/api/catalog/suggestions/{kind}/manage/?platform_key={PLATFORM}"
        page = self.random.randint(1, 3)
        # A page past the end is 404 "Invalid page." (the list may be short yet).
        expected = (200,) if page == 1 else (200, 404)
        self.call(f"GET {kind}/manage/", self.admin, "GET", f"{path}&page={page}", expected)

    def learner_list(self) -> None:
        kind = self.random.choice(list(KINDS))
        self.call(
            f"GET {kind}/user/ (learner)",
            self.learner,
            "GET",
            f"/api/catalog/suggestions/{kind}/user/?user_id={self.learner_id}",
            (200,),
        )

    # credentials
    def user_path(self, rest: str = "") -> str:
        return f"/api/credentials/orgs/{PLATFORM}/users/{self.world.admin_id}/{rest}"

    def new_credential(self) -> str | None:
        name = f"Soak {self.index}-{self.random.getrandbits(32):08x}"
        response = self.call(
            "POST credentials",
            self.admin,
            "POST",
            self.user_path(),
            (201,),
            {"name": name, "issuer": self.world.issuer},
        )
        if response is None:
            return None
        entity_id = str(response.json()["result"]["entityId"])
        self.ledger.credentials.add(entity_id)
        return entity_id

    def issue(self) -> None:
        if self.credential is None or not self.recipients:
            self.credential = self.new_credential()
            self.recipients = list(self.world.users[self.index])
            self.random.shuffle(self.recipients)
            if self.credential is None:
                return
        user = self.recipients.pop()
        response = self.call(
            "POST {credential}/assertions/",
            self.admin,
            "POST",
            self.user_path(f"{self.credential}/assertions/"),
            (201,),
            {"recipient": {"identity": self.world.usernames[user]}},
        )
        if response is not None:
            answer = response.json()
            entity_id = answer.get("entityId") or answer["result"]["entityId"]
            self.ledger.assertions[str(entity_id)] = False

    def revoke(self) -> None:
        live = [entity for entity, revoked in self.ledger.assertions.items() if not revoked]
        if not live:
            return self.issue()
        entity_id = self.random.choice(live)
        response = self.call(
            "PUT assertions/{id} (revoke)",
            self.admin,
            "PUT",
            self.user_path(f"assertions/{entity_id}"),
            (200,),
            {"revoked": True, "revocationReason": "soak"},
        )
        if response is not None:
            self.ledger.assertions[entity_id] = True

    def verify(self) -> None:
        if not self.ledger.assertions:
            return self.issue()
        entity_id = self.random.choice(list(self.ledger.assertions))
        revoked = self.ledger.assertions[entity_id]
        gone = 410 if revoked else 200
        for route, path, expected in (
            ("GET /ob/v2/assertions/{id}", f"/ob/v2/assertions/{entity_id}", (gone,)),
            ("GET /ob/v2/assertions/{id}/image", f"/ob/v2/assertions/{entity_id}/image", (gone,)),
            ("GET /ob/v3/credentials/{id}", f"/ob/v3/credentials/{entity_id}", (200, 410)),
            (
                "GET /api/credentials/public/assertions/{id}/",
                f"/api/credentials/public/assertions/{entity_id}/",
                (404 if revoked else 200,),
            ),
        ):
            if self.random.random() < 0.5:
                self.call(route, self.admin, "GET", path, expected)

    def credential_churn(self) -> None:
        entity_id = self.new_credential()
        if entity_id is None:
            return
        response = self.call(
            "DELETE credentials/{id}",
            self.admin,
            "DELETE",
            self.user_path(entity_id),
            (200, 204),
        )
        if response is not None:
            self.ledger.credentials.discard(entity_id)


# --- setup and checks (Django in this process) ----------------------------------------


def create_world(threads: int) -> World:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bench import data
    from ibl_catalog.models import Course, Pathway
    from ibl_core.models import APIKey, Platform
    from ibl_core.tenancy.groups import create_or_update_group
    from ibl_credentials.models import Issuer

    members = threads * GROUP_MEMBERS
    bench = data.create_platform(
        PLATFORM, users=threads * (USERS_PER_THREAD + 1) + members, programs=ITEMS
    )
    with transaction.atomic():
        platform = Platform.objects.get(key=PLATFORM)
        Course.objects.bulk_create(
            Course(platform=platform, course_id=f"course-v1:soak+c{i}+run", name=f"Course {i}")
            for i in range(ITEMS)
        )
        Pathway.objects.bulk_create(
            Pathway(platform=platform, pathway_id=f"soak-pathway-{i}", name=f"Pathway {i}")
            for i in range(ITEMS)
        )
        ids = list(bench.user_ids)
        usernames = dict(
            get_user_model()._default_manager.filter(pk__in=ids).values_list("pk", "username")
        )
        users, learners, groups, group_members = [], [], [], {}
        user_model = get_user_model()
        for t in range(threads):
            start = t * (USERS_PER_THREAD + 1)
            users.append(ids[start : start + USERS_PER_THREAD])
            learner = ids[start + USERS_PER_THREAD]
            _, key = APIKey.objects.issue(
                user=user_model._default_manager.get(pk=learner), platform=platform, name="soak"
            )
            learners.append((learner, key))
        first_member = threads * (USERS_PER_THREAD + 1)
        for t in range(threads):
            chunk = ids[first_member + t * GROUP_MEMBERS : first_member + (t + 1) * GROUP_MEMBERS]
            group, _ = create_or_update_group(
                platform,
                f"Soak cohort {t}",
                add=list(user_model._default_manager.filter(pk__in=chunk)),
            )
            groups.append(group.pk)
            group_members[group.pk] = chunk
        issuer = Issuer.objects.create(platform=platform, entity_id="soak-issuer", name="Soak")
    items = {
        "course": [f"course-v1:soak+c{i}+run" for i in range(ITEMS)],
        "program": bench.program_keys,
        "pathway": [f"soak-pathway-{i}" for i in range(ITEMS)],
    }
    return World(
        admin_id=bench.admin_id,
        admin_key=bench.api_key,
        users=users,
        usernames=usernames,
        learners=learners,
        groups=groups,
        group_members=group_members,
        items=items,
        issuer=issuer.entity_id,
    )


def database_problems(ledgers: list[Ledger], world: World) -> list[str]:
    """Compare the database with the ledgers: suggestions of every kind (and the
    learners' answers), group suggestions, assertions (and revocations), badge classes."""
    from ibl_catalog.declarations import SUGGESTION_KINDS
    from ibl_credentials.models import Assertion, Credential

    problems: list[str] = []
    expected = expected_rows(ledgers, world.group_members)
    kinds = {kind.label: kind for kind in SUGGESTION_KINDS}
    for label, identifier in KINDS.items():
        kind = kinds[label]
        item = f"{kind.item_field}__{identifier}"
        rows = kind.model._default_manager.filter(platform__key=PLATFORM).values_list(
            "user_id", item, "accepted"
        )
        found = {(user, key) for user, key, _ in rows}
        problems += compare(f"{label} suggestions", expected[label], found)
        accepted = {(user, key): value for user, key, value in rows}
        for ledger in ledgers:
            for (answer_kind, user, key), value in ledger.answers.items():
                if answer_kind == label and accepted.get((user, key)) is not value:
                    problems.append(f"{label} answer of {user} for {key}: {value} not stored")
        assert kind.group_model is not None
        groups = set(
            kind.group_model._default_manager.filter(platform__key=PLATFORM).values_list(
                "group_id", f"item__{identifier}"
            )
        )
        wanted = {
            (g, key) for ledger in ledgers for (k, g, key) in ledger.group_suggestions if k == label
        }
        problems += compare(f"{label} group suggestions", wanted, groups)
    assertions = dict(
        Assertion.objects.filter(platform__key=PLATFORM).values_list("entity_id", "revoked")
    )
    wanted_assertions = {e: r for ledger in ledgers for e, r in ledger.assertions.items()}
    problems += compare("assertions", set(wanted_assertions.items()), set(assertions.items()))
    credentials = set(
        Credential.objects.filter(platform__key=PLATFORM).values_list("entity_id", flat=True)
    )
    wanted_credentials = {c for ledger in ledgers for c in ledger.credentials}
    problems += compare("credentials", wanted_credentials, credentials)
    return problems


def last_event_id() -> int:
    from ibl_core.events.models import Event

    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def wait_for_deliveries(
    receiver: Any, endpoint_id: int, after_event: int, timeout: float
) -> list[str]:
    """Wait until every event of the platform recorded after ``after_event`` (an id: the
    endpoint did not exist before) has a finished delivery; then compare the events,
    the delivery rows and what the receiver verified."""
    from ibl_core.events.models import Event, WebhookDelivery

    platform_events = Event.objects.filter(platform__key=PLATFORM, pk__gt=after_event)
    # The workers may still have a backlog when the traffic stops: wait as long as
    # deliveries keep finishing, and give up after ``timeout`` seconds without progress.
    started = progress_at = time.monotonic()
    finished_before, backlog = -1, None
    while True:
        events = platform_events.count()
        done = WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id, status__in=["succeeded", "failed"]
        ).count()
        close_connections()
        if backlog is None:
            backlog = events - done
        if done >= events:
            break
        if done > finished_before:
            progress_at, finished_before = time.monotonic(), done
        elif time.monotonic() - progress_at > timeout:
            break
        time.sleep(1)
    print(
        f"webhooks: {backlog} not yet delivered when the traffic stopped; "
        f"{time.monotonic() - started:.0f} s to deliver them",
        flush=True,
    )
    time.sleep(2)  # a duplicate delivery would arrive now
    # The webhook-id of an event's delivery is "msg_<event id>" (ibl_core.events).
    event_ids = {f"msg_{pk}" for pk in platform_events.values_list("pk", flat=True)}
    delivered = dict(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id).values_list("message_id", "status")
    )
    problems = []
    with receiver.changed:
        received = dict(receiver.counts)
    problems += delivery_problems(event_ids, delivered, received)
    close_connections()
    return problems


# --- the run --------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0] if ordered else float("nan")
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(fraction * 100) - 1]


def report(stats: Stats, seconds: float) -> list[str]:
    lines = [f"{'route':<48} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses"]
    for route in sorted(stats.latencies):
        values = stats.latencies[route]
        statuses = ", ".join(f"{s}x{n}" for s, n in sorted(stats.statuses[route].items()))
        lines.append(
            f"{route:<48} {len(values):>8} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f}  {statuses}"
        )
    total = sum(len(v) for v in stats.latencies.values())
    lines.append(f"total {total} requests in {seconds:.0f} s ({total / seconds:.1f}/s)")
    return lines


def soak(database_url: str, workdir: Path, seconds: float, threads: int, seed: int) -> int:
    env = bench_env(database_url, workdir)
    env["DJANGO_LOG_LEVEL"] = "ERROR"
    env["IBL_REQUEST_LOG_LEVEL"] = "WARNING"
    setup_django(env)
    from bench.events import db_workers, serve

    world = create_world(threads)
    close_connections()
    receiver = counting_receiver()
    stats = Stats()
    database = vendor_of(database_url)
    print(
        f"soak on {database}: {seconds:.0f} s, {threads} client threads, gunicorn 2 sync "
        f"workers, 2 db_worker processes, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f} at start",
        flush=True,
    )
    with ExitStack() as stack:
        base = f"http://127.0.0.1:{stack.enter_context(serve(receiver))}"
        server = stack.enter_context(gunicorn(env, workers=2, log=workdir / "gunicorn.log"))
        admin = Client(server.port, world.admin_key)
        after_event = last_event_id()
        close_connections()
        response = admin.request(
            "POST",
            f"/api/core/orgs/{PLATFORM}/webhooks/",
            json_body={"url": f"{base}/soak", "events": []},
        )
        if response.status != 201:
            raise SystemExit(f"soak: webhook endpoint: {response.status} {response.body!r}")
        endpoint = response.json()
        receiver.expect("/soak", endpoint["secret"])
        stack.enter_context(db_workers(env, 2, workdir / "db_worker.log"))
        traffic = [Traffic(i, server.port, world, stats, seed + i) for i in range(threads)]
        started = time.monotonic()
        deadline = started + seconds
        crashed: list[BaseException] = []

        def run(part: Traffic) -> None:
            try:
                part.run(deadline)
            except BaseException as error:
                crashed.append(error)

        workers = [threading.Thread(target=run, args=(part,)) for part in traffic]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        load = os.getloadavg()
        problems = [f"client thread crashed: {error!r}" for error in crashed]
        problems += wait_for_deliveries(receiver, endpoint["id"], after_event, DELIVERY_TIMEOUT)
    problems += database_problems([part.ledger for part in traffic], world)
    problems += stats.failures[:20]
    fivexx = sum(n for s in stats.statuses.values() for code, n in s.items() if code >= 500)
    print("\n".join(report(stats, elapsed)))
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with receiver.changed:
        print(
            f"webhooks: {len(receiver.counts)} events delivered, {receiver.deliveries} deliveries"
        )
    print(f"5xx answers: {fivexx}; unexpected answers: {len(stats.failures)}")
    if fivexx:
        problems.append(f"{fivexx} answers were 5xx")
    if problems:
        print("SOAK FAILED")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("SOAK PASSED: 0 x 5xx, every row accounted for, every event delivered once")
    return 0


def counting_receiver() -> Any:
    """The bench's verifying receiver (``bench.events``, imported once Django is set up),
    also counting how often each webhook-id came."""
    from bench.events import Receiver

    class CountingReceiver(Receiver):
        def __init__(self) -> None:
            super().__init__()
            self.counts: dict[str, int] = {}

        def receive(self, path: str, body: bytes, headers: Any) -> bool:
            ok = super().receive(path, body, headers)
            if ok:
                lowered = {name.lower(): value for name, value in headers.items()}
                with self.changed:
                    message_id = lowered["webhook-id"]
                    self.counts[message_id] = self.counts.get(message_id, 0) + 1
            return ok

    return CountingReceiver()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600"))
    )
    parser.add_argument("--threads", type=int, default=int(os.environ.get("SOAK_THREADS", "4")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and work dir")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="ibl-soak-"))
    try:
        with bench_database(workdir, keep=args.keep) as database_url:
            code = soak(database_url, workdir, args.seconds, args.threads, args.seed)
            close_connections()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    return code


if __name__ == "__main__":
    sys.exit(main())
