"""Sections of an exported credential that other packages fill in: the extension hook.

The export document carries, for each credential, sections that this package does not
own. Provider mappings (``provider_mappings``) are the first: the providers package
owns that model and registers a contributor for the section when it is installed::

    register_contributor(ExportContributor(
        section="provider_mappings",
        export=mappings_by_credential,   # credentials -> {credential pk: value}
        import_=apply_mappings,          # (credential, value, platform) -> changed?
    ))

Nothing else changes: the export asks each contributor once for all the credentials of
the document (set-based, no query per credential), and the import calls it inside the
transaction of each credential, after the credential is written. A section without a
contributor is exported with its default (``[]``) and ignored on import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ibl_core.models import Platform
from ibl_credentials.models import Credential

#: Sections every exported credential has, with their value when nothing fills them.
DEFAULT_SECTIONS: dict[str, Callable[[], Any]] = {"provider_mappings": list}


@dataclass(frozen=True)
class ExportContributor:
    """What one section of an exported credential is, out and in.

    ``export`` receives every credential of the document and answers their values by
    primary key (a credential left out gets ``default()``). ``import_`` receives the
    credential just created or updated, the section's value from the document and the
    target platform; it answers whether it changed anything, and raises a DRF
    ``ValidationError`` to fail that credential (its transaction is rolled back).
    """

    section: str
    export: Callable[[Sequence[Credential]], Mapping[int, Any]]
    import_: Callable[[Credential, Any, Platform], bool] | None = None
    default: Callable[[], Any] = field(default=list)


_contributors: dict[str, ExportContributor] = {}


def register_contributor(contributor: ExportContributor) -> None:
    """Add (or replace) the contributor of ``contributor.section``."""
    _contributors[contributor.section] = contributor


def unregister_contributor(section: str) -> None:
    """Remove the contributor of ``section`` (tests; an app being unloaded)."""
    _contributors.pop(section, None)


def section_names() -> list[str]:
    """Every section an exported credential carries, default ones first."""
    return list(dict.fromkeys([*DEFAULT_SECTIONS, *_contributors]))


def export_sections(credentials: Sequence[Credential]) -> dict[int, dict[str, Any]]:
    """``{credential pk: {section: value}}`` for every section (one call per contributor)."""
    sections: dict[int, dict[str, Any]] = {credential.pk: {} for credential in credentials}
    for name in section_names():
        contributor = _contributors.get(name)
        values: Mapping[int, Any] = contributor.export(credentials) if contributor else {}
        default = contributor.default if contributor else DEFAULT_SECTIONS[name]
        for credential in credentials:
            sections[credential.pk][name] = (
                values[credential.pk] if credential.pk in values else default()
            )
    return sections


def import_sections(credential: Credential, entry: Mapping[str, Any], platform: Platform) -> bool:
    """Hand each section of ``entry`` to its contributor; whether any changed something."""
    changed = False
    for name, contributor in _contributors.items():
        if contributor.import_ is not None and name in entry:
            changed = contributor.import_(credential, entry[name], platform) or changed
    return changed
