"""Caps on the shape of requests, beyond Flask's byte limit.

``MAX_CONTENT_LENGTH`` refuses large declared bodies, but two shapes slip
past it: a body streamed without a length, which Werkzeug would cut short
and parse anyway, and a small urlencoded form with thousands of fields.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .ratelimit import SAFE_METHODS

_TOO_LARGE = "townsquare.body_too_large"


class SizeUnsizedBodies:
    """WSGI middleware: buffer a body sent without a length, up to the limit.

    Werkzeug would otherwise stop reading at the limit and parse the part it
    read. A longer body is dropped and flagged for a 413.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self._app = app
        self._limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # A server marks a streamed (chunked) body as terminated; its length,
        # if any, is not to be trusted.
        if environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(self._limit + 1)
            if len(body) > self._limit:
                environ[_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            del environ["wsgi.input_terminated"]
        result: Iterable[bytes] = self._app(environ, start_response)
        return result


def check_request_shape() -> None:
    if request.environ.get(_TOO_LARGE):
        raise RequestEntityTooLarge()
    if request.method in SAFE_METHODS:
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        fields = sum(1 for _ in request.form.items(multi=True))
        if fields > current_app.config["MAX_FORM_FIELDS"]:
            raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.wsgi_app = SizeUnsizedBodies(app.wsgi_app, limit)  # type: ignore[method-assign]
    app.before_request(check_request_shape)
