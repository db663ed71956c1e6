"""Who the client is, behind proxies: the address the per-address cap counts.

Behind nginx, a load balancer or a corporate NAT, ``REMOTE_ADDR`` is one address for
everyone. So the per-address cap (``SSE_MAX_CONNECTIONS_PER_IP``) is off unless set,
and when a request comes from an address in ``SSE_TRUSTED_PROXIES`` the client is
the rightmost ``X-Forwarded-For`` entry that is not itself a trusted proxy (each
proxy appends the address it saw; only the entries our own proxies wrote can be
believed). A header from any other address is ignored: a client cannot choose
its own address. The ``django_sse.W005`` check flags a cap that would count a
proxy, and the first such request a process sees is logged.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Warning as CheckWarning
from django.http import HttpRequest

from django_sse.conf import conf

logger = logging.getLogger("django_sse.proxies")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_warned = False  # this process has reported an untrusted proxy (it does so once)


def network_problem(value: object) -> str | None:
    """Why ``value`` is not an address or network for ``SSE_TRUSTED_PROXIES``."""
    if not isinstance(value, str):
        return f"{value!r} is not a str"
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _ip(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(ip: Address | None, networks: Sequence[Network]) -> bool:
    return ip is not None and any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or what trusted proxies say it is."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not forwarded:
        return remote
    networks = _networks(tuple(conf.SSE_TRUSTED_PROXIES))
    if not _trusted(_ip(remote), networks):
        _warn_once(remote)
        return remote
    hops = [hop.strip() for hop in str(forwarded).split(",")]
    for hop in reversed(hops):
        ip = _ip(hop)
        if not _trusted(ip, networks):
            return hop if ip is not None else remote
    return hops[0]  # every hop is one of ours, so an address


def _warn_once(remote: str) -> None:
    global _warned
    if _warned or not conf.SSE_MAX_CONNECTIONS_PER_IP:
        return  # once per process: any client can send the header, the log stays short
    _warned = True
    logger.warning(
        "streams come through a proxy at %s (they carry X-Forwarded-For), which is not in "
        "SSE_TRUSTED_PROXIES: SSE_MAX_CONNECTIONS_PER_IP counts all of its clients as one",
        remote,
    )


def check_proxies(app_configs: Iterable[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    """W005: a per-address cap in a project that says it runs behind a proxy."""
    cap = conf.raw("SSE_MAX_CONNECTIONS_PER_IP")
    behind = [
        name
        for name in ("SECURE_PROXY_SSL_HEADER", "USE_X_FORWARDED_HOST", "USE_X_FORWARDED_PORT")
        if getattr(settings, name, None)
    ]
    if not cap or not behind or conf.raw("SSE_TRUSTED_PROXIES"):
        return []
    return [
        CheckWarning(
            f"SSE_MAX_CONNECTIONS_PER_IP = {cap!r} behind a proxy ({', '.join(behind)} is "
            "set) with no SSE_TRUSTED_PROXIES: every client comes from the proxy's address, "
            f"so the first {cap} streams of the whole site fill the cap and the rest are "
            "refused.",
            hint="List your proxies' addresses in SSE_TRUSTED_PROXIES (the cap then counts "
            "the X-Forwarded-For client), or remove SSE_MAX_CONNECTIONS_PER_IP.",
            id="django_sse.W005",
        )
    ]
