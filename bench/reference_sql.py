"""The limit of a list: the same page and the same bytes, from raw SQL.

Part ``list`` measures the API's lists against these views (the target row) and
against the bare Django view of ``bench/reference.py`` (a second line). What an expert
would write by hand for one known request shape, with nothing the request does not
need:

* two statements per page: one for the caller and everything the page depends on
  (the API key by its prefix, its user, the active platform, the caller's membership,
  and the kept count of the platform's suggestions, or the credential and its issuer),
  then the page itself with its joins, ``LIMIT page_size + 1`` as the API reads it;
  a third, the join-free ``COUNT``, only when the page is not the last and no count is
  kept (the assertion list), as the API counts;
* the same authentication and authorization as the API, in SQL and a few comparisons:
  the key's hash (constant-time), revoked, expired, its user active, the once-a-minute
  ``last_used`` write, an active platform, the key's own platform unless superuser, an
  active admin membership (the caller acting as themself for the assertion list);
* timestamps written by the database as the API writes them (the SQL mirrors of
  ``ibl_core/api/representation.py``), rows as tuples, the envelope encoded as DRF's
  ``JSONRenderer`` encodes (compact, UTF-8, ``\\u2028``/``\\u2029`` escaped).

Everything else is trusted: ``sort`` is one of the API's columns, ``query=`` is not
served (the bare view covers it), department admins are not served (403). The bench
checks each answer byte-identical to the API's before timing anything. The SQL strings
are built once per database vendor.
"""

from __future__ import annotations

import hmac
import json
from datetime import timedelta
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ibl_core.api.representation import UtcTimestamp
from ibl_core.conf import ibl_settings
from ibl_core.models import hash_api_key
from ibl_core.sql.cursor import fetch_all, fetch_one

_PREFIX = 12  # APIKey.PREFIX_LENGTH


def error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def encode(body: dict[str, Any]) -> HttpResponse:
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(text.encode(), content_type="application/json")


def utc(column: str) -> str:
    """``column`` as the API's UTC text, written by the database."""
    return UtcTimestamp.templates[connection.vendor].replace("{x}", f"({column})")


def db_time(value: Any) -> Any:
    """A datetime as the database compares it (SQLite: its stored text)."""
    return connection.ops.adapt_datetimefield_value(value)


def json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def raw_key(request: HttpRequest) -> str | None:
    parts = request.headers.get("Authorization", "").split()
    keywords = {keyword.casefold() for keyword in ibl_settings.API_KEY_KEYWORDS}
    if len(parts) != 2 or parts[0].casefold() not in keywords or len(parts[1]) != 64:
        return None
    return parts[1]


#: The caller's columns both statements start with; ``%(extra)s`` joins more.
AUTH_COLUMNS = (
    "k.id, k.hashed_key, k.revoked, "
    "CASE WHEN k.expires IS NOT NULL AND k.expires <= %s THEN 1 ELSE 0 END, "
    "CASE WHEN k.last_used IS NOT NULL AND k.last_used > %s THEN 1 ELSE 0 END, "
    "k.platform_id, u.id, u.is_active, u.is_superuser, p.id, m.active, m.is_admin"
)


def authorized(row: Any, key: str) -> tuple[int, str] | None:
    """The refusal (status, detail) of the caller's row, or ``None``; writes
    ``last_used`` as the API does (at most once per interval)."""
    if row is None or not hmac.compare_digest(row[1], hash_api_key(key)):
        return 401, "Invalid API key."
    if row[2]:
        return 401, "API key revoked."
    if row[3]:
        return 401, "API key expired."
    if not row[7]:
        return 401, "User inactive or deleted."
    if not row[4]:
        now = timezone.now()
        threshold = now - timedelta(seconds=ibl_settings.API_KEY_LAST_USED_INTERVAL)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ibl_core_apikey SET last_used = %s "
                "WHERE id = %s AND (last_used IS NULL OR last_used <= %s)",
                [db_time(now), row[0], db_time(threshold)],
            )
    if row[9] is None:
        return 404, "Platform not found."
    if not row[8] and (row[5] != row[9] or not (row[10] and row[11])):
        return 403, "Not an admin of this platform."
    return None


