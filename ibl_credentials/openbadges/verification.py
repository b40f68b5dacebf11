"""The verifier: says whether a credential someone hands us is valid, and why, check by
check (``docs/verifying.md``).

It takes what a holder has: an Open Badges 2.0 assertion (JSON, or its URL on this
server), an Open Badges 3.0 credential with an embedded ``eddsa-rdfc-2022`` proof, a
VC-JWT, or a baked PNG or SVG image carrying one of these. Nothing is fetched from the
network: this server's assertions, status lists and did:web documents are read from the
database (the same data their public URLs serve); a credential of another issuer
verifies offline when it is self-contained (a did:key, an embedded proof or a JWT).

:func:`verify_submission` is the one entry point (the API and the HTML page call it).
Input that is no credential at all raises :class:`VerificationInputError` (a 400);
anything that is one, however broken or hostile, gives a :class:`VerificationResult`
whose failed checks say what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import base58
from cryptography.exceptions import InvalidSignature
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import timezone
from pyld.jsonld import JsonLdError

from ibl_core.sql.text import UNSTORABLE, find_unstorable_text
from ibl_credentials.models import Assertion, Revocation
from ibl_credentials.openbadges import ob2, ob3, signing, status
from ibl_credentials.openbadges.contexts import OB_V2, SHIPPED_CONTEXTS, VC_V2
from ibl_credentials.openbadges.models import StatusEntry, StatusList
from ibl_credentials.openbadges.rdfc import CanonicalizationTooCostly
from ibl_credentials.openbadges.resolution import KeyNotResolved, ResolvedKey, resolve_key
from ibl_credentials.openbadges.unbaking import NotABakedBadge, unbake

OB2 = "ob2"
OB3_LD = "ob3-ld"
OB3_JWT = "ob3-jwt"

# The checks, in the order they are reported.
STRUCTURE = "structure"
SIGNATURE = "signature"
KEY = "key"
ISSUER = "issuer"
DATES = "dates"
STATUS = "status"
HOSTED = "hosted"

#: A compact JWS: three base64url parts.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
#: The algorithms of an Ed25519 JWS (RFC 8037's name, and RFC 9864's).
JWS_ALGORITHMS = ("EdDSA", "Ed25519")
#: JWT claims a VC-JWT adds beside the credential.
JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")


#: Routes of this server whose URL names an assertion, by the form they serve.
ASSERTION_ROUTES = {
    "ibl-openbadges:ob2-assertion": OB2,
    "ibl-openbadges:ob2-assertion-image": OB2,
    "credentials-public-assertion": OB2,
    "ibl-openbadges:ob3-credential": OB3_LD,
    "ibl-pages:badge": OB2,
}
STATUS_ROUTE = "ibl-openbadges:ob3-status"


class VerificationInputError(Exception):
    """What was sent is no credential at all; the message says what is wrong."""


@dataclass
class VerificationResult:
    """The verdict: ``valid`` when every check is ``ok``.

    ``checks`` are ``{"check", "ok", "detail"}`` in the order they are reported;
    ``credential`` is the credential as parsed (a JWT's payload), or ``None``.
    """

    valid: bool
    format: str
    checks: list[dict[str, Any]]
    credential: Any | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "format": self.format,
            "checks": self.checks,
            "credential": self.credential,
        }


def verify_submission(
    *, credential: Any = None, file: Any = None, base: str = ""
) -> VerificationResult:
    """Verify what was submitted: ``credential`` (a dict: an OB 2.0 assertion or an
    OB 3.0 credential with its proof; a str: a compact VC-JWT, a URL of this server or
    JSON text) or ``file`` (a baked PNG or SVG, anything with ``read()``).

    ``base`` is this server's scheme and host: URLs under it are read from the
    database, never fetched. Raises :class:`VerificationInputError` for input that
    holds no credential.
    """
    if file is not None and credential not in (None, ""):
        raise VerificationInputError("Send a credential or a file, not both.")
    if file is not None:
        try:
            credential = unbake(file)
        except NotABakedBadge as error:
            raise VerificationInputError(str(error)) from None
    if credential is None or credential == "":
        raise VerificationInputError(
            'No credential: send {"credential": ...} (an Open Badges 2.0 assertion or '
            "an Open Badges 3.0 credential as JSON, a compact VC-JWT, or the URL of an "
            "assertion of this server), or a baked PNG or SVG badge image as file."
        )
    return _verify(credential, base)


def _refuse_unstorable(value: Any, where: str = "") -> None:
    """NUL characters and unpaired surrogates are no text: no database stores them and
    no JSON answer can carry a surrogate, so they are refused as the JSON API does."""
    path = find_unstorable_text(value)
    if path is not None:
        place = ".".join(filter(None, [where, *path]))
        raise VerificationInputError(
            "Null characters and unpaired surrogates are not allowed"
            + (f" (in {place})." if place else ".")
        )


def _verify(submitted: Any, base: str) -> VerificationResult:
    _refuse_unstorable(submitted)
    if isinstance(submitted, dict):
        return _verify_document(submitted, base)
    if not isinstance(submitted, str):
        raise VerificationInputError(
            "credential must be a JSON object, a compact VC-JWT or a URL (a string)."
        )
    text = submitted.strip()
    if text.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            raise VerificationInputError("The credential is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise VerificationInputError("The credential must be a JSON object.")
        _refuse_unstorable(parsed)
        return _verify_document(parsed, base)
    if COMPACT_JWS.fullmatch(text):
        return _verify_jwt(text, base)
    if text.lower().startswith(("http://", "https://")):
        return _verify_url(text, base)
    raise VerificationInputError(
        "The credential is neither JSON, a compact VC-JWT nor a URL of this server."
    )


def _verify_document(document: dict[str, Any], base: str) -> VerificationResult:
    contexts = _as_list(document.get("@context"))
    types = _as_list(document.get("type"))
    if VC_V2 in contexts or "VerifiableCredential" in types or "proof" in document:
        return _verify_ldp(document, base)
    if OB_V2 in contexts or "Assertion" in types:
        return _verify_ob2(document, base)
    raise VerificationInputError(
        "This JSON is neither an Open Badges 2.0 assertion (@context "
        f"{OB_V2}) nor a Verifiable Credential (@context {VC_V2})."
    )


# The result ---------------------------------------------------------------------------


class _Checks:
    """The lines of a result. A check that trips over a malformed value fails with what
    it could not read, never with a server error."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def run(self, name: str, check: Callable[..., tuple[bool, str]], *args: Any) -> bool:
        try:
            ok, detail = check(*args)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError):
            ok, detail = False, "The credential is malformed here: it could not be read."
        except RecursionError:
            ok, detail = False, "The credential is nested too deeply to be read."
        self.add(name, ok, detail)
        return ok

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.lines.append({"check": name, "ok": ok, "detail": detail})

    def result(self, fmt: str, credential: Any) -> VerificationResult:
        valid = bool(self.lines) and all(line["ok"] for line in self.lines)
        return VerificationResult(valid, fmt, self.lines, credential)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any, limit: int = 200) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return shown if len(shown) <= limit else shown[:limit] + "..."


