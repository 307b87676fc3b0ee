"""Comment routes: a JSON API for scripts and other clients, and form posts.

``POST /api/pages/<slug>/comments`` takes JSON or an ordinary HTML form.
Scripts get ``201`` with the comment; browsers without JavaScript are sent
back to the page with a confirmation anchor (``#comment-published`` or
``#comment-pending``), which the theme shows with CSS alone.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import UnsupportedMediaType

from ..errorpages import FORM_TYPES
from ..errors import InvalidInput, NotFound
from ..services import services
from ..storage.comments import PUBLISHED
from . import service
from .feed import public_item
from .validation import parse_id

bp = Blueprint("comments", __name__, url_prefix="/api/pages/<slug>/comments")

CONFIRMATIONS = {
    "published": "Your comment is published.",
    "pending": "Thank you. A moderator will read your comment before it is published.",
}


@bp.get("")
def list_comments(slug: str) -> Response:
    """Published comments, oldest first; ``?after=ID`` for newer ones only."""
    found = services()
    manifest = found.pages.manifest()
    found.pages.get(slug)
    body, revision = found.feed.encoded(slug, _after_argument(), manifest.timezone)
    response = Response(body, mimetype="application/json")
    response.set_etag(revision)
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


@bp.post("")
def post_comment(slug: str) -> Response:
    found = services()
    is_form = request.mimetype in FORM_TYPES
    data = _form_fields() if is_form else _json_object()
    try:
        comment = service.submit(
            found.store.comments,
            found.pages,
            current_app.config,
            slug,
            data,
            request.remote_addr or "",
        )
    except InvalidInput as error:
        if not is_form:
            raise
        return _form_page(slug, data, error.fields, status=400)
    if is_form:
        page = found.pages.get(slug)
        anchor = (
            "comment-published" if comment.status == PUBLISHED else "comment-pending"
        )
        site = current_app.config["SITE_URL"]
        return redirect(f"{site}{page.path()}#{anchor}", code=303)  # type: ignore[return-value]
    timezone = found.pages.manifest().timezone
    payload = {**public_item(comment, timezone), "status": comment.status}
    response = jsonify(comment=payload, message=CONFIRMATIONS[comment.status])
    response.status_code = 201
    return response


@bp.get("/<comment_id>/reply")
def reply_form(slug: str, comment_id: str) -> Response:
    """A reply form for browsers without JavaScript."""
    if parse_id(comment_id) is None:
        raise NotFound("That comment is not available to reply to.")
    return _form_page(slug, {"parent": comment_id}, {}, status=200)


def _form_page(
    slug: str, values: dict[str, Any], errors: dict[str, str], status: int
) -> Response:
    found = services()
    page = found.pages.get_open(slug)
    parent = None
    raw_parent = values.get("parent") or ""
    parent_id = parse_id(raw_parent)
    if parent_id is not None:
        parent = service.published_parent(found.store.comments, slug, parent_id)
    if raw_parent and parent is None:
        if not errors:
            raise NotFound("That comment is not available to reply to.")
        # Keep what the member wrote: it can still be posted as a comment.
        values = {**values, "parent": ""}
    html = render_template(
        "comment_form.html",
        page=page,
        parent=parent,
        values=values,
        errors=errors,
        name_limit=current_app.config["NAME_MAX_LENGTH"],
        body_limit=current_app.config["COMMENT_MAX_LENGTH"],
    )
    return Response(html, status=status, mimetype="text/html")


def _after_argument() -> int:
    after = parse_id(request.args.get("after", "0"))
    if after is None:
        raise InvalidInput("'after' must be a comment id (a whole number).")
    return after


def _form_fields() -> dict[str, Any]:
    return {key: request.form.get(key) for key in ("author", "body", "email", "parent")}


def _json_object() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        # Deeply nested input exhausts the parser's stack; it is bad input.
        data = None
    if not isinstance(data, dict):
        raise InvalidInput('Send the comment as a JSON object, e.g. {"author": …}.')
    return data
