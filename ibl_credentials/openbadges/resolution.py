"""The public key a verification method names, for the verifier.

- ``did:key``: the key is in the identifier itself, nothing to look up.
- ``did:web`` of an issuer of this server (its domain, or a DID one of its status lists
  was signed as): the DID document this server publishes, built from the database.
- Any other ``did:web``: ``unresolvable``, unless
  ``IBL_DATA_MANAGER["VERIFIER_FETCH_DID_WEB"]`` is on; then its DID document is fetched
  once over https, with the webhooks' address rules (no loopback, private or metadata
  address unless ``WEBHOOKS_ALLOW_PRIVATE``), a timeout and a size cap.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ibl_core.conf import ibl_settings
from ibl_core.events.webhooks.addresses import UnsafeURL, safe_addresses
from ibl_core.events.webhooks.delivery import AttemptTimedOut, Deadline, _PinnedHTTPSConnection
from ibl_core.sql.text import UNSTORABLE
from ibl_credentials.models import Issuer
from ibl_credentials.openbadges import signing
from ibl_credentials.openbadges.models import IssuerKey, StatusList

#: What a fetched DID document may weigh, and how long its host may take.
DID_DOCUMENT_MAX_BYTES = 100 * 1024
DID_FETCH_TIMEOUT_SECONDS = 5.0

UNRESOLVABLE = "unresolvable"


class KeyNotResolved(Exception):
    """The verification method names no key this verifier can use; the message says
    why (``unresolvable`` for a did:web of another host that is not fetched)."""


@dataclass(frozen=True)
class ResolvedKey:
    """A verification method's Ed25519 key, and the DID that controls it."""

    public_key: Ed25519PublicKey
    did: str
    method: str
    source: str  # how it was found, for the check's detail


def resolve_key(method: Any) -> ResolvedKey:
    """The key of the verification method ``method`` (``did:...#fragment``)."""
    if not isinstance(method, str) or not method:
        raise KeyNotResolved("No verification method is named.")
    did, _, fragment = method.partition("#")
    if did.startswith("did:key:"):
        return _did_key(method, did, fragment)
    if did.startswith("did:web:"):
        document, source = did_web_document(did)
        return _from_document(document, did, method, source)
    raise KeyNotResolved(f"Unsupported DID method in {method[:200]!r}: did:key and did:web are.")


def _did_key(method: str, did: str, fragment: str) -> ResolvedKey:
    if fragment and fragment != did.removeprefix("did:key:"):
        raise KeyNotResolved("The did:key verification method's fragment is not its key.")
    try:
        key = signing.public_key_from_did(did)
    except ValueError as error:
        raise KeyNotResolved(f"Not an Ed25519 did:key: {error}") from None
    return ResolvedKey(key, did, method, "a did:key, offline")


def domain_of(did: str) -> str:
    """``did:web:example.org%3A8443:issuers:acme`` -> ``example.org:8443/issuers/acme``
    (the inverse of :func:`.signing.did_web`)."""
    host, *path = did.removeprefix("did:web:").split(":")
    return "/".join([host.replace("%3A", ":").replace("%3a", ":").lower(), *path])


def issuer_of_did_web(did: str, domain: str) -> Issuer | None:
    """This server's issuer whose did:web is ``did`` (at ``domain``): the issuer with
    that domain now, else the one that signed as ``did`` before its domain changed
    (what it signed stays resolvable)."""
    issuer = Issuer.objects.filter(did_web_domain=domain).first()
    if issuer is None:
        listed = StatusList.objects.select_related("issuer").filter(did=did).first()
        issuer = listed.issuer if listed is not None else None
    return issuer


def did_web_document(did: str) -> tuple[dict[str, Any], str]:
    """The DID document of ``did`` and where it came from; :class:`KeyNotResolved` when
    it is not this server's and may not be fetched."""
    if UNSTORABLE.search(did):  # no database stores it, so no issuer of ours has it
        raise KeyNotResolved(UNRESOLVABLE)
    domain = domain_of(did)
    issuer = issuer_of_did_web(did, domain)
    if issuer is not None:
        keys = list(IssuerKey.objects.filter(issuer=issuer).order_by("created", "id"))
        return signing.did_document(did, keys), "a did:web of this server, read from its database"
    if not ibl_settings.VERIFIER_FETCH_DID_WEB:
        raise KeyNotResolved(UNRESOLVABLE)
    return _fetch_document(did, domain), "a did:web of another host, fetched"


def _fetch_document(did: str, domain: str) -> dict[str, Any]:
    url = f"https://{domain.partition('/')[0]}" + signing.did_document_path(domain)
    try:
        _, hostname, port, addresses = safe_addresses(url)
    except UnsafeURL as error:
        raise KeyNotResolved(f"{UNRESOLVABLE}: {error}") from None
    # A wall-clock deadline for the whole fetch, as for a webhook attempt.
    deadline = Deadline(DID_FETCH_TIMEOUT_SECONDS)
    connection = _PinnedHTTPSConnection(hostname, port, addresses[0], deadline)
    try:
        path = quote(signing.did_document_path(domain), safe="/%")
        connection.request("GET", path, headers={"Accept": "application/did+json"})
        response = connection.getresponse()
        body = response.read(DID_DOCUMENT_MAX_BYTES + 1)
    except (OSError, http.client.HTTPException, AttemptTimedOut) as error:
        raise KeyNotResolved(f"{UNRESOLVABLE}: {type(error).__name__}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise KeyNotResolved(f"{UNRESOLVABLE}: {url} answered {response.status}.")
    if len(body) > DID_DOCUMENT_MAX_BYTES:
        raise KeyNotResolved(
            f"{UNRESOLVABLE}: the DID document is over {DID_DOCUMENT_MAX_BYTES} bytes."
        )
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise KeyNotResolved(f"{UNRESOLVABLE}: the DID document is not JSON.") from None
    if not isinstance(document, dict) or document.get("id") != did:
        raise KeyNotResolved(f"{UNRESOLVABLE}: the DID document is not the one of {did}.")
    return document


def _from_document(document: dict[str, Any], did: str, method: str, source: str) -> ResolvedKey:
    """The key of ``method`` in a DID document: a ``Multikey`` (or Ed25519 2020 key) with
    ``publicKeyMultibase``, listed in ``assertionMethod``."""

    def entries(name: str) -> list[Any]:
        value = document.get(name)
        return value if isinstance(value, list) else []

    referenced = [
        entry if isinstance(entry, str) else entry.get("id")
        for entry in entries("assertionMethod")
        if isinstance(entry, str | dict)
    ]
    if method not in referenced:
        raise KeyNotResolved(f"{method[:200]} is not an assertion method of {did}.")
    methods = [
        entry
        for entry in [*entries("verificationMethod"), *entries("assertionMethod")]
        if isinstance(entry, dict) and entry.get("id") == method
    ]
    if not methods:
        raise KeyNotResolved(f"{method[:200]} is not in the DID document of {did}.")
    multibase = methods[0].get("publicKeyMultibase")
    if not isinstance(multibase, str) or not multibase.startswith("z"):
        raise KeyNotResolved(f"{method[:200]} has no base58btc publicKeyMultibase.")
    try:
        decoded = base58.b58decode(multibase[1:])
    except ValueError:
        raise KeyNotResolved(f"{method[:200]}: publicKeyMultibase is not base58btc.") from None
    if decoded[:2] != signing.ED25519_PUB_MULTICODEC or len(decoded) != 34:
        raise KeyNotResolved(f"{method[:200]} is not an Ed25519 key.")
    return ResolvedKey(Ed25519PublicKey.from_public_bytes(decoded[2:]), did, method, source)
