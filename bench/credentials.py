"""Part ``credentials`` of ``make bench``: bulk issuing, and the assertion list at scale.

1. One bulk request issuing a credential to 10,000 recipients, against issuing it one
   recipient at a time (a sample of single POSTs from one client, extrapolated), and
   against the 2 s the contract allows on SQLite;
2. page 1 of a credential's assertions at 1,000,000 assertions, against the same page of
   a credential holding 1,000, interleaved, every count checked exact. No target: the
   page itself is read in index order, but the exact count of active assertions is an
   index-only scan of the credential's entries, so it grows with the credential
   (docs/performance.md, "Assertions");
3. the public pages of a credential: the badge page (HTML) against the hosted Open
   Badges 2.0 document of the same assertion (JSON-LD, the same rows), and the verifier
   checking a VC-JWT, interleaved. No target on those; then every public verification
   path of the same assertion (OB 2.0 JSON, baked PNG and SVG, OB 3.0 JSON-LD and
   VC-JWT, the status list in both forms, the badge page) against a view answering the
   same bytes from memory (``bench/same_bytes.py``), interleaved: the target is at
   least half its speed (p50).

``python -m bench --only public`` runs part 3 alone, on a credential of 1,000.
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from urllib.parse import quote

from django.db import connection, transaction

from bench import data
from bench.client import Client, Response, Run, only_status
from bench.harness import Side, close_connections, interleave, ms, spread

#: Recipients of the bulk request (the contract's maximum).
BULK_RECIPIENTS = 10_000
#: Assertions of the large credential, and item keys per recipient (users x items).
LARGE_LIST = 1_000_000
ITEMS_PER_USER = 100
BULK_TARGET_SECONDS = 2.0
SINGLES_TARGET = 20.0
PAGE_SIZE = 20


def user_path(bench: data.BenchPlatform, rest: str) -> str:
    return f"/api/credentials/orgs/{bench.key}/users/{bench.admin_id}/{rest}"


def create_credential(bench: data.BenchPlatform, entity_id: str) -> Any:
    """A credential of the bench platform's issuer (created on first use)."""
    from ibl_core.models import Platform
    from ibl_credentials.models import Credential, Issuer

    platform = Platform.objects.get(key=bench.key)
    issuer, _ = Issuer.objects.get_or_create(
        platform=platform, entity_id=f"{bench.key}-issuer", defaults={"name": "Bench Academy"}
    )
    return Credential.objects.create(
        platform=platform, issuer=issuer, entity_id=entity_id, name=f"Bench {entity_id}"
    )


def reset_assertions(credential: Any) -> None:
    from ibl_credentials.models import Assertion

    Assertion.objects.filter(credential=credential).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Assertion._meta.db_table}")


def load_assertions(bench: data.BenchPlatform, credential: Any, count: int) -> None:
    """``count`` assertions of ``credential`` in one statement: assertion ``n`` goes to
    user ``n // ITEMS_PER_USER`` for course key ``n % ITEMS_PER_USER``."""
    from ibl_credentials.models import Assertion

    if count > len(bench.user_ids) * ITEMS_PER_USER:
        raise ValueError("not enough users x items for that many assertions")
    prefix, source, series = data._series(0, count)
    concat = data._concat
    if connection.vendor == "postgresql":
        stamp = "%s::timestamptz + n * interval '1 second'"
        stamp_params = [data.BASE_TIME]
    else:
        stamp = "datetime(%s, '+' || n || ' seconds')"
        stamp_params = [data.BASE_TIME.strftime("%Y-%m-%d %H:%M:%S")]
    entity = concat("%s", "CAST(n AS TEXT)")
    key = concat("'course-v1:bench+c'", f"CAST(n % {ITEMS_PER_USER} AS TEXT)")
    select = (
        f"SELECT %s, %s, {entity}, %s + n / {ITEMS_PER_USER}, 'course', {key}, {key}, "
        f"{stamp}, '', '[]', '{{}}', FALSE, '', FALSE, 'Unaccepted', %s, {stamp}, {stamp} "
        f"FROM {source} ORDER BY n"
    )
    values = [credential.platform_id, credential.pk, f"{credential.entity_id}-a"]
    values += [bench.user_ids[0], *stamp_params, bench.admin_id, *stamp_params, *stamp_params]
    select = select.replace("%", "%%").replace("%%s", "%s")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"{prefix}INSERT INTO {Assertion._meta.db_table} (platform_id, credential_id, "
            "entity_id, recipient_id, item_kind, item_key, item_name, issued_on, narrative, "
            "evidence, metadata, revoked, revocation_reason, superseded, acceptance, "
            f"issued_by_id, created, modified) {select}",
            [*series, *values] if prefix else [*values, *series],
        )


