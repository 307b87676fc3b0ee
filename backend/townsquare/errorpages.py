"""One handler shapes every error: JSON for scripts, a page for form posts.

JSON errors always look like::

    {"error": {"status": 400, "code": "invalid_input",
               "message": "There is a problem with your comment.",
               "fields": {"body": "Write your comment"}}}

A browser that posted an ordinary HTML form gets a readable page with the
same message instead, because it cannot show JSON to a person.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .errors import TownsquareError
from .ratelimit import retry_after

logger = logging.getLogger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# What a person should read for each HTTP error, instead of the server's jargon.
MESSAGES = {
    400: "The request could not be read. Reload the page and try again.",
    404: "There is nothing at this address. Check it and try again.",
    405: "This address does not accept that kind of request.",
    413: "What you sent is too large. Shorten your comment and try again.",
    415: "Send the data as JSON or as an HTML form.",
    429: (
        "You have sent a lot in a short time. Please wait a few minutes and try again."
    ),
    500: "Something went wrong on our side. Please try again later.",
}


def wants_html() -> bool:
    """True for ordinary form posts and page visits from a browser."""
    if request.mimetype in FORM_TYPES:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.method == "GET" and best == "text/html"


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    if wants_html():
        title = HTTP_STATUS_CODES.get(status, "Error")
        html = render_template("error.html", title=title, message=message)
        return Response(html, status=status, mimetype="text/html")
    response = jsonify(error=body)
    response.status_code = status
    return response


def _handle_domain(error: TownsquareError) -> Response:
    if error.status >= 500:
        logger.error("%s: %s", type(error).__name__, error.message)
    fields = getattr(error, "fields", None)
    return error_response(error.status, error.code, error.message, fields)


def _handle_http(error: HTTPException) -> Response:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    response = error_response(
        status, code, MESSAGES.get(status, error.description or "")
    )
    # Keep headers the exception carries (Allow on 405).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if isinstance(error, RateLimitExceeded):
        response.headers["Retry-After"] = str(retry_after())
    return response


def _handle_unexpected(error: Exception) -> Response:
    logger.exception("Unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", MESSAGES[500])


def init_app(app: Flask) -> None:
    app.register_error_handler(TownsquareError, _handle_domain)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
