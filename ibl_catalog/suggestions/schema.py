"""The OpenAPI description of the suggestion endpoints, per kind: one function per
endpoint that documents the view class built for a kind, so the views hold only
what they do.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from ibl_catalog.suggestions.base import SuggestionKind
from ibl_catalog.suggestions.serializers import (
    BulkResultSerializer,
    DeleteResultSerializer,
    GroupSuggestionSerializers,
    LearnerAnswerSerializer,
    SuggestionSerializers,
)
from ibl_core.api.schema import error_responses, platform_parameters

#: The 401 and 403 of every ``manage`` operation, for the OpenAPI descriptions.
MANAGE_ERRORS = {
    "e401": "Missing, malformed, unknown, expired or revoked API key.",
    "e403": "Not a DM admin, platform admin, or department admin in department mode.",
}


def operation_id(kind: SuggestionKind, action: str) -> str:
    return f"catalog_suggestions_{kind.label}_manage_{action}"


def document_manage_view(kind: SuggestionKind, view: type) -> type:
    """The OpenAPI description of ``kind``'s manage endpoint (GET, POST, DELETE)."""
    classes: SuggestionSerializers = view.serializers  # type: ignore[attr-defined]
    errors = MANAGE_ERRORS
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id(kind, "retrieve"),
            summary=f"List the platform's {kind.label} suggestions",
            description=(
                "Paginated (page, page_size clamped to the maximum). `query` searches "
                f"username, full name, email, {kind.key_name} and {kind.item_name}; `sort` "
                "orders with an id tie-break. A department admin in department_mode sees "
                "only the users of their departments."
            ),
            parameters=platform_parameters(),
            responses={
                200: classes.output(many=True),
                **error_responses(e400="Invalid parameter.", e404="Unknown platform or page.",
                                  **errors),
            },
        ),
        post=extend_schema(
            operation_id=operation_id(kind, "create"),
            summary=f"Create or update a {kind.label} suggestion",
            description=(
                "Answers 200 with the suggestion whether it was created or updated; only "
                "the fields sent change an existing suggestion."
            ),
            request=classes.write,
            responses={
                200: classes.output,
                **error_responses(e400="Invalid body, unknown user or item.",
                                  e404="Unknown platform.", e413="Body too large.",
                                  e415="Not a JSON body.", **errors),
            },
        ),
        delete=extend_schema(
            operation_id=operation_id(kind, "destroy"),
            summary=f"Delete a {kind.label} suggestion",
            description=(
                "Unknown suggestions and those of platforms the caller may not manage are "
                "the same 404."
            ),
            parameters=[
                OpenApiParameter("suggestion_id", int, required=True),
                *platform_parameters(required=False),
            ],
            responses={
                200: DeleteResultSerializer,
                **error_responses(e400="Invalid parameter.", e404="No such suggestion.",
                                  **errors),
            },
        ),
    )(view)  # fmt: skip


def document_bulk_view(kind: SuggestionKind, view: type) -> type:
    """The OpenAPI description of ``kind``'s bulk endpoint."""
    classes: SuggestionSerializers = view.serializers  # type: ignore[attr-defined]
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id(kind, "bulk_create"),
            summary=f"Create or update many {kind.label} suggestions",
            description=(
                "Each valid row is applied as the single POST would; invalid rows are "
                "reported as '<row index>:<code>' (invalid_row, user_not_found, "
                f"{kind.not_found_code}, user_not_in_department, duplicate_row)."
            ),
            request=classes.bulk,
            responses={
                200: BulkResultSerializer,
                **error_responses(
                    e400="Invalid body or too many rows (nothing written).",
                    e401="Missing, malformed, unknown, expired or revoked API key.",
                    e403="Not allowed on this platform.",
                    e404="Unknown platform.",
                    e413="Body too large.",
                    e415="Not a JSON body.",
                ),
            },
        )
    )(view)  # fmt: skip


