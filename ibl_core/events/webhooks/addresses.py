"""Which URLs a webhook may be sent to (SSRF protection), checked at save and at send.

Every address the host name resolves to is checked, so a DNS name that points at an
internal address is refused like the address itself. Loopback and private addresses
are refused unless ``WEBHOOKS_ALLOW_PRIVATE`` is on (local development, tests), which
also allows ``http://``. Link-local addresses (cloud metadata services live at
169.254.169.254) and the metadata host names are refused always.

An IPv6 address can carry an IPv4 address inside it (IPv4-mapped and -compatible,
6to4, Teredo, NAT64): a gateway on the way may deliver to the IPv4 address, so that
address is judged too, by the same rules.
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
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("168.63.129.16/32"),  # Azure's host services (WireServer)
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, still routed by some stacks
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: an operator's own prefix
#: The prefix lengths a NAT64 prefix chosen inside 64:ff9b:1::/48 may have (RFC 6052 2.2).
_NAT64_LOCAL_PREFIX_LENGTHS = (48, 56, 64, 96)


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


def _nat64_embedded(ip: ipaddress.IPv6Address, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address of a NAT64 address with a prefix of this length (RFC 6052 2.2:
    bits 64-71 are left zero, the IPv4 address flows around them)."""
    packed = ip.packed
    if prefix_length == 96:
        return ipaddress.IPv4Address(packed[12:16])
    around_u = packed[:8] + packed[9:]
    start = prefix_length // 8
    return ipaddress.IPv4Address(around_u[start : start + 4])


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address ``ip`` carries: IPv4-mapped (``::ffff:0:0/96``),
    IPv4-compatible (``::/96``), 6to4 (``2002::/16``), Teredo (``2001::/32``: its server
    and its client, whose bits are stored inverted) and NAT64 (``64:ff9b::/96``, and
    every prefix length RFC 6052 allows inside ``64:ff9b:1::/48``)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_WELL_KNOWN:
        found.append(_nat64_embedded(ip, 96))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64_LOCAL:
        found.extend(_nat64_embedded(ip, length) for length in _NAT64_LOCAL_PREFIX_LENGTHS)
    return found


def address_problem(address: str) -> str | None:
    """Why webhooks must not be sent to ``address`` (an IP address), or ``None``.

    An IPv6 address is judged with every IPv4 address it carries (:func:`embedded_ipv4`):
    the first problem found is the answer."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    judged: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        judged += embedded_ipv4(ip)
    if any(one in network for one in judged for network in _ALWAYS_REFUSED):
        return "Link-local and cloud metadata addresses are refused."
    if ibl_settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    for one in judged:
        if (
            one.is_loopback
            or one.is_private
            or one.is_reserved
            or one.is_multicast
            or one.is_unspecified
        ):
            return "The URL resolves to a loopback or private address."
        if not one.is_global:
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
