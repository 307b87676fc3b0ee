"""A shortcut for the most frequent request: the live list of a page.

Every reader with JavaScript asks for the comments newer than the page's
build. The answer is already encoded in the :class:`~.feed.CommentFeed`
cache, so this WSGI middleware hands it out (or a 304 for an unchanged
list) without the Flask request cycle, which costs more than the answer
itself. Anything else about the request (another method, a query it does
not know, a cross-origin caller, an unknown page) goes to the Flask app
unchanged, and the app's route gives the same answer the slow way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ..security import API_POLICY, COMMON_HEADERS
from ..services import Services
from ..storage.comments import PAGE_KEY_PATTERN

_PATH = re.compile(rf"/api/pages/({PAGE_KEY_PATTERN})/comments")
_QUERY = re.compile(r"(?:after=(\d{1,12}))?")

StartResponse = Callable[..., Any]

_HEADERS = (
    ("Cache-Control", "no-cache"),
    ("Vary", "Origin"),
    ("Content-Security-Policy", API_POLICY),
    *COMMON_HEADERS,
)


class LiveListShortcut:
    def __init__(self, app: Any, services: Services) -> None:
        self._app = app
        self._services = services

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        answer = self._answer(environ)
        if answer is None:
            result: Iterable[bytes] = self._app(environ, start_response)
            return result
        body, revision = answer
        etag = f'"{revision}"'
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            # A returning reader with nothing new: the common case.
            start_response("304 Not Modified", [("ETag", etag), *_HEADERS])
            return []
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("ETag", etag),
                *_HEADERS,
            ],
        )
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[bytes, str] | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        if environ.get("HTTP_ORIGIN"):
            return None
        path = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        query = _QUERY.fullmatch(environ.get("QUERY_STRING", ""))
        if path is None or query is None:
            return None
        manifest = self._services.pages.manifest()
        slug = path.group(1)
        if slug not in manifest.pages:
            return None
        after = int(query.group(1) or 0)
        return self._services.feed.encoded(slug, after, manifest.timezone)
