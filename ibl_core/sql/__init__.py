"""The SQL toolkit: what hand-written statements share.

Most reads and writes go through the ORM. A few statements are written by hand
because the ORM cannot say them in one round trip (bulk upserts with their events,
group fan-out, trigram search indexes, counts folded on read). They live in the
modules :data:`STATEMENT_MODULES` names (a test keeps that list true), and take
their parts from here:

- :mod:`ibl_core.sql.params`: lists and rows as ONE parameter (:func:`in_list`,
  :func:`values_select`, :func:`json_rows`);
- :mod:`ibl_core.sql.names`: quoted table and column names;
- :mod:`ibl_core.sql.retry`: a transaction re-run after a deadlock or serialization
  failure;
- :mod:`ibl_core.sql.cursor`: a cursor whose parameters travel apart from the SQL,
  and :func:`fetch_one`, a hot path's one read (its own health check, prepared);
- :mod:`ibl_core.sql.text`: text the databases cannot store;
- :mod:`ibl_core.sql.compiled`: ORM queries compiled once and run on the cursor
  (hot reads whose building and compiling cost more than the database's answer).

The SQL mirrors of the API's representation (timestamps, objects built as JSON) stay
beside their Python writers in :mod:`ibl_core.api.representation`, so each value has
its two writers side by side and a test comparing them.
"""

from ibl_core.sql.cursor import bound_cursor
from ibl_core.sql.names import quoted_column, quoted_table
from ibl_core.sql.params import AnyOf, in_list, json_rows, values_select
from ibl_core.sql.retry import RETRYABLE_SQLSTATES, is_retryable, retrying_transaction

#: The modules that run hand-written SQL (``cursor.execute``); nothing else does.
STATEMENT_MODULES = frozenset(
    {
        "ibl_catalog/suggestions/counts.py",
        "ibl_catalog/suggestions/fanout.py",
        "ibl_catalog/suggestions/search.py",
        "ibl_catalog/suggestions/writer.py",
        "ibl_core/events/outbox.py",
        "ibl_core/ops/health.py",
        "ibl_core/tenancy/groups.py",
        "ibl_credentials/assertions/services.py",
    }
)

__all__ = [
    "RETRYABLE_SQLSTATES",
    "STATEMENT_MODULES",
    "AnyOf",
    "bound_cursor",
    "in_list",
    "is_retryable",
    "json_rows",
    "quoted_column",
    "quoted_table",
    "retrying_transaction",
    "values_select",
]
