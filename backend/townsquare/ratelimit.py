"""Rate limits on every write, keyed on the client's real address.

The address is the TCP peer unless ``PROXY_HOPS`` says how many reverse
proxies to trust (see ``create_app``); a client can never pick its own key
with a header. IPv6 clients are counted per /64 network, since anyone with
one such network can use millions of its addresses.
"""

from __future__ import annotations

import ipaddress
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

LIMITER_KEY = "townsquare.limiter"


def client_key() -> str:
    """The rate-limit key: the IPv4 address, or the IPv6 /64 network."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(getattr(address, "ipv4_mapped", None) or address)


def _is_read() -> bool:
    return request.method in SAFE_METHODS


def retry_after() -> int:
    """Seconds until the limit the current request hit lets it through."""
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    hit = limiter.current_limit
    if hit is None:
        return 60
    return max(1, math.ceil(hit.reset_at - time.time()))


def init_app(app: Flask) -> Limiter:
    """Limit all writes across all routes with one counter per client."""
    limiter = Limiter(
        client_key,
        app=app,
        # A fixed string, parsed once: the setting cannot change at run time.
        application_limits=[app.config["RATE_LIMIT_WRITES"]],
        storage_uri="memory://",
        # Rate headers on every write cost time for nobody's benefit; the
        # 429 answer carries Retry-After (see errorpages).
        headers_enabled=False,
    )
    # Reads skip the limiter before it works out any limit: most traffic
    # is reads, and they change nothing.
    limiter.request_filter(_is_read)
    app.extensions[LIMITER_KEY] = limiter
    return limiter
