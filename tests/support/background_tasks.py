"""Tasks the background-work tests enqueue (a worker imports them by module path)."""

from __future__ import annotations

from pathlib import Path

from ibl_core.events.tasks import task


@task()
def add(left: int, right: int) -> int:
    return left + right


@task()
def write_file(path: str, text: str) -> str:
    Path(path).write_text(text)
    return text