def auth_params() -> list[Any]:
    now = timezone.now()
    threshold = now - timedelta(seconds=ibl_settings.API_KEY_LAST_USED_INTERVAL)
    return [db_time(now), db_time(threshold)]


def links(request: HttpRequest, api_path: str, number: int, more: bool) -> tuple[Any, Any]:
    """``next`` and ``previous`` as DRF's page-number pagination writes them."""
    url = request.build_absolute_uri(api_path)
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    following = replace_query_param(url, "page", number + 1) if more else None
    previous = None
    if number > 1:
        previous = replace_query_param(url, "page", number - 1)
        if number == 2:
            previous = remove_query_param(url, "page")
    return following, previous


def page_params(request: HttpRequest, default: int, maximum: int) -> tuple[int, int] | None:
    try:
        number = int(request.GET.get("page", 1))
        size = min(int(request.GET.get("page_size", default)), maximum)
    except ValueError:
        return None
    return (number, size) if number >= 1 and size >= 1 else None


# --- the program-suggestion admin list -------------------------------------------------

#: ``sort`` -> the ORDER BY column (the API's ``selectors.sort_columns`` for programs).
SUGGESTION_SORTS = {
    "id": "s.id",
    "created": "s.created",
    "modified": "s.modified",
    "username": "u.username",
    "program_key": "g.program_key",
    "program_name": "g.name",
    "accepted": "s.accepted",
    "visible": "s.visible",
}
_suggestion_sql: dict[str, str] = {}
PROGRAM_JOIN = "JOIN ibl_catalog_program g ON g.id = s.program_id"


def suggestion_statements() -> tuple[str, str]:
    vendor = connection.vendor
    if vendor not in _suggestion_sql:
        _suggestion_sql[vendor] = (
            f"SELECT {AUTH_COLUMNS}, (SELECT SUM(c.delta) FROM ibl_catalog_suggestioncount c "
            "WHERE c.platform_id = p.id AND c.kind = 'program') "
            "FROM ibl_core_apikey k JOIN auth_user u ON u.id = k.user_id "
            "LEFT JOIN ibl_core_platform p ON p.key = %s AND p.active "
            "LEFT JOIN ibl_core_platformmembership m ON m.user_id = u.id AND m.platform_id = p.id "
            "WHERE k.prefix = %s"
        )
        # The page's ids (and sort keys) first, sorted without the wide columns, then
        # their rows with the joins: one statement.
        _suggestion_sql[vendor + ":page"] = (
            "SELECT s.id, s.user_id, u.username, TRIM(u.first_name || ' ' || u.last_name), "
            f"s.accepted, s.visible, {utc('s.created')}, {utc('s.modified')}, s.metadata, "
            "g.program_key, g.name "
            "FROM (SELECT s.id, {column} AS sort_key FROM ibl_catalog_programsuggestion s "
            "{join} WHERE s.platform_id = %s ORDER BY {order} LIMIT %s OFFSET %s) page "
            "JOIN ibl_catalog_programsuggestion s ON s.id = page.id "
            "JOIN auth_user u ON u.id = s.user_id "
            "JOIN ibl_catalog_program g ON g.id = s.program_id "
            "ORDER BY {outer}"
        )
    return _suggestion_sql[vendor], _suggestion_sql[vendor + ":page"]


