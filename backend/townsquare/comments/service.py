"""Taking a comment: the steps between a request's fields and the store."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInput
from ..pages import PageDirectory
from ..signals import comment_added
from ..storage.comments import PENDING, PUBLISHED, Comment, CommentStore, NewComment
from . import rendering, validation

logger = logging.getLogger(__name__)


def submit(
    comments: CommentStore,
    pages: PageDirectory,
    settings: Mapping[str, Any],
    slug: str,
    data: Mapping[str, Any],
    client_address: str,
) -> Comment:
    """Validate, render and store one comment; announce it to subscribers."""
    page = pages.get_open(slug)
    limits = validation.Limits(
        name=settings["NAME_MAX_LENGTH"], body=settings["COMMENT_MAX_LENGTH"]
    )
    submission, errors = validation.clean(data, limits)
    if submission.parent and not published_parent(comments, slug, submission.parent):
        errors["parent"] = "The comment you are replying to is not available any more"
    html = rendering.render(submission.body)
    if submission.body and "body" not in errors and not rendering.has_text(html):
        errors["body"] = (
            "Write your comment in words; code and markup alone are removed"
        )
    if errors:
        raise InvalidInput(validation.PROBLEM, errors)

    status = PENDING if settings["MODERATION"] == "pre" else PUBLISHED
    comment = comments.add(
        page.slug,
        NewComment(
            author=submission.author,
            body=submission.body,
            html=html,
            status=status,
            parent=submission.parent,
            email=submission.email,
            client=anonymise(client_address),
        ),
    )
    logger.info("Comment %d on %s stored as %s", comment.id, page.slug, status)
    comment_added.send(comments, comment=comment)
    return comment


def published_parent(
    comments: CommentStore, slug: str, parent_id: int
) -> Comment | None:
    """The comment being replied to, if it exists and is published."""
    parent = comments.get(slug, parent_id)
    return parent if parent is not None and parent.status == PUBLISHED else None


def anonymise(address: str) -> str:
    """Keep the network, not the host: a /24 for IPv4, a /48 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
