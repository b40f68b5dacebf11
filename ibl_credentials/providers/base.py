"""What every provider's client is given and what it may raise.

A provider's module turns a :class:`MirroredAssertion` (the assertion as any provider
needs it, built once by the sync worker) into its own calls, and reports a failure as
a :class:`ProviderError` that says whether trying again may help and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class MirroredAssertion:
    """An assertion as a provider receives it."""

    entity_id: str
    platform_key: str
    recipient_id: str
    recipient_name: str
    recipient_email: str
    credential_name: str
    credential_description: str
    issued_on: dt.date
    expires_on: dt.date | None
    url: str
    #: The recipient rejected it: the provider should not show it publicly.
    private: bool
    #: Where the provider files it: the mapping's group, else its template, else the
    #: configuration's ``group_id`` ("" when none names one).
    group: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A call to a provider failed. ``retryable``: the same call may succeed later
    (a timeout, a refused connection, 429, 5xx); ``retry_after``: seconds the provider
    asked to wait (``Retry-After``). The message names no secret."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class ProviderClient(Protocol):
    """The three calls the sync makes; ``config`` is the platform's decrypted configuration."""

    def __init__(self, config: Mapping[str, Any]) -> None: ...

    def create(self, assertion: MirroredAssertion) -> str:
        """Create the assertion at the provider; the provider's id for it."""
        ...

    def update(self, external_id: str, assertion: MirroredAssertion) -> None: ...

    def delete(self, external_id: str) -> None:
        """Remove it; one that is already gone is not an error."""
        ...
