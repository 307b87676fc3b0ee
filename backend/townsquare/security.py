"""Cross-site write protection, CORS for trusted origins, security headers.

Browsers send ``Origin`` (and ``Sec-Fetch-Site``) with every POST, so a write
whose origin is neither this site nor a configured one is refused: that stops
another site from posting forms or scripts on a member's behalf. Clients that
are not browsers send neither header and are not at risk of such forgery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from .errors import Forbidden
from .ratelimit import SAFE_METHODS

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def page_policy(site_url: str) -> str:
    """The page policy, also trusting the static site's own origin.

    Behind a proxy the site and the backend share an origin; reached
    directly, the backend's pages load the site's stylesheet from SITE_URL.
    """
    origin = origin_of(site_url)
    if not origin:
        return PAGE_POLICY
    return PAGE_POLICY.replace("'self';", f"'self' {origin};")


API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


ORIGINS_KEY = "townsquare.origins"


def configured_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """The static site's origin and the other origins allowed to write."""
    found = {origin_of(url) for url in config["ALLOWED_ORIGINS"]}
    found.add(origin_of(config["SITE_URL"]))
    found.discard("")
    return frozenset(found)


def is_cross_origin(origin: str) -> bool:
    origin = origin.lower()
    if origin in current_app.extensions[ORIGINS_KEY]:
        return False
    return origin != origin_of(request.host_url)


def check_write_origin() -> None:
    """Refuse writes sent by a page on another site."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null" or is_cross_origin(origin):
            raise Forbidden(
                "This form was sent from another website. Open the page on this "
                "site and send it from there."
            )
        return
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in (
        "same-origin",
        "none",
    ):
        raise Forbidden("Requests from other websites cannot write here.")


def add_cors(response: Response) -> Response:
    """Let configured origins call the API from their pages' scripts."""
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    if origin and origin.lower() in current_app.extensions[ORIGINS_KEY]:
        response.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


# Sent with every response, pages and API alike.
COMMON_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


def add_security_headers(response: Response) -> Response:
    is_html = response.mimetype == "text/html"
    policy = page_policy(current_app.config["SITE_URL"]) if is_html else API_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in COMMON_HEADERS:
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.extensions[ORIGINS_KEY] = configured_origins(app.config)
    app.before_request(check_write_origin)
    app.after_request(add_cors)
    app.after_request(add_security_headers)
