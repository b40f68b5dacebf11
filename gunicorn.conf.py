"""Gunicorn settings for the example project, read from the environment.

``gunicorn -c gunicorn.conf.py`` (what ``make serve`` runs) needs no other argument.
Command-line options and ``GUNICORN_CMD_ARGS`` still override what is set here.
Every variable is described in docs/production.md.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger, SafeAtoms

from ibl_core.ops.log import escape_quoted_field


def _int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}.") from None
    if number < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {number}.")
    return number


def _cores() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


#: A computed default above this only adds memory and database connections.
MAX_DEFAULT_WORKERS = 8

wsgi_app = "example_project.wsgi:application"

# GUNICORN_BIND wins (comma-separated, e.g. "0.0.0.0:8000" in a container, or
# "unix:/run/ibl.sock"); else loopback only, on PORT.
bind = [
    address.strip() for address in os.environ.get("GUNICORN_BIND", "").split(",") if address.strip()
] or [f"127.0.0.1:{_int('PORT', 8000, minimum=1)}"]

# Each worker is a process with its own database connection (per thread).
workers = _int("GUNICORN_WORKERS", min(2 * _cores() + 1, MAX_DEFAULT_WORKERS), minimum=1)
# More than one thread switches gunicorn to the gthread worker.
threads = _int("GUNICORN_THREADS", 1, minimum=1)
# A request running longer than this is killed with its worker.
timeout = _int("GUNICORN_TIMEOUT", 30, minimum=1)
# Time a worker gets to finish its requests after a restart or shutdown signal.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
# Seconds an idle keep-alive connection stays open (gthread only; keep it above the
# proxy's idle timeout towards the upstream, or the proxy may reuse a closed socket).
keepalive = _int("GUNICORN_KEEPALIVE", 5, minimum=0)
# Recycle workers now and then, so a slow leak cannot grow forever (0: never).
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100, minimum=0)

# Addresses of the proxies trusted to say the original scheme (X-Forwarded-Proto):
# requests from them that say https get wsgi.url_scheme "https".
forwarded_allow_ips = os.environ.get(
    "GUNICORN_FORWARDED_ALLOW_IPS", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
)


class EscapedAtoms(SafeAtoms):
    """The fields of one access log line, each escaped (gunicorn escapes only ``"``).

    The path (``%(U)s``) is percent-decoded and headers may hold tabs and C1 controls:
    raw, ``/nope%0aFORGED`` would write a second, forged line (ibl_core/log.py).
    """

    def __init__(self, atoms: dict[str, Any]) -> None:
        dict.__init__(self)
        for name, value in atoms.items():
            self[name] = escape_quoted_field(value) if isinstance(value, str) else value


class EscapedAccessLogger(Logger):
    """Gunicorn's logger, with every field of the access log escaped."""

    atoms_wrapper_class = EscapedAtoms


logger_class = EscapedAccessLogger

# Each request is logged once, as a JSON line on the `ibl.request` logger (Django's
# stderr). Gunicorn's own access log is off unless GUNICORN_ACCESS_LOG names a file
# ("-": stdout); it then leaves out the query string and the Referer, so a secret
# passed in a URL stays out of it.
_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "off").strip()
accesslog = None if _access_log.lower() in {"", "off", "none"} else _access_log
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Heartbeat files in memory: a disk-backed /tmp can stall workers under load.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Gunicorn 25+ opens a control socket in $HOME by default: only where asked for
# (a read-only container home, or two servers on one host, would trip over it).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
