"""Where a channel may send: never inside the server's own network unless the operator says so.

A channel's address is typed by a commander, and the worker then posts to it from inside the
police network: without a rule it would be a way to reach the database, the bureau's intranet
or the server itself (and the delivery page an oracle telling open ports from closed ones).

- A group robot (WeCom, DingTalk, Feishu) goes only to its platform's own hosts, over https.
- A webhook or SMS gateway goes anywhere public, never to a loopback, private, shared,
  link-local, multicast, reserved or unspecified address, nor to one of the server's own.
- `LOUZHANG_CHANNEL_ALLOW` (hosts and networks, comma-separated: `127.0.0.1/32,10.20.0.0/16,
  im.gaj.example`) allows more, for every kind: a bureau's intranet gateway, a private
  deployment of a platform, a test receiver.

The address is checked when a channel is bound (`check_address`) and again when each message
is sent (`delivery_target`), after the name is resolved; the request then goes to the very
address that was checked (a name cannot resolve to a public address for the check and to
127.0.0.1 for the connection), and redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: the hosts each robot kind's platform answers on (the public service)
PLATFORM_HOSTS: dict[str, tuple[str, ...]] = {
    "wecom": ("qyapi.weixin.qq.com",),
    "dingtalk": ("oapi.dingtalk.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
}
_PLATFORM_NAMES = {"wecom": "WeCom", "dingtalk": "DingTalk", "feishu": "Feishu"}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class Refused(ValueError):
    """The address is not one channels may reach (the message says why, without what the
    network looks like)."""


class Unreachable(Exception):
    """The name of the address does not resolve now (retry later)."""


@dataclass(frozen=True)
class Allowance:
    """What the operator allows besides the platforms' hosts (`LOUZHANG_CHANNEL_ALLOW`)."""

    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    def host(self, name: str) -> bool:
        return name in self.hosts

    def address(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def parse_allowance(items: Iterable[str]) -> Allowance:
    """`LOUZHANG_CHANNEL_ALLOW` read: networks (`10.20.0.0/16`, `127.0.0.1`) and host names;
    `ValueError` naming the entry that is neither."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = _host_name(item)
        if not name or any(c in name for c in "/:@ \\") or name.replace(".", "").isdigit():
            raise ValueError(f"LOUZHANG_CHANNEL_ALLOW: {raw!r} is neither a host name nor a network")
        hosts.add(name)
    return Allowance(frozenset(hosts), tuple(networks))


@lru_cache(maxsize=8)
def _allowance(items: tuple[str, ...]) -> Allowance:
    return parse_allowance(items)


def allowance() -> Allowance:
    return _allowance(tuple(getattr(settings, "LOUZHANG_CHANNEL_ALLOW", ()) or ()))


def _host_name(host: str) -> str:
    name = host.strip().lower().rstrip(".")
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number means, in every form the system resolver takes
    (`127.0.0.1`, `2130706433`, `0x7f.1`, `::ffff:127.0.0.1`); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(infos[0][4][0]).split("%")[0])


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 addresses carried inside an IPv6 one (mapped, 6to4, NAT64,
    Teredo): `::ffff:127.0.0.1` is 127.0.0.1."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_own(ip: IPAddress) -> bool:
    """An address of this machine: one a socket can be bound to."""
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(ip), 0))
    except OSError:
        return False
    return True


def is_internal(ip: IPAddress) -> bool:
    """Loopback, private, shared, link-local, multicast, reserved, unspecified, or this
    server's own: what no channel reaches unless allowed."""
    for candidate in _embedded(ip):
        if (candidate.is_loopback or candidate.is_private or candidate.is_link_local
                or candidate.is_multicast or candidate.is_reserved or candidate.is_unspecified
                or not candidate.is_global):
            return True
    return _is_own(ip)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now (tests replace this one function)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(str(exc)) from None
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


@dataclass(frozen=True)
class _Parsed:
    scheme: str
    host: str
    port: int


def _parse(url: str) -> _Parsed:
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise Refused(_("The address may not contain spaces, control characters or backslashes."))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Refused(_("Not an http(s) address: %(url)s") % {"url": url[:100]})
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused(_("The address may not carry a user name or password (user@host)."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(_("The port of the address is not a number from 1 to 65535.")) from None
    host = _host_name(parts.hostname or "")
    if not host:
        raise Refused(_("Not an http(s) address: %(url)s") % {"url": url[:100]})
    return _Parsed(parts.scheme, host, port)


def _not_allowed() -> Refused:
    return Refused(_("Refused by the channel policy: channels do not reach addresses inside the "
                     "network or of this server (the operator may allow one with "
                     "LOUZHANG_CHANNEL_ALLOW)."))


def _check_static(kind: str, parsed: _Parsed, allowed: Allowance) -> IPAddress | None:
    """What can be told without resolving a name; the address when the host is one."""
    ip = literal_address(parsed.host)
    if allowed.host(parsed.host) or (ip is not None and allowed.address(ip)):
        return ip
    platform = PLATFORM_HOSTS.get(kind)
    if platform is not None:
        if parsed.host not in platform:
            raise Refused(_("A %(platform)s robot's address is on %(hosts)s.") % {
                "platform": _PLATFORM_NAMES[kind], "hosts": ", ".join(platform)})
        if parsed.scheme != "https" or parsed.port != 443:
            raise Refused(_("A %(platform)s robot's address begins with https:// and names no "
                            "other port.") % {"platform": _PLATFORM_NAMES[kind]})
        return None
    if ip is not None and is_internal(ip):
        raise _not_allowed()
    if parsed.host in _LOCAL_NAMES or parsed.host.endswith(".localhost"):
        raise _not_allowed()
    return ip


def _check_resolved(parsed: _Parsed, addresses: Sequence[IPAddress], allowed: Allowance) -> None:
    if allowed.host(parsed.host):
        return
    for ip in addresses:
        if not allowed.address(ip) and is_internal(ip):
            raise _not_allowed()


def check_address(kind: str, url: str) -> None:
    """When a channel is bound: `Refused` for an address the channel may never reach. A name
    that resolves now is checked with its addresses; one that does not is checked again, like
    every address, when a message is sent."""
    parsed = _parse(url)
    allowed = allowance()
    if _check_static(kind, parsed, allowed) is not None:
        return
    try:
        addresses = resolve_host(parsed.host, parsed.port)
    except Unreachable:
        return
    _check_resolved(parsed, addresses, allowed)


@dataclass(frozen=True)
class Target:
    """Where one request goes: `url` with the checked address in place of the name, `host`
    the Host header, `sni` the name the TLS certificate must carry."""

    url: str
    host: str
    sni: str | None


def delivery_target(kind: str, url: str) -> Target:
    """When a message is sent: the address to connect to, resolved and checked now.
    `Refused` (for good) or `Unreachable` (the name does not resolve; try later)."""
    parsed = _parse(url)
    allowed = allowance()
    ip = _check_static(kind, parsed, allowed)
    addresses = [ip] if ip is not None else resolve_host(parsed.host, parsed.port)
    if not addresses:
        raise Unreachable("no address")
    _check_resolved(parsed, addresses, allowed)
    import httpx

    original = httpx.URL(url)
    pinned = original.copy_with(host=str(addresses[0]))
    host_header = original.netloc.decode("ascii")
    return Target(str(pinned), host_header,
                  parsed.host if parsed.scheme == "https" and ip is None else None)
