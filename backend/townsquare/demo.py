"""Serve the built site and the backend together, for ``townsquare demo``.

A production install puts the static site on a static host (or a web
server) and runs only the backend; here one process does both on one port.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, send_from_directory
from werkzeug.security import safe_join

from .security import PAGE_POLICY


def add_static_site(app: Flask, output_dir: Path) -> None:
    """Answer every non-API path from the built site in ``output_dir``."""
    root = output_dir.resolve()

    def static_page(path: str = "") -> Response:
        target = safe_join(str(root), path)
        if target is None or any(part.startswith(".") for part in path.split("/")):
            abort(404)
        if path == "" or path.endswith("/"):
            path += "index.html"
        elif Path(target).is_dir():
            # Relative links on the page need the trailing slash.
            return Response(status=308, headers={"Location": f"/{path}/"})
        response = send_from_directory(root, path, max_age=0)
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response

    app.add_url_rule("/", "site_index", static_page)
    app.add_url_rule("/<path:path>", "site_page", static_page)
