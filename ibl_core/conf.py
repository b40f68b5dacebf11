"""The ``IBL_DATA_MANAGER`` setting, read through one object with documented defaults.

Values are read from ``django.conf.settings`` on every access, so
``override_settings(IBL_DATA_MANAGER={...})`` takes effect at once. Keys that a
project does not set fall back to :data:`DEFAULTS`.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

#: Every supported key, its default, and what it means.
DEFAULTS: dict[str, Any] = {
    # Catalog lists (page / page_size pagination).
    "PAGE_SIZE": 20,
    "MAX_PAGE_SIZE": 100,
    # Credentials lists with limit / offset pagination (the issuers).
    "CREDENTIALS_PAGE_SIZE": 50,
    "CREDENTIALS_MAX_PAGE_SIZE": 1000,
    # The credential list and course-credentials/ (page / page_size, as published).
    "CREDENTIAL_LIST_PAGE_SIZE": 10,
    "CREDENTIAL_LIST_MAX_PAGE_SIZE": 100,
    # The assertion lists (page / page_size, bare, as published: 1 to 1000).
    "ASSERTION_LIST_PAGE_SIZE": 10,
    "ASSERTION_LIST_MAX_PAGE_SIZE": 1000,
    # Bulk suggestions: rows per request, rows per INSERT, largest JSON body accepted.
    "BULK_MAX_ROWS": 10_000,
    "BULK_BATCH_SIZE": 2000,
    "BULK_MAX_BODY_BYTES": 16 * 1024 * 1024,
    # A group suggestion to more members than this is fanned out by a background task
    # (after the request commits) instead of in the request (docs/events.md).
    "GROUP_FANOUT_TASK_THRESHOLD": 5000,
    # A bulk issue to more users than this is answered 202 with a job and run by a
    # background task (docs/events.md). The default is the contract's maximum: every
    # request it allows is answered in the request, unless it asks for the job with
    # ``Prefer: respond-async``.
    "BULK_ISSUE_TASK_THRESHOLD": 10_000,
    # A write the database aborted as a deadlock or serialization failure is run again,
    # up to this many attempts in all.
    "WRITE_RETRY_ATTEMPTS": 3,
    # Every JSON value a client stores (suggestion metadata...): its size once encoded
    # as compact UTF-8 JSON, and how deeply its objects and arrays may nest.
    "JSON_MAX_BYTES": 64 * 1024,
    "JSON_MAX_DEPTH": 10,
    # A credential's html_template and css_template, each, in characters: every
    # credential list answer carries them.
    "CREDENTIAL_TEMPLATE_MAX_CHARS": 64 * 1024,
    # Uploaded images.
    "IMAGE_MAX_BYTES": 5 * 1024 * 1024,
    "IMAGE_MAX_WIDTH": 4096,
    "IMAGE_MAX_HEIGHT": 4096,
    # CPU per upload: WEBP costs 10-40x the CPU of JPEG per pixel to decode and
    # re-encode, and every scan of a progressive JPEG walks the whole image again.
    "IMAGE_MAX_WEBP_PIXELS": 1024 * 1024,
    "IMAGE_MAX_JPEG_SCANS": 100,
    "IMAGE_FORMATS": ["PNG", "JPEG", "GIF", "WEBP"],
    "IMAGE_SEARCH_LIMIT": 100,
    "IMAGE_UPLOAD_DIR": "uploaded_images",
    # API keys.
    "API_KEY_KEYWORDS": ["Api-Token", "Api-Key"],
    "API_KEY_LAST_USED_INTERVAL": 60,
    # Throttling (ibl_core.ops.throttling): requests per caller and scope; None turns a scope
    # off. A partial dict changes only the scopes it names. docs/production.md says why.
    "THROTTLE_RATES": {
        "reads": "1200/min",  # GET/HEAD/OPTIONS
        "writes": "300/min",  # single POST/PUT/PATCH/DELETE
        "bulk": "30/min",  # bulk POSTs, up to BULK_MAX_ROWS rows each
        "uploads": "60/min",  # image uploads
    },
    # The cache alias the throttles count in: one that every worker process shares.
    "THROTTLE_CACHE": "default",
    # Rendered public answers (OB 2.0/3.0 documents, baked images, status lists, badge
    # pages, badge images), keyed by what they are built from
    # (ibl_credentials.openbadges.artifacts): the alias, and how long an unused one is
    # kept (0: not cached).
    "ARTIFACT_CACHE": "default",
    "ARTIFACT_CACHE_SECONDS": 24 * 3600,
    # Seconds a CDN or browser may keep a public verification answer before asking
    # again (its ETag makes that a 304): a revocation can take this long to show
    # through such a cache. 0: ask every time ("no-cache").
    "PUBLIC_MAX_AGE": 0,
    # Webhooks (docs/events.md). Loopback and private receivers (and http://) only when
    # allowed: local development and tests.
    "WEBHOOKS_ALLOW_PRIVATE": False,
    # Seconds per attempt, wall clock: connect, send, the answer's headers and the
    # start of its body, all within it.
    "WEBHOOK_TIMEOUT": 10,
    # Endpoints per platform (each event is one delivery per endpoint).
    "WEBHOOK_MAX_ENDPOINTS": 20,
    # The circuit breaker: an endpoint whose last this-many attempts in a row ran out
    # of time is parked (nothing is sent to it) for WEBHOOK_PARK_SECONDS, then tried
    # with one attempt; its deliveries wait, they do not fail.
    "WEBHOOK_PARK_AFTER_TIMEOUTS": 3,
    "WEBHOOK_PARK_SECONDS": 300,
    # Attempts per delivery; the n-th retry waits WEBHOOK_RETRY_BASE_SECONDS * 3**(n-1)
    # seconds, +-25% (8 attempts: about 18 hours).
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_RETRY_BASE_SECONDS": 60,
    # An endpoint whose attempts have all failed for this long is disabled.
    "WEBHOOK_DISABLE_AFTER_SECONDS": 3 * 24 * 3600,
    # After a rotation, the previous secret also signs deliveries for this long.
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 24 * 3600,
    # Characters of a receiver's answer kept per attempt.
    "WEBHOOK_RESPONSE_EXCERPT": 1000,
    # The sweeper (manage.py ibl_sweep) hands the queue the work that never reached it
    # this long after it was recorded (undispatched events, bulk issue jobs still
    # queued; a job running for longer is failed), looking back this far at most.
    "SWEEP_AFTER_SECONDS": 300,
    "SWEEP_LOOKBACK_SECONDS": 3 * 24 * 3600,
    # Paths whose errors are answered in JSON (ibl_core.api.errors), by prefix.
    "API_PATH_PREFIXES": ["/api/"],
    # Open Badges (docs/open-badges.md). The scheme and host of the public URLs in
    # badges and credentials (e.g. "https://badges.example.com"); None: the request's.
    "OPEN_BADGES_BASE_URL": None,
    # The secret the issuers' private keys are encrypted with at rest; None: SECRET_KEY.
    # Changing it makes the stored keys unreadable: set it once, keep it apart.
    "OPEN_BADGES_KEY_SECRET": None,
    # The verifier (docs/verifying.md) resolves a did:web of another host by fetching its
    # DID document (https, public addresses only, 5 s, 100 KiB) only when this is True.
    "VERIFIER_FETCH_DID_WEB": False,
    # External credential providers (docs/providers.md). The secret their configurations
    # (API keys) are encrypted with at rest; None: SECRET_KEY. Changing it makes the
    # stored configurations unreadable: set it once, keep it apart.
    "PROVIDER_CONFIG_SECRET": None,
    # Seconds a call to a provider may take (connecting, sending, each read).
    "PROVIDER_TIMEOUT": 10,
    # Where Accredible's API answers (their EU and sandbox hosts are alternatives).
    "ACCREDIBLE_BASE_URL": "https://api.accredible.com",
}

_POSITIVE_INTS = (
    "PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CREDENTIALS_PAGE_SIZE",
    "CREDENTIALS_MAX_PAGE_SIZE",
    "CREDENTIAL_LIST_PAGE_SIZE",
    "CREDENTIAL_LIST_MAX_PAGE_SIZE",
    "ASSERTION_LIST_PAGE_SIZE",
    "ASSERTION_LIST_MAX_PAGE_SIZE",
    "BULK_MAX_ROWS",
    "BULK_BATCH_SIZE",
    "BULK_MAX_BODY_BYTES",
    "GROUP_FANOUT_TASK_THRESHOLD",
    "BULK_ISSUE_TASK_THRESHOLD",
    "WRITE_RETRY_ATTEMPTS",
    "JSON_MAX_BYTES",
    "JSON_MAX_DEPTH",
    "CREDENTIAL_TEMPLATE_MAX_CHARS",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_WIDTH",
    "IMAGE_MAX_HEIGHT",
    "IMAGE_MAX_WEBP_PIXELS",
    "IMAGE_MAX_JPEG_SCANS",
    "IMAGE_SEARCH_LIMIT",
    "WEBHOOK_TIMEOUT",
    "WEBHOOK_MAX_ENDPOINTS",
    "WEBHOOK_PARK_AFTER_TIMEOUTS",
    "WEBHOOK_PARK_SECONDS",
    "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_RETRY_BASE_SECONDS",
    "WEBHOOK_DISABLE_AFTER_SECONDS",
    "WEBHOOK_SECRET_OVERLAP_SECONDS",
    "WEBHOOK_RESPONSE_EXCERPT",
    "SWEEP_AFTER_SECONDS",
    "SWEEP_LOOKBACK_SECONDS",
    "PROVIDER_TIMEOUT",
)
_KNOWN_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
#: The units a throttle rate may use, in seconds (the words DRF's rates use).
RATE_PERIODS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}  # fmt: skip
_RATE = re.compile(r"\s*(\d+)\s*/\s*([a-z]+)\s*")


class IblSettings:
    """Attribute access to ``settings.IBL_DATA_MANAGER`` merged over :data:`DEFAULTS`.

    A value read once is kept as an attribute (a bulk row reads a few settings, so
    10,000 rows read them tens of thousands of times) until the setting changes
    (``override_settings`` in tests sends ``setting_changed``), as DRF's
    ``api_settings`` does.
    """

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown IBL_DATA_MANAGER setting: {name!r}")
        configured = getattr(settings, "IBL_DATA_MANAGER", None) or {}
        value = configured.get(name, DEFAULTS[name])
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        """Forget every value read (the next access reads the settings again)."""
        self.__dict__.clear()


ibl_settings = IblSettings()


@receiver(setting_changed)
def reload_ibl_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "IBL_DATA_MANAGER":
        ibl_settings.reload()


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/min"`` -> ``(60, 60)``: requests allowed, per that many seconds.

    Raises ``ValueError`` for anything else (a count below 1 included: a scope that
    should let nothing through is a permission, and ``None`` turns throttling off).
    """
    match = _RATE.fullmatch(rate) if isinstance(rate, str) else None
    if match is None or match.group(2) not in RATE_PERIODS or int(match.group(1)) < 1:
        raise ValueError(
            f"{rate!r} is not a rate: use '<requests>/<period>' with requests >= 1 and "
            "period second, minute, hour or day (s, sec, m, min, h, d), e.g. '60/min'."
        )
    return int(match.group(1)), RATE_PERIODS[match.group(2)]


