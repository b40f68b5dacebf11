"""Settings of the example project, configured from environment variables.

See docs/settings.md and docs/production.md for every variable. This module shows how a host
project wires the three apps; nothing in the apps imports it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from example_project.checks import DEVELOPMENT_SECRET_KEY
from example_project.storage_settings import storages_from_env

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number >= 0, got {value!r}.")
    return int(value)


def throttle_rates_from_env(value: str) -> dict[str, str | None]:
    """``IBL_THROTTLE_RATES="reads=2000/min,bulk=off"``: the scopes named change (the
    system check reports a bad scope or rate at start-up)."""
    rates: dict[str, str | None] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        scope, sep, rate = item.partition("=")
        if not sep:
            raise ImproperlyConfigured(f"IBL_THROTTLE_RATES: expected scope=rate, got {item!r}.")
        rates[scope.strip()] = None if rate.strip().lower() in {"off", "none"} else rate.strip()
    return rates


DEBUG = env_bool("DJANGO_DEBUG")
# Without DJANGO_SECRET_KEY (and DEBUG off) the system check example_project.W001 says
# so once per start (`migrate`, `check`), not once per process that imports settings.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# HTTPS. The redirect and HSTS are opt-in: they are only right once TLS is really in
# front of the site (docs/production.md), and the test client speaks plain http.
# Secure cookies follow DEBUG: on in production, off while debugging locally.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
# Load-balancer and orchestrator probes often speak plain http to the instance.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc assets served locally: docs work offline
    "axes",  # admin login: locks an address out after repeated failed logins
    # Background work (webhook deliveries...): Django's tasks API (the django-tasks
    # backport on Django 5.2) and its database queue, run by `manage.py db_worker`.
    "django_tasks",
    "django_tasks_db",
    "ibl_core",
    "ibl_catalog",
    "ibl_credentials",
    # This project as an app too: landing page, favicon, checks, the user list's id
    # column. After django.contrib.auth, whose User admin it adjusts.
    "example_project",
]

MIDDLEWARE = [
    # First, so the logged duration and status cover every other middleware.
    "ibl_core.ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) from gunicorn itself: no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DATABASE_PREPARE_THRESHOLD", "5" if DATABASES["default"]["CONN_MAX_AGE"] else ""
):
    # Server-side prepared statements for the statements the project sends with their
    # parameters apart (ibl_core.sql.cursor: the public paths' stamp query, the bulk
    # statements): psycopg prepares one once it ran this many times on a connection, so a
    # hot statement is parsed and planned once per connection instead of every request.
    # Django leaves them off by default for connection poolers: on by default here only
    # with persistent connections, which a pooler in transaction mode rules out anyway.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(
        os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share one SQLite file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions take the write lock up front (no lock-upgrade
    # deadlock between two upserts), and the timeout makes a writer wait its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login guessing: 5 failed logins from one address pause logins from it for 15
# minutes (each failure meanwhile starts the pause again); a success resets the count.
# Counted per address, whatever the username, so the answer never tells whether a
# username exists and nobody can lock an admin out from elsewhere. The failures are
# rows in the database (shared by every worker); `manage.py axes_reset` unlocks.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = (
    "ibl_core.ops.throttling.client_ip"  # the throttles' address, see NUM_PROXIES
)
AXES_LOCKOUT_CALLABLE = "ibl_core.ops.login_lockout.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = os.environ.get("STATIC_URL", "/static/")
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploaded files: local (MEDIA_ROOT) unless IBL_STORAGE=s3 (see storage_settings.py).
STORAGES = storages_from_env(os.environ)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache: per process unless CACHE_URL (else REDIS_URL) names a Redis server that
# every worker shares (the API's throttles count there, docs/production.md "Throttling";
# needs the `redis` extra). CACHE_URL lets the cache and RQ's queue use different Redis.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX", "ibl"),
            # A Redis that hangs must not hang requests: throttling fails open.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def tasks_from_env(environ: os._Environ[str] | dict[str, str]) -> tuple[dict, dict | None]:
    """``TASKS`` from ``TASKS_BACKEND``: ``database`` (default: the database queue, run by
    ``manage.py db_worker``), ``rq`` (RQ on the Redis of ``REDIS_URL``, run by
    ``manage.py rqworker --with-scheduler``; needs the ``rq`` extra) or ``immediate``
    (in the request, no worker; for trying things only). Also ``RQ_QUEUES`` for rq."""
    name = environ.get("TASKS_BACKEND", "database").strip().lower()
    backends = {
        "database": "django_tasks_db.DatabaseBackend",
        "rq": "django_tasks_rq.RQBackend",
        "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    }
    if name not in backends:
        raise ImproperlyConfigured(
            f"TASKS_BACKEND must be one of {sorted(backends)}, got {name!r}."
        )
    rq_queues = None
    if name == "rq":
        if not environ.get("REDIS_URL"):
            raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
        rq_queues = {"default": {"URL": environ["REDIS_URL"], "DEFAULT_TIMEOUT": 600}}
    return {"default": {"BACKEND": backends[name]}}, rq_queues


TASKS, _rq_queues = tasks_from_env(os.environ)
if _rq_queues is not None:
    RQ_QUEUES = _rq_queues
    # `manage.py rqworker` must run jobs with django-tasks-rq's job class: RQ's own cannot
    # call a task object, so every job (webhook deliveries...) would fail in the worker.
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    INSTALLED_APPS.append("django_rq")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a 401 carries "WWW-Authenticate: Api-Token".
        "ibl_core.tenancy.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # DRF's browsable API, except that a form it cannot build is left out (and
        # logged) instead of turning an answered request into a 500.
        "ibl_core.api.renderers.BrowsableAPIRenderer",
    ],
    # Proxies in front of gunicorn that append to X-Forwarded-For (nginx: 1). Unset: the
    # client is the connection's address (the header is not trusted).
    "NUM_PROXIES": env_int("DJANGO_NUM_PROXIES"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ibl-data-manager",
    # The landing page shows the same sentence.
    "DESCRIPTION": (
        "Suggestions of courses, programs and pathways to learners and to groups; "
        "credentials issued and verified as Open Badges 2.0 and 3.0; signed webhooks."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tags and operation ids from the segment after /api/ (catalog, credentials); the
    # Open Badges paths (/ob/) name their own tag.
    "SCHEMA_PATH_PREFIX": r"/api/",
    # drf-spectacular's own hook, then the {username} form of every credentials path
    # (docs/credentials-guide.md, "The published client").
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ibl_credentials.schema.add_username_twins",
    ],
}

IBL_DATA_MANAGER: dict = {}
if os.environ.get("IBL_THROTTLE_RATES"):
    IBL_DATA_MANAGER["THROTTLE_RATES"] = throttle_rates_from_env(os.environ["IBL_THROTTLE_RATES"])
# Webhooks to loopback/private addresses and over http://: local development only.
if env_bool("IBL_WEBHOOKS_ALLOW_PRIVATE"):
    IBL_DATA_MANAGER["WEBHOOKS_ALLOW_PRIVATE"] = True

# Open Badges (docs/open-badges.md): the public host named in badges, and the secret the
# issuers' signing keys are encrypted with (default: the SECRET_KEY).
for _key in ("OPEN_BADGES_BASE_URL", "OPEN_BADGES_KEY_SECRET"):
    if os.environ.get(f"IBL_{_key}"):
        IBL_DATA_MANAGER[_key] = os.environ[f"IBL_{_key}"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Messages on one line: control characters from a request are escaped.
        "single_line": {"()": "ibl_core.ops.log.SingleLineFormatter", "format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "single_line"},
        "discard": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        # One JSON line per request (ibl_core.ops.middleware); WARNING turns them off.
        "ibl.request": {"level": os.environ.get("IBL_REQUEST_LOG_LEVEL", "INFO")},
        # Django's messages through the root's one handler (Django's default config
        # would also print them on its own console handler while DEBUG is on).
        "django": {"handlers": [], "level": "INFO"},
        # Django would add a "Not Found: /path" line for every 4xx answer, which the
        # request line already shows; 5xx (with the traceback) are still logged.
        "django.request": {"level": "ERROR"},
        # runserver's own line per request repeats the ibl.request line. A handler that
        # discards, not none: a logger with no handler at all prints warnings (4xx)
        # through Python's last resort.
        "django.server": {"handlers": ["discard"], "propagate": False},
    },
}
