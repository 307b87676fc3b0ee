"""Rate limits on every write, keyed on the client's real address.

The address is the TCP peer unless ``PROXY_HOPS`` says how many reverse
proxies to trust; then ``ProxyFix`` takes it from that many hops of
``X-Forwarded-For``. A client can never pick its own key with a header.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _write_limit() -> str:
    limit: str = current_app.config["RATE_LIMIT_WRITES"]
    return limit


def retry_after(error: RateLimitExceeded) -> int:
    """Seconds until the window of the limit that was hit ends."""
    seconds: int = error.limit.limit.get_expiry()
    return seconds


def _is_read() -> bool:
    return request.method in SAFE_METHODS


def init_app(app: Flask) -> Limiter:
    """Trust the configured proxies and limit all writes across all routes."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
        logger.info("Trusting X-Forwarded-For from %d proxy hop(s)", hops)
    # One counter shared by every write route: a client cannot spread its
    # writes across endpoints to get more.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=[_write_limit],
        application_limits_exempt_when=_is_read,
        storage_uri="memory://",
        # Rate headers on every write cost time for nobody's benefit; the
        # 429 answer carries Retry-After (see errorpages).
        headers_enabled=False,
    )
    # Reads skip the limiter before it works out any limit: most traffic
    # is reads, and they change nothing.
    limiter.request_filter(_is_read)
    return limiter