def throttle_rates() -> dict[str, str | None]:
    """Every scope's rate: the configured ``THROTTLE_RATES`` over the defaults."""
    return {**DEFAULTS["THROTTLE_RATES"], **ibl_settings.THROTTLE_RATES}


def validate_settings(configured: Any) -> list[str]:
    """Return one message per problem found in a ``IBL_DATA_MANAGER`` value."""
    if configured is None:
        return []
    if not isinstance(configured, dict):
        return ["IBL_DATA_MANAGER must be a dict."]
    problems = [f"Unknown key {key!r}." for key in configured if key not in DEFAULTS]
    merged = {**DEFAULTS, **configured}
    for key in _POSITIVE_INTS:
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{key} must be a positive integer, got {value!r}.")
    for default, maximum in (
        ("PAGE_SIZE", "MAX_PAGE_SIZE"),
        ("CREDENTIALS_PAGE_SIZE", "CREDENTIALS_MAX_PAGE_SIZE"),
        ("CREDENTIAL_LIST_PAGE_SIZE", "CREDENTIAL_LIST_MAX_PAGE_SIZE"),
        ("ASSERTION_LIST_PAGE_SIZE", "ASSERTION_LIST_MAX_PAGE_SIZE"),
    ):
        page_sizes = (merged[default], merged[maximum])
        if all(isinstance(size, int) for size in page_sizes) and page_sizes[0] > page_sizes[1]:
            problems.append(f"{default} must not exceed {maximum}.")
    formats = merged["IMAGE_FORMATS"]
    if (
        not isinstance(formats, list | tuple)
        or not formats
        or not set(formats) <= _KNOWN_IMAGE_FORMATS
    ):
        problems.append(
            f"IMAGE_FORMATS must be a non-empty list drawn from {sorted(_KNOWN_IMAGE_FORMATS)}, "
            f"got {formats!r}."
        )
    keywords = merged["API_KEY_KEYWORDS"]
    if (
        not isinstance(keywords, list | tuple)
        or not keywords
        or not all(isinstance(k, str) and k and " " not in k for k in keywords)
    ):
        problems.append("API_KEY_KEYWORDS must be a non-empty list of words.")
    prefixes = merged["API_PATH_PREFIXES"]
    if not isinstance(prefixes, list | tuple) or not all(
        isinstance(prefix, str) and prefix.startswith("/") for prefix in prefixes
    ):
        problems.append("API_PATH_PREFIXES must be a list of paths starting with '/'.")
    for key in ("API_KEY_LAST_USED_INTERVAL", "ARTIFACT_CACHE_SECONDS", "PUBLIC_MAX_AGE"):
        seconds = merged[key]
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            problems.append(f"{key} must be an integer >= 0 (seconds).")
    known_caches = getattr(settings, "CACHES", {})
    if merged["ARTIFACT_CACHE"] not in known_caches:
        problems.append(
            f"ARTIFACT_CACHE must name one of CACHES {sorted(known_caches)}, "
            f"got {merged['ARTIFACT_CACHE']!r}."
        )
    if not isinstance(merged["IMAGE_UPLOAD_DIR"], str) or not merged["IMAGE_UPLOAD_DIR"].strip("/"):
        problems.append("IMAGE_UPLOAD_DIR must be a non-empty relative folder name.")
    for flag in ("WEBHOOKS_ALLOW_PRIVATE", "VERIFIER_FETCH_DID_WEB"):
        if not isinstance(merged[flag], bool):
            problems.append(f"{flag} must be true or false.")
    problems += _throttle_problems(merged["THROTTLE_RATES"], merged["THROTTLE_CACHE"])
    base_url = merged["OPEN_BADGES_BASE_URL"]
    if base_url is not None and (
        not isinstance(base_url, str) or not re.fullmatch(r"https?://[^/?#\s]+", base_url)
    ):
        problems.append(
            "OPEN_BADGES_BASE_URL must be None or a scheme and host without a path, "
            f"e.g. 'https://badges.example.com', got {base_url!r}."
        )
    for name in ("OPEN_BADGES_KEY_SECRET", "PROVIDER_CONFIG_SECRET"):
        secret = merged[name]
        if secret is not None and (not isinstance(secret, str) or len(secret) < 32):
            problems.append(f"{name} must be None or a string of 32+ characters.")
    accredible = merged["ACCREDIBLE_BASE_URL"]
    if not isinstance(accredible, str) or not re.fullmatch(r"https?://[^?#\s]+", accredible):
        problems.append(
            "ACCREDIBLE_BASE_URL must be an http(s) URL, e.g. 'https://api.accredible.com', "
            f"got {accredible!r}."
        )
    return problems


def _throttle_problems(rates: Any, cache_alias: Any) -> list[str]:
    scopes = sorted(DEFAULTS["THROTTLE_RATES"])
    if not isinstance(rates, dict):
        return [f"THROTTLE_RATES must be a dict of scope -> rate, scopes {scopes}."]
    problems = []
    for scope, rate in rates.items():
        if scope not in DEFAULTS["THROTTLE_RATES"]:
            problems.append(f"THROTTLE_RATES: unknown scope {scope!r}; the scopes are {scopes}.")
        elif rate is not None:
            try:
                parse_rate(rate)
            except ValueError as error:
                problems.append(f"THROTTLE_RATES[{scope!r}]: {error} None turns it off.")
    caches = getattr(settings, "CACHES", {})
    if not isinstance(cache_alias, str) or cache_alias not in caches:
        problems.append(
            f"THROTTLE_CACHE must name one of CACHES {sorted(caches)}, got {cache_alias!r}."
        )
    return problems
