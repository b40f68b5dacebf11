"""Mirroring: what a platform issues, changes and revokes reaches its providers.

The assertion services know nothing of providers. They record ``assertion.*`` events in
the outbox (every issue path does: one, bulk, assignments), and once those commit the
outbox tells its listeners (:func:`ibl_core.events.outbox.register_commit_listener`); this
module is one. For a platform with a provider turned on, :func:`schedule_from_events`
writes one :class:`AssertionSync` per (assertion of a mapped credential, provider) to
mirror, ``pending``, and queues :func:`mirror_assertion` for each:

* ``assertion.issued``: create at the provider;
* ``assertion.accepted`` / ``assertion.rejected``: update (a rejected assertion is made
  private there);
* ``assertion.revoked``: delete there.

An attempt that fails is retried with the webhook deliveries' policy, on the same task
queue: ``WEBHOOK_MAX_ATTEMPTS`` attempts, waiting ``retry_delay`` (exponential, with
jitter) between them, or as long as a 429's ``Retry-After`` asks (at most a day). A
failure that cannot succeed by trying again (a wrong key, an unknown group: a 4xx),
or the last attempt's failure, ends ``failed`` with the provider's error; an admin
action queues it again. Nothing here logs or stores a configuration's secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ibl_core.conf import ibl_settings
from ibl_core.events.tasks import enqueue_on_commit, task
from ibl_core.events.webhooks.delivery import retry_delay
from ibl_core.models import Event
from ibl_core.sql import in_list
from ibl_core.tenancy.scope import user_full_name
from ibl_credentials.models import Assertion
from ibl_credentials.openbadges import links
from ibl_credentials.providers.base import MirroredAssertion, ProviderError
from ibl_credentials.providers.models import (
    AssertionSync,
    ExternalCredentialMapping,
    ProviderConfig,
)
from ibl_credentials.providers.registry import PROVIDERS
from ibl_credentials.providers.selectors import platform_mirrors

logger = logging.getLogger(__name__)

State = AssertionSync.State
Operation = AssertionSync.Operation

#: Which events are mirrored, and how.
EVENT_OPERATIONS: dict[str, str] = {
    "assertion.issued": Operation.CREATE,
    "assertion.accepted": Operation.UPDATE,
    "assertion.rejected": Operation.UPDATE,
    "assertion.revoked": Operation.DELETE,
}
#: The longest wait a ``Retry-After`` may ask for.
MAX_RETRY_AFTER = timedelta(days=1)


# -- from events to syncs ------------------------------------------------------------


def events_committed(platform_id: int, event_ids: list[int]) -> None:
    """The outbox's listener: mirror these events when the platform has a provider on."""
    if platform_mirrors(platform_id):
        schedule_from_events(platform_id, event_ids)