# Open Badges 3.0 ---------------------------------------------------------------------


def _ob3_structure(credential: Any) -> tuple[bool, str]:
    """The fields Open Badges 3.0 requires of an OpenBadgeCredential."""
    if not isinstance(credential, dict):
        return False, "The credential is not a JSON object."
    missing = []
    contexts = _as_list(credential.get("@context"))
    if not contexts or contexts[0] != VC_V2:
        missing.append(f"@context (first {VC_V2})")
    types = _as_list(credential.get("type"))
    if "VerifiableCredential" not in types or not {
        "OpenBadgeCredential",
        "AchievementCredential",
    } & set(filter(lambda t: isinstance(t, str), types)):
        missing.append("type (VerifiableCredential and OpenBadgeCredential)")
    for field in ("id", "name", "validFrom"):
        if not isinstance(credential.get(field), str):
            missing.append(field)
    if not _issuer_id(credential):
        missing.append("issuer (an id)")
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(subject, dict):
        missing.append("credentialSubject")
    elif not isinstance(achievement, dict):
        missing.append("credentialSubject.achievement")
    else:
        missing += [
            f"credentialSubject.achievement.{field}"
            for field in ("id", "type", "name", "description", "criteria")
            if field not in achievement
        ]
    if missing:
        return False, "Missing or malformed: " + ", ".join(missing) + "."
    return True, "Has every field Open Badges 3.0 requires of an OpenBadgeCredential."


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _key_check(method: Any) -> tuple[ResolvedKey | None, tuple[bool, str]]:
    try:
        key = resolve_key(method)
    except KeyNotResolved as error:
        return None, (False, str(error))
    return key, (True, f"{_text(key.method)} resolved: {key.source}.")