def bench_credentials(report: Any, client: Client, plan: Any) -> None:
    from ibl_credentials.models import Assertion

    database = report.meta["database"]
    recipients = BULK_RECIPIENTS if plan.scale_users >= BULK_RECIPIENTS else plan.scale_users
    bench = data.create_platform("creds", users=recipients, programs=1)
    api = Client(client.port, bench.api_key)
    report.start(
        f"Credentials: bulk issuing to {recipients:,} recipients vs one by one; a "
        f"credential's assertions at {LARGE_LIST:,} vs 1,000"
    )

    # 1. Bulk issuing against single POSTs.
    bulk_credential = create_credential(bench, "bench-bulk")
    usernames = [f"{bench.key}-u{n}" for n in range(recipients)]
    issue_path = user_path(bench, f"{bulk_credential.entity_id}/assertions/")
    sample = usernames[:: max(1, recipients // plan.single_sample)][: plan.single_sample]

    def issue(i: int) -> Response:
        return api.request("POST", issue_path, json_body={"recipient": {"identity": sample[i]}})

    singles = api.run(issue, count=len(sample))
    only_status(singles, [201])
    one_by_one = singles.seconds / singles.requests * recipients
    report.add(
        f"one by one: {len(sample)} single POSTs timed, extrapolated to {recipients:,}",
        one_by_one,
        "s",
        key="credentials.singles",
        p50_ms=ms(singles.percentile(0.5)),
    )
    bulk_times: list[float] = []
    body = {"users": usernames}
    for _ in range(plan.bulk_samples):
        reset_assertions(bulk_credential)
        close_connections()
        response = api.request("POST", issue_path + "bulk/", json_body=body)
        answer = response.json() if response.status == 200 else {}
        if len(answer.get("issued", [])) != recipients:
            raise RuntimeError(f"bulk issue: {response.status} {response.body[:300]!r}")
        bulk_times.append(response.seconds)
    if Assertion.objects.filter(credential=bulk_credential).count() != recipients:
        raise RuntimeError("bulk issue: the assertions are not all there")
    bulk = statistics.median(bulk_times)
    report.add(
        f"bulk issue, {recipients:,} recipients, median (min-max) of {plan.bulk_samples}",
        bulk,
        "s",
        target=f"< {BULK_TARGET_SECONDS:g} s",
        ok=bulk < BULK_TARGET_SECONDS,
        key="credentials.bulk",
        samples=bulk_times,
        table=f"bulk issue to {recipients:,} recipients (one request)",
        level=1,
        cell=spread(bulk_times, unit=" s"),
    )
    ratio = one_by_one / bulk
    report.add(
        "ratio: one by one (extrapolated) / bulk",
        ratio,
        "x",
        target=f">= {SINGLES_TARGET:g}x",
        ok=ratio >= SINGLES_TARGET,
        key="credentials.ratio_singles",
        table="issuing one by one (extrapolated) / one bulk request",
        level=1,
        cell=f"{ratio:.0f}x",
    )
    reset_assertions(bulk_credential)

    # 2. A credential's assertion list: 1,000,000 against 1,000.
    large = create_credential(bench, "bench-large")
    small = create_credential(bench, "bench-small")
    size = min(LARGE_LIST, recipients * ITEMS_PER_USER)
    started = time.perf_counter()
    load_assertions(bench, large, size)
    load_assertions(bench, small, 1_000)
    data.analyze()
    close_connections()
    report.add(
        f"load {size:,} + 1,000 assertions set-based + ANALYZE", time.perf_counter() - started, "s"
    )
    query = f"?page_size={PAGE_SIZE}"
    big_side = Side(api, user_path(bench, f"{large.entity_id}/assertions/{query}"), size, None)
    small_side = Side(api, user_path(bench, f"{small.entity_id}/assertions/{query}"), 1_000, None)
    interleave([big_side, small_side], plan.latency_requests)
    list_ratio = big_side.p50 / small_side.p50
    report.add(
        f"credential's assertions, page 1 at {size:,}: p50 (1,000: {small_side.p50:.1f})",
        big_side.p50,
        "ms",
        key="credentials.list_large",
        reference_p50_ms=small_side.p50,
    )
    report.add(
        f"ratio: page 1 at {size:,} / at 1,000",
        list_ratio,
        "x",
        key="credentials.list_ratio",
        table=f"a credential's assertions, page 1 at {size:,} / at 1,000",
        level=1,
        cell=f"{list_ratio:.1f}x ({big_side.p50:.1f} ms)",
    )
    report.note(
        "credentials: the bulk and the single POSTs issue the same credential to the "
        "platform's generated users by username (each bulk sample starts from no "
        "assertions"
        + (", VACUUM ANALYZE" if database == "postgresql" else "")
        + "); the list reads page 1 (exact count) of a credential holding "
        f"{size:,} assertions ({ITEMS_PER_USER} course keys per recipient) and of one "
        "holding 1,000, interleaved"
    )
    bench_public_pages(report, api, small, plan)


def bench_public(report: Any, client: Client, plan: Any) -> None:
    """``--only public``: part 3 alone, on a credential of 1,000 assertions."""
    bench = data.create_platform("public", users=10, programs=1)
    api = Client(client.port, bench.api_key)
    report.start("Credentials: the public verification paths")
    credential = create_credential(bench, "bench-public")
    load_assertions(bench, credential, 1_000)
    close_connections()
    bench_public_pages(report, api, credential, plan)


#: Public target: at least this fraction of the same-bytes view's speed (p50).
PUBLIC_TARGET = 0.5


def public_paths(entity_id: str, status_list: str) -> list[tuple[str, str, str]]:
    """(name, path, Accept) of every public verification path of one assertion."""
    assertion = f"/ob/v2/assertions/{entity_id}"
    credential = f"/ob/v3/credentials/{entity_id}"
    status = f"/ob/v3/status/{status_list}"
    return [
        ("OB 2.0 JSON-LD", assertion, "*/*"),
        ("baked PNG", f"{assertion}/image", "*/*"),
        ("baked SVG", f"{assertion}/image?format=svg", "*/*"),
        ("OB 3.0 JSON-LD", f"{credential}?format=json", "*/*"),
        ("OB 3.0 VC-JWT", f"{credential}?format=jwt", "*/*"),
        ("status list JSON-LD", f"{status}?format=json", "*/*"),
        ("status list VC-JWT", f"{status}?format=jwt", "*/*"),
        ("badge page", f"/badges/{entity_id}", "text/html"),
    ]


def bench_public_paths(report: Any, api: Client, held: Any, plan: Any) -> None:
    """Each public path against the same bytes from memory, alternating request by
    request; the bodies are checked identical first."""
    from ibl_credentials.openbadges.models import SignedCredential

    signed = SignedCredential.objects.select_related("entry__status_list").get(assertion=held)
    status_list = signed.entry.status_list.entity_id
    close_connections()
    for name, path, accept in public_paths(held.entity_id, status_list):
        headers = {"Accept": accept}
        reference = f"/bench/same-bytes/?path={quote(path, safe='')}"

        def ours(path: str = path, headers: dict[str, str] = headers) -> Response:
            return api.request("GET", path, headers=headers)

        def kept(reference: str = reference, headers: dict[str, str] = headers) -> Response:
            return api.request("GET", reference, headers=headers)

        first = ours()
        for _ in range(4):  # fill both workers' dicts, untimed
            same = kept()
        if first.status != 200 or same.status != 200 or same.body != first.body:
            raise RuntimeError(f"public {name}: {first.status}/{same.status}, bodies differ")
        runs = {"ours": Run(0.0), "kept": Run(0.0)}
        calls = {"ours": ours, "kept": kept}
        for i in range(plan.public_requests):
            for side in ("ours", "kept") if i % 2 == 0 else ("kept", "ours"):
                response = calls[side]()
                if response.status != 200:
                    raise RuntimeError(f"public {name} ({side}): {response.status}")
                runs[side].latencies.append(response.seconds)
                runs[side].seconds += response.seconds
        ours_p50, kept_p50 = (ms(runs[side].percentile(0.5)) for side in ("ours", "kept"))
        ratio = kept_p50 / ours_p50
        rate = runs["ours"].requests / runs["ours"].seconds
        report.add(
            f"{name}: speed / same bytes from memory (p50 {ours_p50:.2f} vs {kept_p50:.2f} ms)",
            ratio,
            "x",
            target=f">= {PUBLIC_TARGET:g}x",
            ok=ratio >= PUBLIC_TARGET,
            key=f"credentials.public.{name.lower().replace(' ', '_').replace('.', '')}",
            p50_ms=ours_p50,
            reference_p50_ms=kept_p50,
            sequential_rate=rate,
            table=f"public {name} vs the same bytes from memory, p50 speed",
            level=1,
            cell=f"{ratio:.2f}x ({ours_p50:.2f} vs {kept_p50:.2f} ms)",
        )
    report.note(
        "public paths: one client, sequential, each path alternating request by request "
        f"with /bench/same-bytes/ ({plan.public_requests} each); the ratio is the "
        "reference's p50 over the path's (1.0x: as fast as handing out kept bytes)"
    )


def bench_public_pages(report: Any, api: Client, credential: Any, plan: Any) -> None:
    """Part 3: p50 of the badge page and of the hosted JSON-LD of one assertion (the
    reference: the same rows, no template), and of a verification, interleaved."""
    from ibl_credentials.models import Assertion

    held = Assertion.objects.filter(credential=credential).order_by("pk").first()
    if held is None:
        raise RuntimeError("public pages: no assertion to show")
    close_connections()
    token = api.request("GET", f"/ob/v3/credentials/{held.entity_id}?format=jwt")
    if token.status != 200:
        raise RuntimeError(f"public pages: the VC-JWT is {token.status}")
    html = {"Accept": "text/html"}
    sides: dict[str, tuple[Any, Run]] = {
        "page": (lambda: api.request("GET", f"/badges/{held.entity_id}", headers=html), Run(0.0)),
        "hosted": (lambda: api.request("GET", f"/ob/v2/assertions/{held.entity_id}"), Run(0.0)),
        "verify": (
            lambda: api.request(
                "POST", "/api/credentials/verify/", json_body={"credential": token.body.decode()}
            ),
            Run(0.0),
        ),
    }
    for name, (call, _) in sides.items():  # not timed: connection, caches, first render
        first = call()
        if first.status != 200:
            raise RuntimeError(f"public pages, {name}: {first.status} {first.body[:200]!r}")
    order = list(sides)
    for i in range(plan.latency_requests):
        for name in order if i % 2 == 0 else order[::-1]:
            call, run = sides[name]
            response = call()
            if response.status != 200:
                raise RuntimeError(f"public pages, {name}: {response.status}")
            run.latencies.append(response.seconds)
            run.seconds += response.seconds
    page, hosted, verify = (ms(sides[name][1].percentile(0.5)) for name in order)
    report.add(
        f"badge page p50 (the hosted JSON-LD of the same assertion: {hosted:.1f} ms)",
        page,
        "ms",
        key="credentials.page",
        reference_p50_ms=hosted,
        table="badge page, p50 (hosted JSON-LD of the same assertion)",
        level=2,
        cell=f"{page:.1f} ms ({hosted:.1f} ms)",
    )
    report.add(
        "verifier p50, a VC-JWT of this server (signature, key, dates, status list)",
        verify,
        "ms",
        key="credentials.verify",
        table="verifier, p50 (a VC-JWT: signature, key, dates, status)",
        level=2,
        cell=f"{verify:.1f} ms",
    )
    bench_public_paths(report, api, held, plan)