def schedule_from_events(platform_id: int, event_ids: Sequence[int]) -> list[int]:
    """Write (or reset to ``pending``) the syncs these events call for, and queue their
    attempts; their ids. A fixed number of queries whatever the number of events.

    An issue is mirrored for each enabled provider the credential is mapped to; a change
    or a revocation only where the assertion was mirrored before (an assertion issued
    before its credential was mapped stays where it is)."""
    wanted: dict[str, str] = {}  # entityId -> operation; the last event wins
    events = Event.objects.filter(
        in_list("pk", event_ids), platform_id=platform_id, type__in=list(EVENT_OPERATIONS)
    ).order_by("pk")
    for event_type, entity_id in events.values_list("type", "object_id"):
        wanted[entity_id] = EVENT_OPERATIONS[event_type]
    if not wanted:
        return []
    enabled = list(
        ProviderConfig.objects.filter(platform_id=platform_id, enabled=True).values_list(
            "provider_name", flat=True
        )
    )
    assertions = list(
        Assertion.objects.filter(
            in_list("entity_id", list(wanted), text=True), platform_id=platform_id
        ).values_list("pk", "entity_id", "credential_id")
    )
    if not assertions or not enabled:
        return []
    mapped: dict[int, list[str]] = {}
    for credential_id, provider_name in ExternalCredentialMapping.objects.filter(
        in_list("credential_id", {row[2] for row in assertions}),
        platform_id=platform_id,
        provider_name__in=enabled,
    ).values_list("credential_id", "provider_name"):
        mapped.setdefault(credential_id, []).append(provider_name)
    existing = {
        (assertion_id, provider_name): pk
        for pk, assertion_id, provider_name in AssertionSync.objects.filter(
            in_list("assertion_id", [row[0] for row in assertions]), provider_name__in=enabled
        ).values_list("pk", "assertion_id", "provider_name")
    }
    now = timezone.now()
    new: list[AssertionSync] = []
    reset: dict[str, list[int]] = {}  # operation -> sync ids
    for assertion_id, entity_id, credential_id in assertions:
        operation = wanted[entity_id]
        for provider_name in mapped.get(credential_id, []):
            pk = existing.get((assertion_id, provider_name))
            if pk is not None:
                reset.setdefault(operation, []).append(pk)
            elif operation == Operation.CREATE:
                new.append(
                    AssertionSync(
                        platform_id=platform_id,
                        assertion_id=assertion_id,
                        provider_name=provider_name,
                        operation=operation,
                        next_attempt_at=now,
                    )
                )
    with transaction.atomic():
        created = AssertionSync.objects.bulk_create(new, batch_size=1000)
        ids = [sync.pk for sync in created]
        for operation, pks in reset.items():
            AssertionSync.objects.filter(in_list("pk", pks)).update(
                operation=operation,
                state=State.PENDING,
                attempts=0,
                last_error="",
                next_attempt_at=now,
                updated=now,
            )
            ids += pks
        for sync_id in ids:
            enqueue_on_commit(mirror_assertion, sync_id)
    return ids


# -- one attempt -----------------------------------------------------------------------


@task()
def mirror_assertion(sync_id: int) -> str:
    """One attempt of a sync (the task); its state afterwards."""
    return run_sync(sync_id)


def run_sync(sync_id: int) -> str:
    """Make the sync's operation at the provider once and record how it went; the
    sync's state afterwards (``"gone"`` when it is not pending or no longer exists)."""
    sync = (
        AssertionSync.objects.select_related(
            "platform", "assertion__credential", "assertion__recipient"
        )
        .filter(pk=sync_id, state=State.PENDING)
        .first()
    )
    if sync is None:
        return "gone"
    provider = PROVIDERS.get(sync.provider_name)
    config = ProviderConfig.objects.filter(
        platform_id=sync.platform_id, provider_name=sync.provider_name, enabled=True
    ).first()
    if provider is None or config is None:
        return _give_up(sync, "The provider is not turned on for this platform.")
    mapping = ExternalCredentialMapping.objects.filter(
        credential_id=sync.assertion.credential_id, provider_name=sync.provider_name
    ).first()
    operation = sync.operation
    if operation != Operation.DELETE and mapping is None and not sync.external_id:
        return _give_up(sync, "The credential is no longer mapped to this provider.")
    values = config.get_config()
    client = provider.client_class(values)
    external_id = sync.external_id
    try:
        if operation == Operation.DELETE:
            if external_id:
                client.delete(external_id)
        elif external_id:
            client.update(external_id, mirrored_assertion(sync, mapping, values))
        else:
            external_id = client.create(mirrored_assertion(sync, mapping, values))
    except ProviderError as error:
        return _failed(sync, error)
    return _succeeded(sync, external_id)


def mirrored_assertion(
    sync: AssertionSync, mapping: ExternalCredentialMapping | None, config: dict[str, Any]
) -> MirroredAssertion:
    """The assertion of ``sync`` as its provider receives it."""
    assertion = sync.assertion
    user = assertion.recipient
    credential = assertion.credential
    group = ""
    if mapping is not None:
        group = mapping.group_id or mapping.external_template_id or ""
    base = links.base_url()
    return MirroredAssertion(
        entity_id=assertion.entity_id,
        platform_key=sync.platform.key,
        recipient_id=str(user.pk),
        recipient_name=user_full_name(user) or user.get_username(),
        recipient_email=user.email or "",
        credential_name=credential.name,
        credential_description=credential.description,
        issued_on=assertion.issued_on.date(),
        expires_on=assertion.expires.date() if assertion.expires else None,
        url=links.assertion_url(assertion.entity_id, base) if base else "",
        private=assertion.acceptance == Assertion.Acceptance.REJECTED,
        group=group or str(config.get("group_id") or ""),
        metadata=mapping.metadata if mapping is not None else {},
    )