def document_learner_view(kind: SuggestionKind, view: type) -> type:
    """The OpenAPI description of ``kind``'s learner endpoint (GET, POST)."""
    classes: SuggestionSerializers = view.serializers  # type: ignore[attr-defined]
    learner = [
        OpenApiParameter("user", str, description="The learner: a username or a user id."),
        OpenApiParameter("username", str, description="The learner's username."),
        OpenApiParameter("user_id", int, description="The learner's user id."),
        OpenApiParameter("email", str, description="The learner's email."),
        OpenApiParameter("platform_key", str, description="Only this platform's suggestions."),
        OpenApiParameter("platform_org", str, description="Only this platform's (by its org)."),
    ]
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"catalog_suggestions_{kind.label}_user_retrieve",
            summary=f"A learner's {kind.label} suggestions",
            description=(
                "Name the learner with user, username, user_id or email (at least one; "
                "several must name the same user). Learners read their own visible "
                "suggestions; a platform admin reads all of a member's suggestions on "
                "their platform; a DM admin reads all. Anyone else gets 403, whether "
                "the named user exists or not."
            ),
            parameters=learner,
            responses={
                200: classes.output(many=True),
                **error_responses(
                    e400="Invalid parameter, or parameters naming different users.",
                    e401="Missing, malformed, unknown, expired or revoked API key.",
                    e403="Not this learner, nor an admin of a platform they belong to.",
                    e404="Unknown platform or page (a DM admin: unknown user).",
                ),
            },
        ),
        post=extend_schema(
            operation_id=f"catalog_suggestions_{kind.label}_user_respond",
            summary=f"Answer a {kind.label} suggestion (accept or dismiss)",
            description=(
                "accepted=true accepts the suggestion, visible=false dismisses it. The "
                "learner the suggestion is for may answer, and so may an admin who could "
                "manage it; any other suggestion is not found."
            ),
            request=LearnerAnswerSerializer,
            responses={
                200: classes.output,
                **error_responses(
                    e400="Invalid body.",
                    e401="Missing, malformed, unknown, expired or revoked API key.",
                    e404="No such suggestion you may answer.",
                    e415="Not a JSON body.",
                ),
            },
        ),
    )(view)  # fmt: skip


def group_operation_id(kind: SuggestionKind, action: str) -> str:
    return f"catalog_suggestions_{kind.label}_manage_group_{action}"


def document_group_view(kind: SuggestionKind, view: type) -> type:
    """The OpenAPI description of ``kind``'s group endpoint (GET, POST, DELETE)."""
    classes: GroupSuggestionSerializers = view.group_serializers  # type: ignore[attr-defined]
    errors = MANAGE_ERRORS
    names = ", ".join([*kind.identifier_names, kind.item_name])
    return extend_schema_view(
        get=extend_schema(
            operation_id=group_operation_id(kind, "retrieve"),
            summary=f"List the platform's {kind.label} group suggestions",
            description=(
                "Paginated (page, page_size clamped to the maximum). `query` searches "
                f"the group's name, {names}; `sort` (default id) orders with an id "
                "tie-break. A department admin in department_mode sees only the groups "
                "of their departments. user_count: the group's active members."
            ),
            parameters=platform_parameters(),
            responses={
                200: classes.output(many=True),
                **error_responses(e400="Invalid parameter.", e404="Unknown platform or page.",
                                  **errors),
            },
        ),
        post=extend_schema(
            operation_id=group_operation_id(kind, "create"),
            summary=f"Create or update a {kind.label} group suggestion",
            description=(
                "Answers 200 whether it was created or updated; only the fields sent "
                "change an existing group suggestion. Every current member of the group "
                f"receives the {kind.label} as a suggestion of their own (direct=false); "
                "a member who already has it keeps it unchanged. Members who join later "
                "receive it; members who leave lose what only this group gave them."
            ),
            request=classes.write,
            responses={
                200: classes.output,
                **error_responses(e400="Invalid body, unknown group or item.",
                                  e404="Unknown platform.", e413="Body too large.",
                                  e415="Not a JSON body.", **errors),
            },
        ),
        delete=extend_schema(
            operation_id=group_operation_id(kind, "destroy"),
            summary=f"Delete a {kind.label} group suggestion",
            description=(
                "Also deletes the members' suggestions that only this group suggestion "
                "gave (not those another group gave, nor those written directly). "
                "Unknown group suggestions and those the caller may not manage are the "
                "same 404."
            ),
            parameters=[
                OpenApiParameter("suggestion_id", int, required=True),
                *platform_parameters(),
            ],
            responses={
                200: DeleteResultSerializer,
                **error_responses(e400="Invalid parameter.", e404="No such suggestion.",
                                  **errors),
            },
        ),
    )(view)  # fmt: skip
