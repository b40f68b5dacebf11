"""The one writer of suggestions: create or update many rows, set-based, in one lock order.

Every suggestion write (a single POST, a bulk request) ends here. Rows are sorted by
(user, item) and travel as one parameter per statement (a JSON array, see
``_Statements.source``), in batches of ``BULK_BATCH_SIZE``.

When every write carries the same fields (a single POST; a bulk whose rows send the
same fields, the usual case), one ``INSERT ... SELECT <rows> ORDER BY ... ON CONFLICT
DO UPDATE SET <those fields>`` per batch creates the new rows and updates the
others, taking each row's lock as it goes, in (user, item) order.

Otherwise (rows with different field sets) the writes run in three phases, each a
set-based statement per batch:

1. ``INSERT ... SELECT <rows> ORDER BY ... ON CONFLICT DO NOTHING RETURNING``:
   creates the suggestions that do not exist yet, with the defaults for the fields a
   row does not carry.
2. ``SELECT ... ORDER BY user, item FOR UPDATE`` (PostgreSQL): locks the suggestions
   that already existed, in the same global order.
3. ``UPDATE ... FROM <rows>``: changes, on those, exactly the fields each row carries
   (a per-row bit mask), and ``modified``.

Each phase runs over every batch before the next one starts. Why not one ``INSERT ...
ON CONFLICT DO UPDATE`` there: its ``SET`` sees only the proposed row, which cannot
say which fields the client sent, and writing rows grouped by field set took locks
group by group, so two overlapping bulks with different field mixes deadlocked. Why
phases and not batch after batch: two requests whose batches split at different rows
would lock an existing row in one batch and wait to insert in the next, in different
orders. Here a transaction inserts in (user, item) order, then locks in (user, item)
order, and only then updates rows it holds, so writers wait for each other instead of
deadlocking. A deadlock or serialization failure that still happens (a three-phase
write against a single-pass one, or another kind of writer, such as a cascade
deleting a user's rows) is retried by :func:`ibl_core.sql.retrying_transaction`.

Each statement returns what it wrote, so a caller answers with the row as written:
no read after the write can find it deleted by a concurrent request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple, cast

from django.db import OperationalError, connections
from django.db.models import Field
from django.utils import timezone

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.rules import Metadata
from ibl_core.api.fields import encode_json
from ibl_core.conf import ibl_settings
from ibl_core.models import Platform
from ibl_core.sql import json_rows, quoted_column, quoted_table, retrying_transaction

#: The fields a write may carry, each with its bit in a row's mask.
MASKED_FIELDS = ("accepted", "visible", "direct", "metadata", "suggested_by_id")
_BITS = {name: 1 << position for position, name in enumerate(MASKED_FIELDS)}
#: Columns every statement returns (as attribute names of the model).
RETURNED = (
    "id",
    "user_id",
    "item_id",
    "accepted",
    "visible",
    "direct",
    "metadata",
    "suggested_by_id",
    "created",
    "modified",
)
#: The columns that identify a written row (enough to record its events).
KEYS = ("id", "user_id", "item_id")


#: The order of every write: (user, item).
_USER_ITEM = attrgetter("user_id", "item_id")

#: Times a batch re-inserts rows deleted by another transaction while it was written.
_VANISHED_ATTEMPTS = 5


def metadata_text(value: Any) -> str:
    """The JSON text of a metadata value: checked text as the rules encoded it, or a
    default encoded here."""
    return value.text if isinstance(value, Metadata) else encode_json(value)


def nullable(value: int | None) -> str:
    return "null" if value is None else str(value)


def created_keys(rows: Sequence[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(row["user_id"], row["item_id"]) for row in rows}


def key_of(write: PendingWrite) -> tuple[int, int]:
    return (write.user_id, write.item_id)


class WriteConflict(OperationalError):
    """Rows kept changing under a write: the transaction is retried from the start."""

    retryable = True


class PendingWrite(NamedTuple):
    """One suggestion to create or update, with only the fields the request sent (a
    named tuple: a bulk makes 10,000 of them, and a frozen dataclass costs a call of
    ``object.__setattr__`` per field to build)."""

    user_id: int
    item_id: int
    fields: dict[str, Any]


def write_suggestions(
    kind: SuggestionKind,
    platform: Platform,
    writes: Sequence[PendingWrite],
    *,
    suggested_by_id: int | None,
    returning: bool = False,
    update_existing: bool = True,
    then: Callable[[list[dict[str, Any]], Any], None] | None = None,
    columns: Sequence[str] = RETURNED,
) -> list[dict[str, Any]]:
    """Create or update ``writes`` in one transaction; the rows as written if ``returning``.

    ``then`` is called inside that transaction with the rows as written and the time
    the rows it inserted were created at (to record their events: a write that rolls
    back records none). A row whose ``created`` is that time was inserted.

    ``suggested_by_id`` is the suggester of new rows that do not name one. Each
    returned row holds ``columns``, the columns of :data:`RETURNED` by default
    (``item_id`` is the item's id); :data:`KEYS` when the caller needs only to know
    which rows were written.

    ``update_existing=False`` (a group's fan-out): rows that exist keep every field;
    only the missing ones are inserted with the given fields. The existing rows are
    still locked (PostgreSQL) in the same order, so they cannot be deleted before the
    caller records what it needs about them in the same transaction.
    """
    if not writes:
        return []
    returning = returning or then is not None
    if not set(KEYS) <= set(columns):
        raise ValueError(f"columns must include {KEYS}")
    ordered = sorted(writes, key=_USER_ITEM)
    statements = _Statements(kind, platform)
    size = ibl_settings.BULK_BATCH_SIZE

    def batches(rows: Sequence[PendingWrite]) -> list[Sequence[PendingWrite]]:
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    # One upsert per batch when every write sets the same fields, except: a fan-out
    # (update_existing=False) never changes existing rows, and a write of ``direct``
    # alone changes a row only when the flag changes (update_existing below), which
    # an upsert's RETURNING could not answer for the rows it leaves alone.
    # Sorted once per distinct key order, not once per row.
    field_sets = {tuple(sorted(names)) for names in {tuple(write.fields) for write in ordered}}
    same_fields = field_sets.pop() if len(field_sets) == 1 and update_existing else ()
    if same_fields == ("direct",):
        same_fields = ()

    started: list[Any] = []

    def write_all() -> list[dict[str, Any]]:
        # Each phase runs over every batch before the next phase starts, so the whole
        # transaction inserts in (user, item) order and then locks in (user, item)
        # order, whatever the batch boundaries of another request.
        now = timezone.now()
        started[:] = [now]
        if same_fields:
            # Every write carries the same fields: one upsert per batch, in order.
            with connections[statements.alias].cursor() as cursor:
                return [
                    row
                    for batch in batches(ordered)
                    for row in statements.upsert(
                        cursor,
                        batch,
                        now,
                        suggested_by_id,
                        same_fields,
                        read=returning,
                        names=columns,
                    )
                ]
        inserted: list[dict[str, Any]] = []
        current: dict[tuple[int, int], dict[str, Any]] = {}
        pending: Sequence[PendingWrite] = ordered
        with connections[statements.alias].cursor() as cursor:
            # A row that existed at the INSERT may be deleted by another transaction
            # before it is locked: it is inserted again (rare; bounded, then retried).
            for _ in range(_VANISHED_ATTEMPTS):
                new_rows = [
                    row
                    for batch in batches(pending)
                    for row in statements.insert_new(
                        cursor, batch, now, suggested_by_id, read=returning, names=columns
                    )
                ]
                inserted += new_rows
                created = created_keys(new_rows)
                existing = [write for write in pending if key_of(write) not in created]
                found = statements.lock_all(
                    cursor, batches(existing), read=returning, names=columns
                )
                if found is None:  # SQLite: nobody else writes inside this transaction
                    break
                current.update(found)
                pending = [write for write in existing if key_of(write) not in found]
                if not pending:
                    break
            else:
                raise WriteConflict("Suggestions kept vanishing while being written.")
            inserted_keys = created_keys(inserted)
            updates = [
                write
                for write in ordered
                if update_existing and write.fields and key_of(write) not in inserted_keys
            ]
            # Taken after the locks: a write that waited is stamped when it writes.
            changed_at = timezone.now()
            changed = [
                row
                for batch in batches(updates)
                for row in statements.update_existing(
                    cursor, batch, changed_at, read=returning, names=columns
                )
            ]
        if not returning:
            return []
        by_key = {**current, **{(row["user_id"], row["item_id"]): row for row in changed}}
        return inserted + [by_key[key] for key in sorted(by_key)]

    def write_then() -> list[dict[str, Any]]:
        rows = write_all()
        if then is not None:
            then(rows, started[0])
        return rows

    return retrying_transaction(write_then, using=statements.alias)


def give_to_users(
    kind: SuggestionKind,
    platform: Platform,
    item_id: int,
    user_ids: Sequence[int],
    fields: dict[str, Any],
) -> None:
    """Create-only, for one item: give each of ``user_ids`` the suggestion of ``item_id``
    with ``fields`` unless they have it; what :func:`write_suggestions` does with
    ``update_existing=False`` and these writes, without a row built in Python.

    A group's fan-out gives many members one item with the same fields: the rows are
    the user ids, one JSON array per batch, and the fields are parameters (the metadata
    encoded once). New rows are inserted in (user, item) order; then, on PostgreSQL,
    the rows that already existed are locked in the same order, so none can be deleted
    before the caller records its support rows in this transaction. A row that existed at the
    INSERT and was deleted before the lock is inserted again (bounded, then the
    transaction is retried), as in :func:`write_suggestions`. Runs in the caller's
    transaction.
    """
    if not user_ids:
        return
    statements = _Statements(kind, platform)
    size = ibl_settings.BULK_BATCH_SIZE
    ordered = sorted(set(user_ids))
    pending = [ordered[start : start + size] for start in range(0, len(ordered), size)]
    values = {**statements.defaults, "suggested_by_id": None, **fields}
    now = timezone.now()
    with connections[statements.alias].cursor() as cursor:
        for _ in range(_VANISHED_ATTEMPTS):
            inserted = [
                statements.insert_users(cursor, batch, item_id, values, now) for batch in pending
            ]
            if statements.vendor != "postgresql":  # one writer at a time: nothing vanished
                return
            # Each phase over every batch before the next: inserts, then locks of the rows
            # that existed (those inserted here are this transaction's already).
            missing = [
                statements.lock_users(cursor, [u for u in batch if u not in new], item_id)
                for batch, new in zip(pending, inserted, strict=True)
            ]
            pending = [batch for batch in missing if batch]
            if not pending:
                return
    raise WriteConflict("Suggestions kept vanishing while being written.")


class _Statements:
    """The SQL of one kind on the current database backend."""

    def __init__(self, kind: SuggestionKind, platform: Platform) -> None:
        self.kind = kind
        self.platform = platform
        self.alias = kind.model._default_manager.db
        connection = connections[self.alias]
        self.connection = connection
        self.vendor = connection.vendor
        self.table = quoted_table(connection, kind.model)
        self.fields = {name: self.field(name) for name in RETURNED}
        self.column = {
            name: quoted_column(connection, kind.model, field.name)
            for name, field in self.fields.items()
        }
        self.platform_column = quoted_column(connection, kind.model, "platform")
        self.conflict_columns = ", ".join(
            quoted_column(connection, kind.model, name) for name in kind.unique_fields
        )
        self.defaults = {
            name: self.field(name).get_default()
            for name in ("accepted", "visible", "direct", "metadata")
        }
        self.converters = {}
        for name, field in self.fields.items():
            col = field.get_col(kind.model._meta.db_table)
            self.converters[name] = (
                col,
                connection.ops.get_db_converters(col) + field.get_db_converters(connection),
            )

    def field(self, name: str) -> Field:
        """The model field of a column name (``item_id``: the kind's item foreign key)."""
        if name == "item_id":
            name = self.kind.item_field
        return cast(Field, self.kind.model._meta.get_field(name))

    # -- one batch ----------------------------------------------------------------

    def insert_statement(
        self, batch: Sequence[PendingWrite], now: Any, suggested_by_id: int | None
    ) -> tuple[str, list[Any]]:
        """``INSERT ... SELECT`` of the rows of ``batch`` in (user, item) order, with the
        defaults for the fields a row does not carry; and its parameters."""
        rows = []
        base = {**self.defaults, "suggested_by_id": suggested_by_id}
        for write in batch:
            values = base | write.fields
            # One JSON array per row, written directly (booleans as 1 and 0, which
            # both databases take as booleans); the metadata is JSON text already.
            rows.append(
                f"[{write.user_id},{write.item_id},{values['accepted']:d},"
                f"{values['visible']:d},{values['direct']:d},"
                f"{metadata_text(values['metadata'])},{nullable(values['suggested_by_id'])}]"
            )
        columns = ", ".join(
            [self.platform_column] + [self.column[name] for name in RETURNED if name != "id"]
        )
        source, params = self.source(
            rows, ("bigint", "bigint", "bool", "bool", "bool", "json", "bigint")
        )
        stamp = self.timestamp(now)
        sql = (
            f"{source} INSERT INTO {self.table} ({columns}) "
            f"SELECT %s, s.c0, s.c1, s.c2, s.c3, s.c4, {self.json_value('s.c5')}, s.c6, %s, %s "
            f"FROM s WHERE true ORDER BY s.n"
        )
        return sql, [*params, self.platform.pk, stamp, stamp]

    def insert_new(
        self,
        cursor: Any,
        batch: Sequence[PendingWrite],
        now: Any,
        suggested_by_id: int | None,
        *,
        read: bool = True,
        names: Sequence[str] = RETURNED,
    ) -> list[dict[str, Any]]:
        """Insert the rows of ``batch`` that do not exist yet; return them (``names``,
        only their ``user_id`` and ``item_id`` unless ``read``)."""
        insert, params = self.insert_statement(batch, now, suggested_by_id)
        if not read:
            names = ("user_id", "item_id")
        sql = (
            f"{insert} ON CONFLICT ({self.conflict_columns}) DO NOTHING "
            f"RETURNING {self.columns(names)}"
        )
        cursor.execute(sql, params)
        return self.decode_all(cursor.fetchall(), names)

    def upsert(
        self,
        cursor: Any,
        batch: Sequence[PendingWrite],
        now: Any,
        suggested_by_id: int | None,
        fields: Sequence[str],
        *,
        read: bool,
        names: Sequence[str] = RETURNED,
    ) -> list[dict[str, Any]]:
        """Insert the rows of ``batch``, or set ``fields`` (every write's fields) on
        those that exist, in one statement; the rows as written when ``read``.

        The statement takes each row's lock in (user, item) order, as it goes. On
        PostgreSQL an update is stamped when it happens (``clock_timestamp()``), after
        any wait for a lock; a new row's ``created`` and ``modified`` are equal.
        """
        insert, params = self.insert_statement(batch, now, suggested_by_id)
        stamp = "clock_timestamp()" if self.vendor == "postgresql" else "excluded.{modified}"
        sets = [f"{self.column[name]} = excluded.{self.column[name]}" for name in fields]
        sets.append(
            f"{self.column['modified']} = " + stamp.format(modified=self.column["modified"])
        )
        sql = f"{insert} ON CONFLICT ({self.conflict_columns}) DO UPDATE SET {', '.join(sets)}"
        if read:
            sql += f" RETURNING {self.columns(names)}"
        cursor.execute(sql, params)
        return self.decode_all(cursor.fetchall(), names) if read else []

    def insert_users(
        self,
        cursor: Any,
        user_ids: Sequence[int],
        item_id: int,
        values: dict[str, Any],
        now: Any,
    ) -> set[int]:
        """``INSERT ... SELECT`` of the suggestion of ``item_id`` for each of ``user_ids``
        (sorted), with ``values`` for every row, ``ON CONFLICT DO NOTHING``; the users
        whose row it inserted (PostgreSQL: the others are locked next), else nothing."""
        source, params = self.source([f"[{user_id}]" for user_id in user_ids], ("bigint",))
        columns = ", ".join(
            [self.platform_column] + [self.column[name] for name in RETURNED if name != "id"]
        )
        # The metadata as the row-by-row INSERT stores it: JSON text made canonical by the
        # database (json() on SQLite, as json_extract returns it; jsonb on PostgreSQL).
        metadata = "CAST(%s AS jsonb)" if self.vendor == "postgresql" else "json(%s)"
        stamp = self.timestamp(now)
        cursor.execute(
            f"{source} INSERT INTO {self.table} ({columns}) "
            f"SELECT %s, s.c0, %s, %s, %s, %s, {metadata}, %s, %s, %s "
            f"FROM s WHERE true ORDER BY s.n "
            f"ON CONFLICT ({self.conflict_columns}) DO NOTHING"
            + (f" RETURNING {self.column['user_id']}" if self.vendor == "postgresql" else ""),
            [
                *params,
                self.platform.pk,
                item_id,
                bool(values["accepted"]),
                bool(values["visible"]),
                bool(values["direct"]),
                metadata_text(values["metadata"]),
                values["suggested_by_id"],
                stamp,
                stamp,
            ],
        )
        return {row[0] for row in cursor.fetchall()} if self.vendor == "postgresql" else set()

    def lock_users(self, cursor: Any, user_ids: Sequence[int], item_id: int) -> list[int]:
        """Lock (PostgreSQL) the suggestions of ``item_id`` of ``user_ids`` in (user, item)
        order; the users who have none (deleted since they were found)."""
        if not user_ids:
            return []
        source, params = self.source([f"[{user_id}]" for user_id in user_ids], ("bigint",))
        user = self.column["user_id"]
        cursor.execute(
            f"{source} SELECT t.{user} FROM s CROSS JOIN {self.table} t "
            f"WHERE t.{user} = s.c0 AND t.{self.column['item_id']} = %s "
            f"AND t.{self.platform_column} = %s ORDER BY t.{user} FOR UPDATE OF t",
            [*params, item_id, self.platform.pk],
        )
        found = {row[0] for row in cursor.fetchall()}
        return [user_id for user_id in user_ids if user_id not in found]

    def lock_all(
        self,
        cursor: Any,
        batches: Sequence[Sequence[PendingWrite]],
        *,
        read: bool,
        names: Sequence[str] = RETURNED,
    ) -> dict[tuple[int, int], dict[str, Any]] | None:
        """:meth:`lock_existing` over ``batches``, in order."""
        found: dict[tuple[int, int], dict[str, Any]] = {}
        for batch in batches:
            part = self.lock_existing(cursor, batch, read=read, names=names)
            if part is None:
                return None
            found.update(part)
        return found

    def lock_existing(
        self,
        cursor: Any,
        existing: Sequence[PendingWrite],
        *,
        read: bool,
        names: Sequence[str] = RETURNED,
    ) -> dict[tuple[int, int], dict[str, Any]] | None:
        """Lock (PostgreSQL) the rows that already existed, in (user, item) order.

        Returns the rows found by (user, item), with the columns ``names`` when
        ``read``; ``None`` on SQLite when not ``read`` (the INSERT holds the database's
        write lock already, so nothing can have changed).
        """
        if not existing:
            return {}
        if self.vendor != "postgresql" and not read:
            return None
        source, params = self.source(
            [f"[{write.user_id},{write.item_id}]" for write in existing], ("bigint", "bigint")
        )
        if not read:
            names = ("user_id", "item_id")
        columns = self.columns(names, "t.")
        lock = " FOR UPDATE OF t" if self.vendor == "postgresql" else ""
        sql = (
            f"{source} SELECT {columns} FROM s CROSS JOIN {self.table} t "
            f"WHERE t.{self.column['user_id']} = s.c0 AND t.{self.column['item_id']} = s.c1 "
            f"AND t.{self.platform_column} = %s "
            f"ORDER BY t.{self.column['user_id']}, t.{self.column['item_id']}{lock}"
        )
        cursor.execute(sql, [*params, self.platform.pk])
        rows = self.decode_all(cursor.fetchall(), names)
        return {(row["user_id"], row["item_id"]): row for row in rows}

    def update_existing(
        self,
        cursor: Any,
        writes: Sequence[PendingWrite],
        now: Any,
        *,
        read: bool = True,
        names: Sequence[str] = RETURNED,
    ) -> list[dict[str, Any]]:
        """Set, on existing rows, exactly the fields each write carries; the rows as
        written when ``read``."""
        if not writes:
            return []
        rows = []
        for write in writes:
            fields = write.fields
            mask = sum(_BITS[name] for name in fields)
            rows.append(
                f"[{write.user_id},{write.item_id},{fields.get('accepted', False):d},"
                f"{fields.get('visible', False):d},{fields.get('direct', False):d},"
                f"{metadata_text(fields.get('metadata', {}))},"
                f"{nullable(fields.get('suggested_by_id'))},{mask}]"
            )
        source, params = self.source(
            rows, ("bigint", "bigint", "bool", "bool", "bool", "json", "bigint", "int")
        )
        target = "t" if self.vendor == "postgresql" else self.table
        sets = []
        for position, name in enumerate(MASKED_FIELDS, start=2):
            value = f"s.c{position}"
            if name == "metadata":
                value = self.json_value(value)
            column = self.column[name]
            sets.append(
                f"{column} = CASE WHEN (s.c7 & {_BITS[name]}) <> 0 THEN {value} "
                f"ELSE {target}.{column} END"
            )
        sets.append(f"{self.column['modified']} = %s")
        alias = " AS t" if self.vendor == "postgresql" else ""
        sql = (
            f"{source} UPDATE {self.table}{alias} SET {', '.join(sets)} FROM s "
            f"WHERE {target}.{self.platform_column} = %s "
            f"AND {target}.{self.column['user_id']} = s.c0 "
            f"AND {target}.{self.column['item_id']} = s.c1 "
            # A write that carries only ``direct`` (a direct POST with no other field
            # sets it, services.direct_write_fields) changes a row, and its modified
            # time, only when the flag changes: resending a suggestion changes nothing.
            f"AND (s.c7 <> {_BITS['direct']} OR {target}.{self.column['direct']} <> s.c4) "
            + (f"RETURNING {self.columns(names, f'{target}.')}" if read else "")
        )
        cursor.execute(sql, [*params, self.timestamp(now), self.platform.pk])
        return self.decode_all(cursor.fetchall(), names) if read else []

    # -- backend details ----------------------------------------------------------

    def source(self, rows: Sequence[str], types: Sequence[str]) -> tuple[str, list[Any]]:
        """A ``WITH s(c0, c1, ..., n)`` clause of ``rows`` (``n``: the row's position).

        ``rows`` are JSON arrays (text), one per row, with one value per type of
        ``types``; they travel as one parameter (:func:`ibl_core.sql.json_rows`).
        """
        return json_rows(self.vendor, types, ordinal=True), ["[" + ",".join(rows) + "]"]

    def columns(self, names: Sequence[str], prefix: str = "") -> str:
        """The column list of ``names``, each after ``prefix`` (a table alias)."""
        return ", ".join(f"{prefix}{self.column[name]}" for name in names)

    def json_value(self, expression: str) -> str:
        return f"CAST({expression} AS jsonb)" if self.vendor == "postgresql" else expression

    def timestamp(self, now: Any) -> Any:
        return self.connection.ops.adapt_datetimefield_value(now)

    def decode_all(
        self, rows: Sequence[Sequence[Any]], names: Sequence[str] = RETURNED
    ) -> list[dict[str, Any]]:
        """:meth:`decode` of each of ``rows``; when no column of ``names`` has a
        converter (the ids a bulk returns), the values as they come, without a call
        per value."""
        if any(self.converters[name][1] for name in names):
            return [self.decode(row, names) for row in rows]
        names = tuple(names)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def decode(self, row: Sequence[Any], names: Sequence[str] = RETURNED) -> dict[str, Any]:
        """A returned row as Python values, converted as the ORM would convert them."""
        decoded = {}
        for name, value in zip(names, row, strict=True):
            col, converters = self.converters[name]
            for converter in converters:
                value = converter(value, col, self.connection)
            decoded[name] = value
        return decoded
