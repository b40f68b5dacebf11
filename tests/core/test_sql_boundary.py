"""The SQL boundary: hand-written statements run only in the modules that say so.

``ibl_core.sql.STATEMENT_MODULES`` lists them (docs/architecture.md, "The SQL
boundary"). A new ``cursor.execute`` elsewhere fails here until it is listed, so the
list, the docs and the code stay one thing.
"""

from __future__ import annotations

import re
from pathlib import Path

from ibl_core.sql import STATEMENT_MODULES

ROOT = Path(__file__).resolve().parents[2]
EXECUTE = re.compile(r"\.execute(?:many)?\(")


def modules_that_execute() -> set[str]:
    found = set()
    for app in ("ibl_core", "ibl_catalog", "ibl_credentials"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative.startswith("ibl_core/sql/"):
                continue
            if EXECUTE.search(path.read_text()):
                found.add(relative)
    return found


def test_only_the_listed_modules_run_hand_written_sql():
    assert modules_that_execute() == set(STATEMENT_MODULES)


def test_the_scan_sees_a_statement(tmp_path):
    # The pattern the scan relies on matches the forms the code uses.
    assert EXECUTE.search('cursor.execute("SELECT 1")')
    assert EXECUTE.search("schema_editor.execute(sql)")
    assert not EXECUTE.search("executor(sql)")
