"""Fetching media by URL, for events that name a picture only by its `url`.

A URL in an event is input from the platform's users; fetching it naively lets anyone make
Seawall request internal addresses (server-side request forgery). So a fetch happens only when:

* the scheme is http or https and the host is on the allow-list (`example.com` exactly, or
  `*.example.com` for its subdomains; an empty list never fetches);
* every address the host resolves to is a public unicast address: private, loopback,
  link-local, shared (CGNAT), reserved, unspecified and multicast addresses are refused (the
  first five only pass with `allow_private`, multicast and unspecified never);
* the connection goes to an address that was checked (not to the name, which could resolve
  differently a moment later: DNS rebinding); HTTPS still verifies the certificate for the name;
* redirects stay on the same host (each hop checked again, at most `max_redirects`);
* the body stays under `max_bytes` (a larger Content-Length is refused before reading, a body
  without one is cut off as soon as it passes the limit), and the whole fetch finishes within
  `timeout` seconds.

Only the standard library is used. Failures raise MediaError with a reason: `fetch_disabled`,
`bad_url`, `host_not_allowed`, `unresolvable`, `private_address`, `redirect_to_other_host`,
`too_many_redirects`, `http_status`, `too_large`, `timeout`, `fetch_failed`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Callable, Sequence
from urllib.parse import urljoin, urlsplit

from seawall.media.decode import DEFAULT_MAX_BYTES, MediaError

Resolver = Callable[[str, int], list[str]]
USER_AGENT = "Seawall-media-fetch/1"
_REDIRECTS = {301, 302, 303, 307, 308}


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        p = pattern.strip().lower().rstrip(".")
        if not p:
            continue
        if p.startswith("*."):
            if host.endswith(p[1:]) and host != p[2:]:
                return True
        elif host == p:
            return True
    return False


def address_refusal(address: str, allow_private: bool) -> str | None:
    """Why this IP address may not be fetched from, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return "multicast or unspecified address"
    if allow_private:
        return None
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private:
        return "private address"
    if not ip.is_global or ip.is_reserved:
        return "non-public address"
    return None


@dataclass(slots=True)
class Fetched:
    url: str  # the final URL, after same-host redirects
    address: str  # the IP address connected to
    content_type: str | None
    data: bytes


class _PinnedHTTP(http.client.HTTPConnection):
    """Sends Host: <name> but connects to the address that was checked."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch(
    url: str,
    *,
    allowed_hosts: Sequence[str],
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 10.0,
    max_redirects: int = 3,
    resolve: Resolver = _resolve,
    ssl_context: ssl.SSLContext | None = None,
) -> Fetched:
    """GET `url` under the rules above; returns the body or raises MediaError."""
    if not allowed_hosts:
        raise MediaError("fetch_disabled", "no host is allowed for fetching (fetch_hosts is empty)")
    deadline = time.monotonic() + timeout
    first_host: str | None = None
    for _hop in range(max_redirects + 1):
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise MediaError("bad_url", f"{url!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not host:
            raise MediaError("bad_url", f"{url!r}: only http and https URLs with a host are fetched")
        if first_host is None:
            first_host = host.lower()
        elif host.lower() != first_host:
            raise MediaError("redirect_to_other_host", f"{first_host} redirected to {host}")
        if not host_allowed(host, allowed_hosts):
            raise MediaError("host_not_allowed", f"{host} is not in fetch_hosts")
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = resolve(host, port)
            except (OSError, UnicodeError) as exc:
                raise MediaError("unresolvable", f"{host}: {exc}") from None
        if not addresses:
            raise MediaError("unresolvable", f"{host} has no address")
        for a in addresses:  # every address: a host with one internal address is refused
            why = address_refusal(a, allow_private)
            if why is not None:
                raise MediaError("private_address", f"{host} resolves to {a} ({why})")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MediaError("timeout", f"{url}: over {timeout:g} s")
        conn, address = _connect(parts.scheme, host, port, addresses, remaining, ssl_context)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                                                   "Accept": "image/*, video/*, */*;q=0.5"})
                resp = conn.getresponse()
            except (socket.timeout, TimeoutError):
                raise MediaError("timeout", f"{url}: no answer within {timeout:g} s") from None
            except (OSError, http.client.HTTPException) as exc:
                raise MediaError("fetch_failed", f"{url}: {exc}") from None
            if resp.status in _REDIRECTS:
                location = resp.getheader("Location")
                if not location:
                    raise MediaError("http_status", f"{url}: HTTP {resp.status} without a Location")
                url = urljoin(url, location)
                continue
            if resp.status != 200:
                raise MediaError("http_status", f"{url}: HTTP {resp.status}")
            data = _read(resp, url, max_bytes, deadline, timeout)
            return Fetched(url, address, resp.getheader("Content-Type"), data)
        finally:
            conn.close()
    raise MediaError("too_many_redirects", f"more than {max_redirects} redirects from {url}")


def _connect(scheme: str, host: str, port: int, addresses: list[str], timeout: float,
             ssl_context: ssl.SSLContext | None) -> tuple[http.client.HTTPConnection, str]:
    last: Exception | None = None
    for a in addresses:
        if scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPS(host, port, a, timeout,
                                                            ssl_context or ssl.create_default_context())
        else:
            conn = _PinnedHTTP(host, port, a, timeout)
        try:
            conn.connect()
            return conn, a
        except (socket.timeout, TimeoutError) as exc:
            last = exc
        except OSError as exc:
            last = exc
        conn.close()
    if isinstance(last, (socket.timeout, TimeoutError)):
        raise MediaError("timeout", f"{host}: connecting took over {timeout:.3g} s")
    raise MediaError("fetch_failed", f"{host}: cannot connect: {last}")


def _read(resp: http.client.HTTPResponse, url: str, max_bytes: int, deadline: float, timeout: float) -> bytes:
    length = resp.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise MediaError("too_large", f"{url}: Content-Length {int(length)} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise MediaError("timeout", f"{url}: body not read within {timeout:g} s")
        try:
            chunk = resp.read1(65536)
        except (socket.timeout, TimeoutError):
            raise MediaError("timeout", f"{url}: body not read within {timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise MediaError("fetch_failed", f"{url}: {exc}") from None
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise MediaError("too_large", f"{url}: body over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