def _still_mine(sync: AssertionSync) -> Q:
    """The sync as this attempt read it: a change queued meanwhile is left to its own."""
    return Q(pk=sync.pk, state=State.PENDING, operation=sync.operation, attempts=sync.attempts)


def _succeeded(sync: AssertionSync, external_id: str) -> str:
    now = timezone.now()
    done = AssertionSync.objects.filter(_still_mine(sync)).update(
        state=State.SYNCED,
        external_id=external_id,
        attempts=F("attempts") + 1,
        last_error="",
        next_attempt_at=None,
        synced_at=now,
        updated=now,
    )
    if done:
        return str(State.SYNCED)
    if external_id and not sync.external_id:
        # Created while a change (a revocation) was queued: that change needs the id.
        with transaction.atomic():
            kept = AssertionSync.objects.filter(pk=sync.pk, external_id="").update(
                external_id=external_id,
                state=State.PENDING,
                attempts=0,
                next_attempt_at=now,
                updated=now,
            )
            if kept:
                enqueue_on_commit(mirror_assertion, sync.pk)
    return "gone"


def _failed(sync: AssertionSync, error: ProviderError) -> str:
    attempts = sync.attempts + 1
    message = str(error)
    logger.warning(
        "Mirroring assertion %s to %s (%s) failed, attempt %d: %s",
        sync.assertion.entity_id,
        sync.provider_name,
        sync.operation,
        attempts,
        message,
    )
    may_retry = (
        error.retryable
        and attempts < ibl_settings.WEBHOOK_MAX_ATTEMPTS
        and mirror_assertion.get_backend().supports_defer
    )
    if not may_retry:
        return _give_up(sync, message)
    now = timezone.now()
    if error.retry_after is not None:
        delay = min(timedelta(seconds=error.retry_after), MAX_RETRY_AFTER)
    else:
        delay = retry_delay(attempts)
    next_attempt_at = now + delay
    kept = AssertionSync.objects.filter(_still_mine(sync)).update(
        attempts=attempts, last_error=message, next_attempt_at=next_attempt_at, updated=now
    )
    if kept:
        mirror_assertion.using(run_after=next_attempt_at).enqueue(sync.pk)
    return str(State.PENDING) if kept else "gone"


def _give_up(sync: AssertionSync, message: str) -> str:
    now = timezone.now()
    done = AssertionSync.objects.filter(_still_mine(sync)).update(
        state=State.FAILED,
        attempts=F("attempts") + 1,
        last_error=message,
        next_attempt_at=None,
        updated=now,
    )
    return str(State.FAILED) if done else "gone"


# -- again -----------------------------------------------------------------------------


def retry_syncs(sync_ids: Sequence[int]) -> int:
    """Queue these syncs again from their first attempt (the admin's action); how many."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            AssertionSync.objects.filter(in_list("pk", sync_ids))
            .exclude(state=State.SYNCED)
            .values_list("pk", flat=True)
        )
        AssertionSync.objects.filter(in_list("pk", ids)).update(
            state=State.PENDING, attempts=0, next_attempt_at=now, updated=now
        )
        for sync_id in ids:
            enqueue_on_commit(mirror_assertion, sync_id)
    return len(ids)


def requeue_stalled(now: datetime) -> str:
    """The sweeper (``manage.py ibl_sweep``): queue again the pending syncs whose attempt
    is overdue by more than ``SWEEP_AFTER_SECONDS`` (their task never reached the queue,
    or its worker stopped). Each is claimed in the transaction that queues it."""
    until = now - timedelta(seconds=ibl_settings.SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        stalled = list(
            AssertionSync.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_attempt_at__lte=until)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        AssertionSync.objects.filter(in_list("pk", stalled)).update(next_attempt_at=now)
        for sync_id in stalled:
            enqueue_on_commit(mirror_assertion, sync_id)
    count = len(stalled)
    return f"{count} stalled provider sync{'s' if count != 1 else ''} queued again."
