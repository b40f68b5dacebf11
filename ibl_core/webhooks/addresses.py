"""Which URLs a webhook may be sent to (SSRF protection), checked at save and at send.

Every address the host name resolves to is checked, so a DNS name that points at an
internal address is refused like the address itself. Loopback and private addresses
are refused unless ``WEBHOOKS_ALLOW_PRIVATE`` is on (local development, tests), which
also allows ``http://``. Link-local addresses (cloud metadata services live at
169.254.169.254) and the metadata host names are refused always.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ibl_core.conf import ibl_settings

#: Host names of cloud metadata services, refused whatever they resolve to.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "169.254.169.254"}
)
_ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
)


class UnsafeURL(ValueError):
    """A URL webhooks must not be sent to; the message says why, for the API's 400."""


def check_url_syntax(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an acceptable URL, or :class:`UnsafeURL`."""
    parts = urlsplit(url)
    allow_private = bool(ibl_settings.WEBHOOKS_ALLOW_PRIVATE)
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        raise UnsafeURL("Use an https:// URL.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL must not carry a user name or password.")
    host = parts.hostname.rstrip(".").lower()
    if host in METADATA_HOSTS:
        raise UnsafeURL("Link-local and cloud metadata addresses are refused.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURL("The URL's port is not a number from 0 to 65535.") from error
    return parts.scheme, host, port


def address_problem(address: str) -> str | None:
    """Why webhooks must not be sent to ``address`` (an IP address), or ``None``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _ALWAYS_REFUSED):
        return "Link-local and cloud metadata addresses are refused."
    if ibl_settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    if ip.is_loopback or ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return "The URL resolves to a loopback or private address."
    if not ip.is_global:
        return "The URL resolves to an address that is not public."
    return None


def safe_addresses(url: str) -> tuple[str, str, int, list[str]]:
    """``(scheme, host, port, addresses)``: every address ``url``'s host resolves to,
    all of them acceptable; :class:`UnsafeURL` otherwise (unresolvable included)."""
    scheme, host, port = check_url_syntax(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"The host {host!r} does not resolve.") from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeURL(f"The host {host!r} does not resolve.")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise UnsafeURL(problem)
    return scheme, host, port, addresses
