"""The suggestion kinds this app serves. Courses and pathways will be declared here too."""

from .models import ProgramSuggestion
from .suggestions.base import SuggestionKind

PROGRAM_SUGGESTIONS = SuggestionKind(
    label="program", model=ProgramSuggestion, item_field="program", key_field="program_key"
)

SUGGESTION_KINDS = [PROGRAM_SUGGESTIONS]
