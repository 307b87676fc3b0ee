"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, errorpages, ratelimit, requestlimits, security, templating
from .comments.api import bp as comments_bp
from .comments.feed import CommentFeed
from .comments.shortcut import LiveListShortcut
from .pages import PageDirectory, manifest_path
from .services import EXTENSION_KEY, Services
from .storage import open_configured_store

logger = logging.getLogger(__name__)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the backend app from settings (see :mod:`townsquare.config`)."""
    settings = config.load(overrides)
    app = Flask(__name__)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_REQUEST_BYTES"]
    app.config["MAX_FORM_PARTS"] = settings["MAX_FORM_FIELDS"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    store = open_configured_store(settings)
    manifest = manifest_path(Path(settings["OUTPUT_DIR"]))
    if not manifest.exists():
        logger.warning(
            "No site build at %s, so every page is unknown: run `townsquare "
            "publish` (or `townsquare build`) first.",
            manifest,
        )
    pages = PageDirectory(manifest)
    found = Services(store=store, pages=pages, feed=CommentFeed(store.comments))
    app.extensions[EXTENSION_KEY] = found

    # Order matters: writes from other sites are refused before they can
    # count against a member's rate limit.
    security.init_app(app)
    ratelimit.init_app(app)
    requestlimits.init_app(app)
    errorpages.init_app(app)
    app.register_blueprint(comments_bp)
    app.add_url_rule("/api/health", "health", _health)
    templating.init_app(app)
    # WSGI layers, innermost first. ProxyFix sets the client address from
    # the trusted hops; the shortcut is outermost, so the most frequent
    # read skips every other layer.
    hops = settings["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
        logger.info("Trusting X-Forwarded-For from %d proxy hop(s)", hops)
    app.wsgi_app = LiveListShortcut(app.wsgi_app, found)  # type: ignore[method-assign]
    logger.info("Backend ready: data in %s", settings["DATA_DIR"])
    return app


def _health() -> Response:
    return jsonify(status="ok")
