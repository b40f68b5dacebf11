from __future__ import annotations

from typing import Any

from ibl_core.management.base import IblCommand
from ibl_core.webhooks.delivery import sweep


class Command(IblCommand):
    help = (
        "Dispatch the events that were recorded but never dispatched (their task did not "
        "reach the queue) to the platforms' webhooks, and print how many. Safe to run "
        "at any time and concurrently: run it every few minutes (cron, a systemd timer, "
        "a Kubernetes CronJob). See WEBHOOK_SWEEP_AFTER_SECONDS and "
        "WEBHOOK_SWEEP_LOOKBACK_SECONDS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        swept = sweep()
        self.stdout.write(f"{swept} event{'s' if swept != 1 else ''} dispatched.")