def raw_sql_suggestions(request: HttpRequest) -> HttpResponse:
    """``GET ?platform_key=&page=&page_size=&sort=``: the API's page, from raw SQL."""
    key = raw_key(request)
    if key is None:
        return error(401, "Authentication credentials were not provided.")
    paging = page_params(request, ibl_settings.PAGE_SIZE, ibl_settings.MAX_PAGE_SIZE)
    sort = request.GET.get("sort") or "-id"
    column = SUGGESTION_SORTS.get(sort.lstrip("-"))
    if paging is None or column is None or request.GET.get("query"):
        return error(400, "Not served by the raw-SQL reference.")
    number, size = paging
    auth_sql, page_sql = suggestion_statements()
    direction = " DESC" if sort.startswith("-") else ""
    caller: Any = fetch_one(
        auth_sql, [*auth_params(), request.GET.get("platform_key"), key[:_PREFIX]]
    )
    refused = authorized(caller, key)
    if refused:
        return error(*refused)
    platform_id, platform_key = caller[9], request.GET["platform_key"]
    join = {"u": "JOIN auth_user u ON u.id = s.user_id", "g": PROGRAM_JOIN}.get(column[0], "")
    statement = (
        page_sql.replace("{column}", column)
        .replace("{join}", join)
        .replace("{order}", f"{column}{direction}, s.id{direction}")
        .replace("{outer}", f"page.sort_key{direction}, page.id{direction}")
    )
    rows = fetch_all(statement, [platform_id, size + 1, (number - 1) * size])
    more = len(rows) > size
    del rows[size:]
    if not rows and number > 1:
        return error(404, "Invalid page.")
    seen = (number - 1) * size + len(rows)
    count = max(int(caller[12] or 0), seen + 1) if more else seen
    following, previous = links(request, "/api/catalog/suggestions/program/manage/", number, more)
    results = [
        {
            "id": row[0],
            "user_id": row[1],
            "username": row[2],
            "name": row[3],
            "platform_key": platform_key,
            "accepted": bool(row[4]),
            "visible": bool(row[5]),
            "created": row[6],
            "modified": row[7],
            "metadata": json_value(row[8]),
            "program_key": row[9],
            "program_name": row[10],
        }
        for row in rows
    ]
    return encode(
        {
            "count": count,
            "next": following,
            "previous": previous,
            "next_page": following,
            "previous_page": previous,
            "results": results,
        }
    )


# --- a credential's assertion list -----------------------------------------------------

_assertion_sql: dict[str, str] = {}
_ITEM_KINDS = ("course", "program", "pathway")
_ob_paths: dict[str, str] = {}


def assertion_statements() -> tuple[str, str, str]:
    vendor = connection.vendor
    if vendor not in _assertion_sql:
        _assertion_sql[vendor] = (
            f"SELECT {AUTH_COLUMNS}, u.username, c.id, c.entity_id, c.name, c.description, "
            "c.icon_image, c.credential_type, i.entity_id "
            "FROM ibl_core_apikey k JOIN auth_user u ON u.id = k.user_id "
            "LEFT JOIN ibl_core_platform p ON p.id = (SELECT q.id FROM ibl_core_platform q "
            "WHERE q.active AND (q.key = %s OR q.org = %s) "
            "ORDER BY CASE WHEN q.key = %s THEN 0 ELSE 1 END LIMIT 1) "
            "LEFT JOIN ibl_core_platformmembership m ON m.user_id = u.id AND m.platform_id = p.id "
            "LEFT JOIN ibl_credentials_credential c ON c.platform_id = p.id AND c.entity_id = %s "
            "LEFT JOIN ibl_credentials_issuer i ON i.id = c.issuer_id "
            "WHERE k.prefix = %s"
        )
        active = (
            "a.credential_id = %s AND a.revoked = %s AND a.superseded = %s "
            "AND (a.expires IS NULL OR a.expires > %s)"
        )
        _assertion_sql[vendor + ":page"] = (
            f"SELECT a.entity_id, {utc('a.issued_on')}, {utc('a.expires')}, u.username, "
            "u.email, u.first_name, u.last_name, a.recipient_id, a.item_kind, a.item_key, "
            "a.item_name, a.metadata, a.narrative, a.evidence, a.revoked, "
            "a.revocation_reason, a.acceptance "
            "FROM ibl_credentials_assertion a JOIN auth_user u ON u.id = a.recipient_id "
            f"WHERE {active} ORDER BY a.issued_on DESC, a.id DESC LIMIT %s OFFSET %s"
        )
        _assertion_sql[vendor + ":count"] = (
            f"SELECT COUNT(*) FROM ibl_credentials_assertion a WHERE {active}"
        )
    return (
        _assertion_sql[vendor],
        _assertion_sql[vendor + ":page"],
        _assertion_sql[vendor + ":count"],
    )


