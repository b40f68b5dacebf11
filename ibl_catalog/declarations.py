"""The suggestion kinds this app serves: each is one declaration of the generic engine."""

from .models import CourseSuggestion, PathwaySuggestion, ProgramSuggestion
from .suggestions.base import Identifier, SuggestionKind

PROGRAM_SUGGESTIONS = SuggestionKind(
    label="program",
    model=ProgramSuggestion,
    item_field="program",
    identifiers=(Identifier("program_key", "program_key"),),
)

COURSE_SUGGESTIONS = SuggestionKind(
    label="course",
    model=CourseSuggestion,
    item_field="item",
    identifiers=(Identifier("course_id", "course_id"),),
)

PATHWAY_SUGGESTIONS = SuggestionKind(
    label="pathway",
    model=PathwaySuggestion,
    item_field="item",
    identifiers=(
        Identifier("pathway_id", "pathway_id"),
        Identifier("pathway_uuid", "pathway_uuid", is_uuid=True),
    ),
    item_platform_key=True,
)

SUGGESTION_KINDS = [COURSE_SUGGESTIONS, PATHWAY_SUGGESTIONS, PROGRAM_SUGGESTIONS]