def _issuer_check(credential: dict[str, Any], method: Any, *also: Any) -> tuple[bool, str]:
    """The credential's issuer is the DID whose key signed it (and, for a JWT, ``iss``)."""
    issuer = _issuer_id(credential)
    signer = method.split("#", 1)[0] if isinstance(method, str) else None
    if issuer is None or signer is None:
        return False, "The issuer or the signing key is not named."
    named = {issuer, signer, *also}
    if len(named) != 1:
        return False, f"The issuer {_text(issuer)} is not the key's DID {_text(signer)}."
    return True, f"The issuer {_text(issuer)} signed it."


def _parse_date(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("not a date")
    parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _validity(start: Any, end: Any, start_name: str, end_name: str) -> tuple[bool, str]:
    now = timezone.now()
    begins = _parse_date(start) if start is not None else None
    ends = _parse_date(end) if end is not None else None
    if begins is not None and begins > now:
        return False, f"Not yet valid: {start_name} is {start}."
    if ends is not None and ends <= now:
        return False, f"Expired: {end_name} was {end}."
    since = f"Valid since {start}" if begins else "Valid"
    return True, since + (f", until {end}." if ends else ", with no expiry.")


def _ob3_dates(
    credential: dict[str, Any], claims: dict[str, Any] | None = None
) -> tuple[bool, str]:
    ok, detail = _validity(
        credential.get("validFrom"), credential.get("validUntil"), "validFrom", "validUntil"
    )
    if ok and claims:
        now = timezone.now().timestamp()
        nbf, exp = claims.get("nbf"), claims.get("exp")
        for name, value in (("nbf", nbf), ("exp", exp)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                return False, f"The JWT's {name} is not a number of seconds."
        if nbf is not None and nbf > now:
            return False, "Not yet valid: the JWT's nbf is in the future."
        if exp is not None and exp <= now:
            return False, "Expired: the JWT's exp has passed."
    return ok, detail


def _ob3_status(credential: dict[str, Any], base: str) -> tuple[bool, str]:
    """The credential's bit in its status list, when the list is this server's."""
    entries = credential.get("credentialStatus")
    if entries is None:
        return True, "No credentialStatus: the issuer publishes no revocation for it."
    details = []
    for entry in _as_list(entries):
        ok, detail = _status_entry(entry, _issuer_id(credential), base)
        if not ok:
            return False, detail
        details.append(detail)
    return True, " ".join(details)


def _status_entry(entry: Any, issuer: str | None, base: str) -> tuple[bool, str]:
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return False, "credentialStatus is not a BitstringStatusListEntry."
    url = entry.get("statusListCredential")
    match = _local_route(url, base)
    if match is None:
        return True, (
            f"The status list {_text(url)} is not on this server: not checked (the "
            "verifier fetches nothing)."
        )
    entity_id = match.kwargs.get("entity_id", "")
    stored = None
    if match.view_name == STATUS_ROUTE and not UNSTORABLE.search(entity_id):
        stored = StatusList.objects.select_related("key").filter(entity_id=entity_id).first()
    if stored is None:
        return False, f"{_text(url)} is not a status list of this server."
    if entry.get("statusPurpose") != "revocation":
        return False, "This server's status lists are revocation lists (statusPurpose)."
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str) or not index_text.isdigit():
        return False, "statusListIndex is not a number (a string of digits)."
    index = int(index_text)
    listed = json.loads(status.status_list(stored, base).ldp)
    if listed.get("issuer") != issuer:
        return False, f"The status list is issued by {listed.get('issuer')}, not by the issuer."
    bits = status.decode(listed["credentialSubject"]["encodedList"])
    if index >= len(bits) * 8:
        return False, f"statusListIndex {index} is beyond the list's {len(bits) * 8} entries."
    if status.bit(bits, index):
        reason = _revocation_reason(stored, index)
        return False, f"Revoked{': ' + reason if reason else ''} (bit {index} of {url} is 1)."
    return True, f"Not revoked (bit {index} of {url}, read on this server)."


def _revocation_reason(stored: StatusList, index: int) -> str:
    entry = StatusEntry.objects.filter(status_list=stored, index=index).first()
    if entry is None:
        return ""
    revocation = Revocation.objects.filter(entity_id=entry.assertion_entity_id).first()
    if revocation is not None:
        return revocation.revocation_reason
    assertion = Assertion.objects.filter(entity_id=entry.assertion_entity_id).first()
    return assertion.revocation_reason if assertion is not None else ""


def _unshipped_contexts(node: Any) -> list[str]:
    """Every context URL a JSON-LD document names that is not shipped here."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                found += [
                    url
                    for url in _as_list(value)
                    if isinstance(url, str) and url not in SHIPPED_CONTEXTS
                ]
                found += [url for item in _as_list(value) for url in _unshipped_contexts(item)]
            elif key == "@import" and isinstance(value, str) and value not in SHIPPED_CONTEXTS:
                found.append(value)
            else:
                found += _unshipped_contexts(value)
    elif isinstance(node, list):
        found += [url for item in node for url in _unshipped_contexts(item)]
    return found


def _data_integrity_signature(
    document: dict[str, Any], proof: Any, key: ResolvedKey | None
) -> tuple[bool, str]:
    """``eddsa-rdfc-2022``: Ed25519 over the SHA-256 of the RDFC-1.0 canonical proof
    options and of the credential without its proof."""
    if proof is None:
        return False, "No proof: an embedded eddsa-rdfc-2022 Data Integrity proof is needed."
    if isinstance(proof, list):
        if len(proof) != 1:
            return False, "Only a single proof is supported."
        proof = proof[0]
    if not isinstance(proof, dict):
        return False, "The proof is not a JSON object."
    if proof.get("type") != "DataIntegrityProof":
        return False, f"Unsupported proof type {_text(proof.get('type'))}: DataIntegrityProof is."
    if proof.get("cryptosuite") != signing.CRYPTOSUITE:
        return False, (
            f"Unsupported cryptosuite {_text(proof.get('cryptosuite'))}: {signing.CRYPTOSUITE} is."
        )
    if proof.get("proofPurpose") != "assertionMethod":
        return False, "The proof's proofPurpose is not assertionMethod."
    value = proof.get("proofValue")
    try:
        signature = base58.b58decode(value[1:]) if isinstance(value, str) else b""
    except ValueError:
        signature = b""
    if not isinstance(value, str) or not value.startswith("z") or len(signature) != 64:
        return False, "proofValue is not a base58btc (z) Ed25519 signature."
    unshipped = _unshipped_contexts(document) + _unshipped_contexts(proof)
    if unshipped:
        return False, (
            f"The context {_text(unshipped[0])} is not one this verifier ships: contexts are "
            "never downloaded."
        )
    if key is None:
        return False, "Not checked: the signing key did not resolve."
    unsigned = {name: item for name, item in document.items() if name != "proof"}
    options = {"@context": document.get("@context")}
    options.update((name, item) for name, item in proof.items() if name != "proofValue")
    try:
        data = signing.canonical_hash(options) + signing.canonical_hash(unsigned)
    except CanonicalizationTooCostly as error:
        return False, str(error)
    except JsonLdError as error:
        return False, f"Not valid JSON-LD with the shipped contexts: {_jsonld_reason(error)}"
    except ValueError as error:  # values no context defines: they would not be signed
        return False, f"Not covered by the signature: {error}"
    try:
        key.public_key.verify(signature, data)
    except InvalidSignature:
        return False, (
            "The signature does not match: the credential was changed after it was signed, "
            "or another key signed it."
        )
    return True, f"{signing.CRYPTOSUITE} proof verified."


def _jsonld_reason(error: JsonLdError) -> str:
    cause: BaseException | None = error
    while cause is not None and getattr(cause, "__cause__", None) is not None:
        cause = cause.__cause__
    return _text(str(cause or error).splitlines()[0] if str(cause or error) else "error")


def _verify_ldp(document: dict[str, Any], base: str) -> VerificationResult:
    checks = _Checks()
    proof = document.get("proof")
    first = proof[0] if isinstance(proof, list) and proof else proof
    method = first.get("verificationMethod") if isinstance(first, dict) else None
    key, key_line = _key_check(method)
    checks.run(STRUCTURE, _ob3_structure, document)
    checks.run(SIGNATURE, _data_integrity_signature, document, proof, key)
    checks.add(KEY, *key_line)
    checks.run(ISSUER, _issuer_check, document, method)
    checks.run(DATES, _ob3_dates, document)
    checks.run(STATUS, _ob3_status, document, base)
    return checks.result(OB3_LD, document)


# VC-JWT ------------------------------------------------------------------------------


def _b64url_json(part: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None


def _jws_signature(token: str, header: dict[str, Any], key: ResolvedKey | None) -> tuple[bool, str]:
    """RFC 7515 compact JWS with Ed25519 (RFC 8037): the signature over
    ``header.payload``. Only ``EdDSA``/``Ed25519``; ``none`` and every other
    algorithm are refused."""
    alg = header.get("alg")
    if alg not in JWS_ALGORITHMS:
        return False, f"alg {_text(alg)} is refused: only EdDSA (Ed25519) is accepted."
    if "crit" in header or header.get("b64") is False:
        return False, "Critical or unencoded-payload JWS headers are not supported."
    if key is None:
        return False, "Not checked: the signing key did not resolve."
    signing_input, _, signature = token.rpartition(".")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        key.public_key.verify(raw, signing_input.encode("ascii"))
    except (InvalidSignature, ValueError, binascii.Error):
        return False, (
            "The signature does not match: the JWT was changed after it was signed, or "
            "another key signed it."
        )
    return True, "EdDSA (Ed25519) signature verified."


def _verify_jwt(token: str, base: str) -> VerificationResult:
    checks = _Checks()
    encoded_header, encoded_payload, _ = token.split(".")
    header, payload = _b64url_json(encoded_header), _b64url_json(encoded_payload)
    if not isinstance(header, dict) or not isinstance(payload, dict):
        checks.add(STRUCTURE, False, "The JWT's header or payload is not base64url JSON.")
        return checks.result(OB3_JWT, None)
    _refuse_unstorable(header, "header")
    _refuse_unstorable(payload, "payload")
    # VC-JWT of VC 1.1 (Open Badges 3.0's examples) nest the credential in "vc"; VC 2.0's
    # JOSE securing makes the payload the credential itself.
    credential = payload["vc"] if isinstance(payload.get("vc"), dict) else payload
    method = header.get("kid")
    if method is None and str(payload.get("iss", "")).startswith("did:key:"):
        method = payload["iss"]
    key, key_line = _key_check(method)
    also = [payload["iss"]] if "iss" in payload else []
    checks.run(STRUCTURE, _ob3_structure, credential)
    checks.run(SIGNATURE, _jws_signature, token, header, key)
    checks.add(KEY, *key_line)
    checks.run(ISSUER, _issuer_check, credential, method, *also)
    checks.run(DATES, _ob3_dates, credential, payload)
    checks.run(STATUS, _ob3_status, credential, base)
    return checks.result(OB3_JWT, payload)


# Open Badges 2.0, hosted --------------------------------------------------------------

#: What an Open Badges 2.0 Assertion must have.
OB2_REQUIRED = ("@context", "type", "id", "recipient", "badge", "verification", "issuedOn")


def _ob2_structure(document: dict[str, Any]) -> tuple[bool, str]:
    missing = [field for field in OB2_REQUIRED if field not in document]
    if "type" in document and "Assertion" not in _as_list(document["type"]):
        missing.append("type (Assertion)")
    recipient = document.get("recipient")
    if "recipient" in document and (
        not isinstance(recipient, dict)
        or not isinstance(recipient.get("identity"), str)
        or not isinstance(recipient.get("type"), str)
    ):
        missing.append("recipient (type, identity)")
    verification = document.get("verification")
    if "verification" in document and not (
        isinstance(verification, dict) and isinstance(verification.get("type"), str)
    ):
        missing.append("verification (type)")
    if missing:
        return False, "Missing or malformed: " + ", ".join(missing) + "."
    return True, "Has every field Open Badges 2.0 requires of an Assertion."


@dataclass
class _Hosted:
    """What this server holds for an OB 2.0 assertion URL."""

    url: str
    assertion: Assertion | None = None
    revocation: Revocation | None = None


def _hosted(url: Any, base: str) -> _Hosted | None:
    match = _local_route(url, base)
    if match is None or ASSERTION_ROUTES.get(match.view_name) is None:
        return None
    entity_id = match.kwargs.get("entity_id", "")
    found = _Hosted(url)
    if not UNSTORABLE.search(entity_id):
        found.assertion = (
            Assertion.objects.select_related("credential__issuer", "recipient", "ob_signed")
            .filter(entity_id=entity_id)
            .first()
        )
        if found.assertion is None:
            found.revocation = Revocation.objects.filter(entity_id=entity_id).first()
    return found


def _hosted_check(document: dict[str, Any], hosted: _Hosted | None, base: str) -> tuple[bool, str]:
    verification = document.get("verification")
    kind = verification.get("type") if isinstance(verification, dict) else None
    if kind not in ("hosted", "HostedBadge"):
        return False, f"Verification {_text(kind)}: only hosted assertions are supported."
    url = document.get("id")
    if hosted is None:
        return False, f"{_text(url)} is not an assertion of this server: it is not fetched."
    if hosted.assertion is None:
        if hosted.revocation is not None:
            return True, f"Hosted on this server at {url}; it answers 410 (revoked)."
        return False, f"No assertion is hosted at {url} (404)."
    served = ob2.assertion_document(hosted.assertion, base)
    differs = [
        field for field in ("id", "recipient", "badge") if document.get(field) != served[field]
    ]
    if differs:
        return False, "Differs from the hosted assertion in: " + ", ".join(differs) + "."
    return True, f"Hosted on this server at {url}, and the copy matches it."


def _ob2_dates(document: dict[str, Any], hosted: _Hosted | None, base: str) -> tuple[bool, str]:
    # The hosted assertion is authoritative: its expiry may have changed since baking.
    if hosted is not None and hosted.assertion is not None:
        document = ob2.assertion_document(hosted.assertion, base)
    return _validity(document.get("issuedOn"), document.get("expires"), "issuedOn", "expires")


def _ob2_status(hosted: _Hosted | None) -> tuple[bool, str]:
    if hosted is None:
        return True, "Not hosted on this server: its revocation is not checked."
    if hosted.assertion is not None and hosted.assertion.revoked:
        reason = hosted.assertion.revocation_reason
    elif hosted.revocation is not None:
        reason = hosted.revocation.revocation_reason
    else:
        return True, "Not revoked (the hosted assertion answers 200)."
    return False, f"Revoked{': ' + reason if reason else ''} (the hosted assertion answers 410)."


def _verify_ob2(document: dict[str, Any], base: str) -> VerificationResult:
    checks = _Checks()
    hosted = _hosted(document.get("id"), base)
    checks.run(STRUCTURE, _ob2_structure, document)
    checks.run(HOSTED, _hosted_check, document, hosted, base)
    checks.run(DATES, _ob2_dates, document, hosted, base)
    checks.run(STATUS, _ob2_status, hosted)
    return checks.result(OB2, document)


# URLs of this server ------------------------------------------------------------------


def _local_route(url: Any, base: str) -> ResolverMatch | None:
    """The route of ``url`` when it is a URL of this server (``base``'s host, http or
    https), else ``None``. Nothing is fetched."""
    if not base or not isinstance(url, str) or UNSTORABLE.search(url):
        return None
    try:
        parts, ours = urlsplit(url), urlsplit(base)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.netloc.lower() != ours.netloc.lower():
        return None
    try:
        return resolve(parts.path or "/")
    except Resolver404:
        return None


def _verify_url(url: str, base: str) -> VerificationResult:
    """An assertion or credential URL of this server: what it serves, verified."""
    hosted = _hosted(url, base)
    if hosted is None:
        raise VerificationInputError(
            "Only URLs of assertions and credentials of this server are read "
            f"({base or 'this server'}); nothing is fetched: send the credential itself."
        )
    match = _local_route(url, base)
    fmt = ASSERTION_ROUTES[match.view_name] if match is not None else OB2
    assertion = hosted.assertion
    if assertion is None:
        return _gone(hosted, fmt)
    if fmt == OB2:
        return _verify_ob2(ob2.assertion_document(assertion, base), base)
    signed = ob3.signed_credential(assertion, base)
    wanted = parse_qs(urlsplit(url).query).get("format", [""])[0].lower()
    if wanted in ("jwt", "vc+jwt", "vc jwt"):
        return _verify_jwt(signed.jwt, base)
    return _verify_ldp(json.loads(signed.ldp), base)


def _gone(hosted: _Hosted, fmt: str) -> VerificationResult:
    """An assertion of this server that no longer exists: revoked then deleted, or
    never issued."""
    checks = _Checks()
    if hosted.revocation is None:
        checks.add(HOSTED, False, f"No assertion or credential is at {hosted.url} (404).")
        return checks.result(fmt, None)
    checks.add(HOSTED, True, f"{hosted.url} is this server's; it answers 410 (revoked).")
    checks.run(STATUS, _ob2_status, hosted)
    return checks.result(fmt, None)
