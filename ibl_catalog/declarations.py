"""The suggestion kinds this app serves: each is one declaration of the generic engine."""

from ibl_catalog.models import (
    CourseGroupSuggestion,
    CourseGroupSupport,
    CourseSuggestion,
    PathwayGroupSuggestion,
    PathwayGroupSupport,
    PathwaySuggestion,
    ProgramGroupSuggestion,
    ProgramGroupSupport,
    ProgramSuggestion,
)
from ibl_catalog.suggestions.base import Identifier, SuggestionKind
from ibl_catalog.suggestions.registry import register

PROGRAM_SUGGESTIONS = SuggestionKind(
    label="program",
    model=ProgramSuggestion,
    item_field="program",
    identifiers=(Identifier("program_key", "program_key"),),
    group_model=ProgramGroupSuggestion,
    support_model=ProgramGroupSupport,
)

COURSE_SUGGESTIONS = SuggestionKind(
    label="course",
    model=CourseSuggestion,
    item_field="item",
    identifiers=(Identifier("course_id", "course_id"),),
    group_model=CourseGroupSuggestion,
    support_model=CourseGroupSupport,
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
    group_model=PathwayGroupSuggestion,
    support_model=PathwayGroupSupport,
)

SUGGESTION_KINDS = [COURSE_SUGGESTIONS, PATHWAY_SUGGESTIONS, PROGRAM_SUGGESTIONS]
register(*SUGGESTION_KINDS)
