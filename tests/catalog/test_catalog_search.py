"""The list's ``query``: users and programs first, then their suggestions (search.py).

The results must be those of the search through the joins that it replaced: the old
queryset is kept here as the reference and compared on a crafted data set.
"""

from __future__ import annotations

import warnings

import pytest
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Trim
from django.test.utils import CaptureQueriesContext

from ibl_catalog.declarations import PROGRAM_SUGGESTIONS
from ibl_catalog.models import Course, Pathway, Program, ProgramSuggestion
from ibl_catalog.suggestions import search
from tests.support.catalog_helpers import MANAGE
from tests.support.factories import (
    DepartmentMemberFactory,
    MembershipFactory,
    ProgramFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MIGRATION = ("ibl_catalog", "0006_search_trigram_indexes")
INDEXES = {
    "ibl_user_username_trgm",
    "ibl_user_email_trgm",
    "ibl_user_full_name_trgm",
    "ibl_program_key_trgm",
    "ibl_program_name_trgm",
    "ibl_course_key_trgm",
    "ibl_course_name_trgm",
    "ibl_pathway_key_trgm",
    "ibl_pathway_uuid_trgm",
    "ibl_pathway_name_trgm",
}


def old_search(text: str):
    """The search as it was: icontains through the joins, on every suggestion row."""
    return ProgramSuggestion.objects.alias(
        full=Trim(Concat(F("user__first_name"), Value(" "), F("user__last_name")))
    ).filter(
        Q(user__username__icontains=text)
        | Q(full__icontains=text)
        | Q(user__email__icontains=text)
        | Q(program__program_key__icontains=text)
        | Q(program__name__icontains=text)
    )


@pytest.fixture
def crafted(world):
    """Users and programs whose names hold wildcards, spaces, accents and shared words."""
    people = [
        ("ada", "Ada", "Lovelace", "ada@example.com"),
        ("grace_h", "Grace", "Hopper", "grace@navy.example"),
        ("percent", "Fifty", "50% Off", "half@example.com"),
        ("gracexh", "Not", "Grace", "other@example.com"),
        ("zoe", "Zoë", "Ünal", "zoe@example.com"),
        ("nameless", "", "", "nobody@example.com"),
        ("spaced", "  Lead", "Trail  ", "spaced@example.com"),
        ("biology", "Bio", "Logist", "bio@example.com"),
    ]
    users = []
    for username, first, last, email in people:
        user = UserFactory(username=username, first_name=first, last_name=last, email=email)
        MembershipFactory(user=user, platform=world.p1)
        users.append(user)
    programs = [
        ProgramFactory(platform=world.p1, program_key="program-v1:org+bio+run", name="Biology"),
        ProgramFactory(platform=world.p1, program_key="program-v1:org+a_b+run", name="100% Math"),
        ProgramFactory(platform=world.p1, program_key="program-v1:org+zoë+run", name="Ünicode"),
    ]
    for n, user in enumerate(users):
        for program in programs[n % 2 :]:
            ProgramSuggestion.objects.create(platform=world.p1, user=user, program=program)
    # Matches on another platform are not listed on p1.
    elsewhere = ProgramFactory(platform=world.p2, program_key="program-v1:org+bio+x", name="Bio")
    ProgramSuggestion.objects.create(
        platform=world.p2, user=world.users["learner_p2"], program=elsewhere
    )
    return users, programs


def listed(world, role="platform_admin_p1", **params):
    response = world.client(role).get(MANAGE, {"platform_key": "p1", "page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()


TERMS = [
    "ada", "ADA", "a lov", "ada lovelace", "grace", "grace_", "_", "%", "50%", "50% off",
    "a_b", "100%", "bio", "BIOLOGY", "zoë", "ünal", "ünicode", "zoë ünal", "example.com",
    "lead trail", "  lead", "navy", "nothing-matches", "o", "program-v1", "+run", "\\",
]  # fmt: skip


@pytest.mark.parametrize("text", TERMS)
def test_results_and_count_equal_the_join_search(world, crafted, text):
    # The filter form strips the text, as it did before.
    want = list(
        old_search(text.strip())
        .filter(platform=world.p1)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    body = listed(world, query=text)
    assert [row["id"] for row in body["results"]] == want
    assert body["count"] == len(want)


def test_wildcards_are_literal(world, crafted):
    # "_" is no single-character wildcard: grace_h matches, gracexh does not.
    names = {row["username"] for row in listed(world, query="grace_")["results"]}
    assert names == {"grace_h"}
    # "%" is no wildcard: only the literal "50%" and "100%" match.
    percent = listed(world, query="%")["results"]
    assert {row["username"] for row in percent if row["program_name"] != "100% Math"} == {"percent"}


def test_term_matching_a_user_and_a_program_lists_both(world, crafted):
    users, programs = crafted
    biologist = users[-1]
    body = listed(world, query="bio")
    ids = {row["id"] for row in body["results"]}
    by_user = set(
        ProgramSuggestion.objects.filter(platform=world.p1, user=biologist).values_list(
            "id", flat=True
        )
    )
    by_program = set(
        ProgramSuggestion.objects.filter(platform=world.p1, program=programs[0]).values_list(
            "id", flat=True
        )
    )
    assert by_user - by_program and by_program - by_user  # each side adds its own rows
    assert ids == by_user | by_program


def test_full_name_search_spans_the_space(world, crafted):
    body = listed(world, query="Ada Lov")
    assert {row["username"] for row in body["results"]} == {"ada"}
    assert {row["name"] for row in body["results"]} == {"Ada Lovelace"}


def test_department_scope_still_applies(world, crafted):
    users, _ = crafted
    DepartmentMemberFactory(department=world.department, user=users[0])  # ada
    body = listed(world, role="department_admin", query="example", department_mode="true")
    assert {row["username"] for row in body["results"]} == {"ada"}
    assert (
        body["count"] == ProgramSuggestion.objects.filter(platform=world.p1, user=users[0]).count()
    )


def test_subquery_past_the_id_list_limit_gives_the_same_results(world, crafted, monkeypatch):
    want = listed(world, query="example")
    monkeypatch.setattr(search, "ID_LIST_LIMIT", 2)
    assert listed(world, query="example") == want
    assert listed(world, query="o")["count"] == old_search("o").filter(platform=world.p1).count()


@pytest.mark.parametrize("limit", [10_000, 3])
def test_query_count_is_fixed_whatever_matches(
    world, monkeypatch, limit, django_assert_max_num_queries
):
    """key, platform, membership, users, programs, the page's ids, their rows, the count."""
    monkeypatch.setattr(search, "ID_LIST_LIMIT", limit)  # 3: past it, the subquery path
    client = world.client("platform_admin_p1")
    program = ProgramFactory(platform=world.p1, name="Many")
    client.get(MANAGE, {"platform_key": "p1"})  # last_used written once
    counts = []
    for users in (0, 2, 30):
        for n in range(users):
            user = UserFactory(username=f"many{len(counts)}x{n}")
            ProgramSuggestion.objects.create(platform=world.p1, user=user, program=program)
        with django_assert_max_num_queries(8) as captured:
            response = client.get(
                MANAGE, {"platform_key": "p1", "query": f"many{len(counts)}x", "page_size": 1}
            )
        assert response.json()["count"] == users
        counts.append(len(captured))
    assert counts[1] == counts[2]


def test_nothing_matching_costs_no_suggestion_query(world, crafted):
    with CaptureQueriesContext(connection) as captured:
        body = listed(world, query="no-such-thing")
    assert body == {"count": 0, "next": None, "previous": None, "next_page": None,
                    "previous_page": None, "results": []}  # fmt: skip
    table = ProgramSuggestion._meta.db_table
    assert not [q for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]


@pytest.mark.parametrize("sort", ["-id", "username", "-program_name"])
def test_page_and_count_queries_do_not_join(world, crafted, sort):
    """Users and programs are looked up once: the count never joins, and the page's id
    query joins only what its sort orders by."""
    with CaptureQueriesContext(connection) as captured:
        body = listed(world, query="example", sort=sort, page_size=2)
    assert body["count"] > 2  # so the count query ran
    table = ProgramSuggestion._meta.db_table
    on_suggestions = [q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]
    counting = [sql for sql in on_suggestions if "COUNT(" in sql.upper()]
    assert len(counting) == 1 and "JOIN" not in counting[0]
    (page,) = [sql for sql in on_suggestions if "LIMIT" in sql]
    assert ("JOIN" in page) is (sort != "-id")


def test_sqlite_has_no_trigram_indexes():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's no-op")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        names = {row[0] for row in cursor.fetchall()}
    assert not names & INDEXES


def postgres_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE indexname LIKE %s", ["ibl_%_trgm"]
        )
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
def test_migration_created_the_trigram_indexes_and_reverses():
    from django.contrib.auth import get_user_model

    tables = {
        "user": get_user_model()._meta.db_table,
        "program": Program._meta.db_table,
        "course": Course._meta.db_table,
        "pathway": Pathway._meta.db_table,
    }
    want = {name: tables[name.split("_")[1]] for name in INDEXES}
    assert postgres_indexes() == want
    loader = MigrationLoader(connection)
    after = loader.project_state(MIGRATION)
    before = loader.project_state(("ibl_catalog", "0005_course_pathway_suggestions"))
    operations = loader.graph.nodes[MIGRATION].operations
    with connection.schema_editor(atomic=True) as editor:  # rolled back with the test
        for operation in reversed(operations):
            operation.database_backwards("ibl_catalog", editor, after, before)
        assert postgres_indexes() == {}
        for operation in operations:
            operation.database_forwards("ibl_catalog", editor, before, after)
        assert postgres_indexes() == want


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
@pytest.mark.parametrize(
    ("model", "expressions", "names"),
    [
        ("user", search.user_search_expressions, {"username", "email", "full_name"}),
        ("program", lambda: search.item_search_expressions(PROGRAM_SUGGESTIONS), {"key", "name"}),
    ],
)
def test_searches_can_use_the_trigram_indexes(model, expressions, names):
    """The searched expressions are the indexed ones: with sequential scans priced out,
    the plan reads every index (the planner picks them at scale on its own)."""
    from django.contrib.auth import get_user_model

    model_class = get_user_model() if model == "user" else Program
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = search.matching(model_class, expressions(), "abc_%d").explain()
    prefix = "ibl_user" if model == "user" else "ibl_program"
    assert {f"{prefix}_{name}_trgm" for name in names} <= {
        word for word in plan.replace("\n", " ").split() if word.endswith("_trgm")
    }


class FailingEditor:
    """A schema editor on a database without pg_trgm that refuses to create it."""

    class Cursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql):
            assert "pg_extension" in sql

        def fetchone(self):
            return None

    class Connection:
        alias = "default"

        def cursor(self):
            return FailingEditor.Cursor()

    connection = Connection()

    def execute(self, sql):
        assert sql == "CREATE EXTENSION IF NOT EXISTS pg_trgm"
        raise DatabaseError('permission denied to create extension "pg_trgm"')


def test_without_pg_trgm_the_indexes_are_skipped_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert search.trigram_extension(FailingEditor()) is False
    (warning,) = caught
    assert warning.category is RuntimeWarning
    message = str(warning.message)
    assert "permission denied" in message and "CREATE EXTENSION pg_trgm" in message
    assert "migrate ibl_catalog 0003" in message
