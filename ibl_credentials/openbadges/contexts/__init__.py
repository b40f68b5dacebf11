"""The JSON-LD contexts we sign with, shipped as files: nothing is fetched at run time.

:func:`document_loader` is a ``pyld`` document loader that serves these and refuses
every other URL, so canonicalization never touches the network (and a credential that
names a context we do not ship fails to sign instead of being signed half-understood).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pyld.jsonld import JsonLdError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V2 = "https://w3id.org/openbadges/v2"

_FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-3.0.3.jsonld",
    OB_V2: "openbadges-v2.jsonld",
}

#: The context URLs the documents may name (every other one is refused).
SHIPPED_CONTEXTS = frozenset(_FILES)


@cache
def context(url: str) -> dict[str, Any]:
    """The parsed context document shipped for ``url`` (``KeyError`` if none)."""
    return json.loads((Path(__file__).parent / _FILES[url]).read_text(encoding="utf-8"))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serve a shipped context; any other URL is an error, never a download."""
    if url not in _FILES:
        raise JsonLdError(
            f"The context {url} is not shipped with ibl_credentials.openbadges.",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": context(url),
    }
