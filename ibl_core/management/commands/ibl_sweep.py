from __future__ import annotations

from typing import Any

from ibl_core.events.tasks import sweep
from ibl_core.management.base import IblCommand


class Command(IblCommand):
    help = (
        "Hand the task queue the background work that never reached it (the queue was "
        "down when the write committed): undispatched webhook events, bulk issue jobs "
        "still queued; and fail the jobs whose worker stopped. Prints what it did, a "
        "line each. Safe to run at any time and concurrently: run it every few minutes "
        "(cron, a systemd timer, a Kubernetes CronJob). See SWEEP_AFTER_SECONDS and "
        "SWEEP_LOOKBACK_SECONDS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for line in sweep():
            self.stdout.write(line)
