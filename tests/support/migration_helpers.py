"""Running a migration on existing data: the database is taken back to ``before``,
the test writes rows with the models as they were, then migrates to ``after`` and
reads them with the models as they are there. Afterwards the database is migrated to
the latest state again, whatever happened (tests using this need
``django_db(transaction=True)``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Target = list[tuple[str, str]]


@dataclass
class Upgrade:
    before: Target
    after: Target
    #: The models as they were at ``before`` (``old.get_model("app", "Model")``).
    old: Any

    def migrate(self) -> Any:
        """Migrate to ``after``; the models as they are there."""
        executor = MigrationExecutor(connection)
        executor.migrate(self.after)
        return executor.loader.project_state(self.after).apps


@contextmanager
def upgrade(before: Target, after: Target) -> Iterator[Upgrade]:
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        yield Upgrade(before, after, executor.loader.project_state(before).apps)
    finally:
        MigrationExecutor(connection).loader.build_graph()
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
