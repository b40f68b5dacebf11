"""RDF Dataset Canonicalization (RDFC-1.0, URDNA2015) with a work budget.

The canonicalization of a graph whose blank nodes look alike is exponential: a
credential of a few hundred bytes (two lists of eight identical objects, or eight
blank nodes naming each other) keeps ``pyld`` busy for minutes. The RDFC-1.0
Recommendation asks implementations to guard against such "poison" graphs; ``pyld``
does not, so :class:`BoundedURDNA2015` counts its deep iterations (Hash N-Degree Quads)
and the permutations it would try, and gives up with :class:`CanonicalizationTooCostly`
past a budget no credential comes near (an Open Badges credential needs none: each of
its blank nodes is told apart by its first-degree quads).

Everything signed or verified here is canonicalized by :func:`canonical_nquads`, with
the shipped contexts only (:func:`.contexts.document_loader`).
"""

from __future__ import annotations

import math
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015

from ibl_credentials.openbadges.contexts import document_loader

#: JSON values (objects, arrays, scalars) of a document: JSON-LD expansion in ``pyld``
#: costs about a millisecond per value, and an Open Badges credential has about a hundred.
MAX_JSON_VALUES = 1000
#: Calls of Hash N-Degree Quads allowed per document.
MAX_DEEP_ITERATIONS = 1000
#: Blank nodes that only their neighbours tell apart, per group (5! = 120 orders tried).
MAX_ALIKE_BLANK_NODES = 5


class CanonicalizationTooCostly(ValueError):
    """The document's blank nodes are too alike to canonicalize within the budget."""


class BoundedURDNA2015(URDNA2015):
    """``pyld``'s URDNA2015, refusing work beyond :data:`MAX_DEEP_ITERATIONS` calls and
    permutations of more than :data:`MAX_ALIKE_BLANK_NODES` blank nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.deep_iterations = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self.deep_iterations += 1
        if self.deep_iterations > MAX_DEEP_ITERATIONS:
            raise CanonicalizationTooCostly(
                f"Canonicalization needs more than {MAX_DEEP_ITERATIONS} deep iterations "
                "(blank nodes too alike): refused."
            )
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        largest = max((len(nodes) for nodes in related.values()), default=0)
        if largest > MAX_ALIKE_BLANK_NODES:
            raise CanonicalizationTooCostly(
                f"{largest} blank nodes are alike ({math.factorial(largest)} orders to try; "
                f"at most {MAX_ALIKE_BLANK_NODES} are accepted): refused."
            )
        return related


def canonical_nquads(document: dict[str, Any]) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document (``jsonld.normalize`` with
    ``URDNA2015``, bounded). A context that is not shipped raises ``JsonLdError``; a
    document too large or a poison graph :class:`CanonicalizationTooCostly`."""
    values = _count_values(document, MAX_JSON_VALUES + 1)
    if values > MAX_JSON_VALUES:
        raise CanonicalizationTooCostly(
            f"The document has more than {MAX_JSON_VALUES} JSON values: refused."
        )
    dataset = jsonld.to_rdf(
        document, {"documentLoader": document_loader, "produceGeneralizedRdf": False}
    )
    return str(BoundedURDNA2015().main(dataset, {"format": "application/n-quads"}))


def _count_values(node: Any, limit: int) -> int:
    """The JSON values in ``node``, counting no further than ``limit``."""
    count, pending = 0, [node]
    while pending and count < limit:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count
