"""The over-time endpoints' OpenAPI description."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema

from ibl_core.api.schema import error_responses
from ibl_credentials.analytics.selectors import DEFAULT_DAYS, MAX_DAYS
from ibl_credentials.analytics.serializers import OverTimeQuerySerializer
from ibl_credentials.base import PATH_PARAMETERS

_ERRORS = error_responses(
    e400="Invalid start_date, end_date, department_mode or department_id.",
    e401="Missing or invalid credentials.",
    e403="Not a platform admin of {org} (nor a DM admin).",
    e404="Unknown platform, or unknown path user.",
)


_ACCESS = (
    "Platform admins of {org} and DM admins. Days are UTC days; start_date and end_date "
    f"are both included (default: the last {DEFAULT_DAYS} days ending today; at most "
    f"{MAX_DAYS} days). "
)


def over_time_schema(operation_id: str, summary: str, description: str, response: Any) -> Any:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=_ACCESS + description,
        parameters=[*PATH_PARAMETERS, OverTimeQuerySerializer],
        responses={200: response, **_ERRORS},
    )
