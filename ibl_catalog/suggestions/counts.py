"""Exact per-platform counts of suggestions, kept by the database itself.

``COUNT(*)`` over a platform's million suggestions costs more than the rest of a list
request together, and a cached count is wrong after a delete. So the database keeps
the count: triggers on each suggestion table add to ``SuggestionCount`` in the same
transaction as every insert and delete, whatever makes them (the API, the admin, a
cascade from a deleted user or program, raw SQL). An unfiltered list reads its
``count`` from there; a filtered one counts its rows.

* PostgreSQL: one statement-level trigger per statement appends a delta row (the
  number of rows inserted or deleted, per platform). Appending takes no lock that
  another writer waits for, so the count adds no lock-order constraint to writes.
  Readers sum the deltas and fold them into one row when they pile up
  (:func:`compact`, which skips rows another transaction holds).
* SQLite (one writer at a time anyway): row triggers keep one row per platform and
  kind, updated in place.

The triggers are installed by migrations through :func:`install_count_triggers`, so a
new suggestion kind gets its count by one migration operation.
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import connections, migrations, router, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Count

from ibl_catalog.models import SuggestionCount
from ibl_catalog.suggestions.base import SuggestionKind
from ibl_core.models import Platform
from ibl_core.sql import quoted_table

#: Fold a platform's deltas into one row once there are more than this many.
COMPACT_AFTER = 64
COUNT_TABLE = "ibl_catalog_suggestioncount"


def platform_count(kind: SuggestionKind, platform: Platform) -> int:
    """The number of ``kind`` suggestions of ``platform``, exact as of this statement.

    Read from the database the counts are written to (``router.db_for_write``), never
    a read replica: a replica lags behind the triggers, and the fold writes.
    """
    database = router.db_for_write(SuggestionCount)
    # By hand: the ORM's aggregate cost several times the statement (a list page
    # reads it on every request).
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(delta), COUNT(*) FROM {COUNT_TABLE} WHERE platform_id = %s AND kind = %s",
            [platform.pk, kind.label],
        )
        total, parts = cursor.fetchone()
    if parts > COMPACT_AFTER:
        compact(kind, platform)
    return int(total or 0)


def compact(kind: SuggestionKind, platform: Platform) -> None:
    """Replace a platform's committed deltas by their sum, in one statement (PostgreSQL).

    Rows locked by another compaction are skipped, so concurrent readers never wait
    for each other; rows of transactions still in flight are invisible and stay.
    """
    connection = connections[router.db_for_write(SuggestionCount)]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {COUNT_TABLE} WHERE id IN ("
            f"  SELECT id FROM {COUNT_TABLE} WHERE platform_id = %s AND kind = %s"
            f"  FOR UPDATE SKIP LOCKED) RETURNING delta) "
            f"INSERT INTO {COUNT_TABLE} (platform_id, kind, delta) "
            f"SELECT %s, %s, SUM(delta) FROM gone HAVING COUNT(*) > 0",
            [platform.pk, kind.label, platform.pk, kind.label],
        )


def trigger_sql(vendor: str, table: str, label: str) -> tuple[list[str], list[str]]:
    """The statements creating and dropping the count triggers of ``table``."""
    name = f"{table}_count"
    if vendor == "postgresql":
        add = (
            f"INSERT INTO {COUNT_TABLE} (platform_id, kind, delta) "
            f"SELECT platform_id, '{label}', COUNT(*) FROM new_rows GROUP BY platform_id"
        )
        remove = (
            f"INSERT INTO {COUNT_TABLE} (platform_id, kind, delta) "
            f"SELECT platform_id, '{label}', -COUNT(*) FROM old_rows GROUP BY platform_id"
        )
        truncate = f"DELETE FROM {COUNT_TABLE} WHERE kind = '{label}'"
        move = (
            f"INSERT INTO {COUNT_TABLE} (platform_id, kind, delta) VALUES "
            f"(OLD.platform_id, '{label}', -1), (NEW.platform_id, '{label}', 1)"
        )
        create = [
            f"CREATE FUNCTION {name}_add() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {add}; RETURN NULL; END $$",
            f"CREATE FUNCTION {name}_remove() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {remove}; RETURN NULL; END $$",
            f"CREATE FUNCTION {name}_move() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {move}; RETURN NULL; END $$",
            f"CREATE FUNCTION {name}_truncate() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {truncate}; RETURN NULL; END $$",
            f"CREATE TRIGGER {name}_add AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
            f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}_add()",
            f"CREATE TRIGGER {name}_remove AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
            f"old_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}_remove()",
            f"CREATE TRIGGER {name}_move AFTER UPDATE OF platform_id ON {table} FOR EACH ROW "
            f"WHEN (OLD.platform_id IS DISTINCT FROM NEW.platform_id) "
            f"EXECUTE FUNCTION {name}_move()",
            f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {name}_truncate()",
        ]
        whats = ("add", "remove", "move", "truncate")
        drop = [f"DROP TRIGGER IF EXISTS {name}_{what} ON {table}" for what in whats] + [
            f"DROP FUNCTION IF EXISTS {name}_{what}()" for what in whats
        ]
        return create, drop
    if vendor == "sqlite":

        def change(platform: str, delta: int) -> str:
            # Not INSERT OR IGNORE: the conflict policy of the statement that fired the
            # trigger (INSERT OR REPLACE...) would replace it.
            return (
                f"INSERT INTO {COUNT_TABLE} (platform_id, kind, delta) "
                f"SELECT {platform}, '{label}', 0 WHERE NOT EXISTS (SELECT 1 FROM "
                f"{COUNT_TABLE} WHERE platform_id = {platform} AND kind = '{label}'); "
                f"UPDATE {COUNT_TABLE} SET delta = delta + ({delta}) "
                f"WHERE platform_id = {platform} AND kind = '{label}';"
            )

        create = [
            f"CREATE TRIGGER {name}_add AFTER INSERT ON {table} BEGIN "
            f"{change('NEW.platform_id', 1)} END",
            f"CREATE TRIGGER {name}_remove AFTER DELETE ON {table} BEGIN "
            f"{change('OLD.platform_id', -1)} END",
            f"CREATE TRIGGER {name}_move AFTER UPDATE OF platform_id ON {table} "
            f"WHEN OLD.platform_id IS NOT NEW.platform_id BEGIN "
            f"{change('OLD.platform_id', -1)} {change('NEW.platform_id', 1)} END",
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name}_{what}" for what in ("add", "remove", "move")]
        return create, drop
    return [], []  # other backends: counted, not kept (see platform_count's caller)


def install_count_triggers(model_label: str, kind_label: str) -> migrations.RunPython:
    """A migration operation installing the count triggers of one suggestion model.

    It also counts the rows already in the table, so the count is right from the
    start on a database that had suggestions before the triggers.
    """

    def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        model: Any = apps.get_model(model_label)
        counter: Any = apps.get_model("ibl_catalog", "SuggestionCount")
        table = model._meta.db_table
        create, _ = trigger_sql(schema_editor.connection.vendor, table, kind_label)
        for statement in create:
            schema_editor.execute(statement, params=None)
        alias = schema_editor.connection.alias
        counter.objects.using(alias).filter(kind=kind_label).delete()
        existing = model.objects.using(alias).values("platform_id").annotate(n=Count("id"))
        counter.objects.using(alias).bulk_create(
            counter(platform_id=row["platform_id"], kind=kind_label, delta=row["n"])
            for row in existing
        )

    def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        model: Any = apps.get_model(model_label)
        _, drop = trigger_sql(schema_editor.connection.vendor, model._meta.db_table, kind_label)
        for statement in drop:
            schema_editor.execute(statement, params=None)

    return migrations.RunPython(forwards, backwards)


def count_supported() -> bool:
    """Whether the database keeps counts (the backends :func:`trigger_sql` knows)."""
    return connections[SuggestionCount.objects.db].vendor in {"postgresql", "sqlite"}


def recount(kind: SuggestionKind) -> dict[int, int]:
    """Count ``kind``'s suggestions again and keep those counts; ``{platform id: n}``.

    For databases whose suggestions arrived without the triggers: ``loaddata`` of a
    dump (exclude ``ibl_catalog.SuggestionCount`` from ``dumpdata``), a restore of
    the suggestion table alone, logical replication. Writers wait while it counts.
    """
    model = kind.model
    alias = model._default_manager.db
    with transaction.atomic(using=alias):
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = quoted_table(connection, model)
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        counted = dict(
            model._default_manager.using(alias)
            .values_list("platform_id")
            .annotate(n=Count("id"))
            .values_list("platform_id", "n")
        )
        SuggestionCount.objects.using(alias).filter(kind=kind.label).delete()
        SuggestionCount.objects.using(alias).bulk_create(
            SuggestionCount(platform_id=platform_id, kind=kind.label, delta=n)
            for platform_id, n in counted.items()
        )
    return counted