def ob_paths() -> tuple[str, str]:
    """The hosted assertion's and its image's paths, ``~id~`` for the entity id."""
    if not _ob_paths:
        marker = {"entity_id": "~id~"}
        _ob_paths["verify"] = reverse("ibl-openbadges:ob2-assertion", kwargs=marker)
        _ob_paths["image"] = (
            reverse("ibl-openbadges:ob2-assertion-image", kwargs=marker) + "?format=png"
        )
    return _ob_paths["verify"], _ob_paths["image"]


def raw_sql_assertions(
    request: HttpRequest, org: str, user_id: str, entity_id: str
) -> HttpResponse:
    """``GET .../orgs/{org}/users/{user_id}/{entity_id}/assertions/?page=&page_size=``:
    a credential's active assertions, newest first, as the API answers them, from raw
    SQL; the caller acting as themself (``{user_id}`` their id or username)."""
    key = raw_key(request)
    if key is None:
        return error(401, "Authentication credentials were not provided.")
    paging = page_params(
        request, ibl_settings.ASSERTION_LIST_PAGE_SIZE, ibl_settings.ASSERTION_LIST_MAX_PAGE_SIZE
    )
    if paging is None or set(request.GET) - {"page", "page_size"}:
        return error(400, "Not served by the raw-SQL reference.")
    number, size = paging
    auth_sql, page_sql, count_sql = assertion_statements()
    caller: Any = fetch_one(auth_sql, [*auth_params(), org, org, org, entity_id, key[:_PREFIX]])
    refused = authorized(caller, key)
    if refused:
        return error(*refused)
    if user_id not in (str(caller[6]), caller[12]):
        return error(403, "Not served by the raw-SQL reference: act as yourself.")
    if caller[13] is None:
        return error(404, "Credential not found.")
    active = [caller[13], False, False, db_time(timezone.now())]
    rows = fetch_all(page_sql, [*active, size + 1, (number - 1) * size])
    more = len(rows) > size
    del rows[size:]
    if not rows and number > 1:
        return error(404, "Invalid page.")
    seen = (number - 1) * size + len(rows)
    if more:
        counted = fetch_one(count_sql, active)
        count = max(counted[0] if counted else 0, seen + 1)
    else:
        count = seen
    details = {
        "entityId": caller[14],
        "name": caller[15],
        "description": caller[16],
        "iconImage": caller[17],
        "credentialType": caller[18],
        "issuer": caller[19],
    }
    base = ibl_settings.OPEN_BADGES_BASE_URL
    base = str(base).rstrip("/") if base else request.build_absolute_uri("/").rstrip("/")
    verify, image = ob_paths()
    verify, image = base + verify, base + image
    data = []
    for row in rows:
        kind = row[8]
        item = {"key": row[9], "name": row[10]}
        data.append(
            {
                "entityId": row[0],
                "issuedOn": row[1] or "",
                "expires": row[2] or "",
                "credentialDetails": details,
                "recipient": {
                    "username": row[3],
                    "email": row[4] or "",
                    "name": f"{row[5] or ''} {row[6] or ''}".strip(" "),
                    "user_id": str(row[7]),
                },
                **{name: item if kind == name else {} for name in _ITEM_KINDS},
                "metadata": json_value(row[11]),
                "narrative": row[12],
                "evidence": json_value(row[13]),
                "revoked": bool(row[14]),
                "revocationReason": row[15],
                "acceptance": row[16],
                "verifyUrl": verify.replace("~id~", row[0]),
                "imageUrl": image.replace("~id~", row[0]),
            }
        )
    api_path = f"/api/credentials/orgs/{org}/users/{user_id}/{entity_id}/assertions/"
    following, previous = links(request, api_path, number, more)
    return encode(
        {
            "next": following,
            "previous": previous,
            "count": count,
            "data": data,
            "num_pages": max(1, -(-count // size)),
            "page_number": number,
            "max_page_size": int(ibl_settings.ASSERTION_LIST_MAX_PAGE_SIZE),
        }
    )
