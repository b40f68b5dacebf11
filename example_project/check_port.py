"""``python -m example_project.check_port HOST PORT``: is the port free for ``make run``?

``make run`` asks this before anything else. A second ``make run`` on a busy port
used to migrate, replace the running demo's API key and only then fail to bind.
Now it stops first, with one line that names a free port, and changes nothing.

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import socket
import sys

#: How far past the busy port to look for a free one to suggest.
SUGGESTION_RANGE = 20


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could bind ``host:port`` now (as gunicorn does: SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def busy_port_message(host: str, port: int) -> str | None:
    """One line saying the port is taken and which to use instead; None when it is free."""
    if port_is_free(host, port):
        return None
    free = next(
        (n for n in range(port + 1, port + SUGGESTION_RANGE) if port_is_free(host, n)), None
    )
    hint = f"PORT={free} make run" if free is not None else "PORT=<another port> make run"
    return (
        f"Port {port} on {host} is already in use (another make run?); nothing was changed. "
        f"Use another port: {hint}"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m example_project.check_port HOST PORT", file=sys.stderr)
        return 2
    message = busy_port_message(argv[0], int(argv[1]))
    if message is not None:
        print(message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
