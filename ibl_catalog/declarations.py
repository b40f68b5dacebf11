"""The suggestion kinds this app serves. Courses and pathways will be declared here too."""

from .models import ProgramSuggestion
from .suggestions.base import Identifier, SuggestionKind

PROGRAM_SUGGESTIONS = SuggestionKind(
    label="program",
    model=ProgramSuggestion,
    item_field="program",
    identifiers=(Identifier("program_key", "program_key"),),
)

SUGGESTION_KINDS = [PROGRAM_SUGGESTIONS]
