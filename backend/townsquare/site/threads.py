"""Comment threads as the theme's templates see them.

The Pelican plugin and the incremental publisher both build a :class:`Thread`
from the same exported data with :func:`build_thread`, so a page re-rendered
after one new comment is identical to the same page from a full build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(slots=True)
class ThreadComment:
    """A published comment as the templates show it.

    Attributes rather than dict keys: Jinja looks names up as attributes
    first, and a miss costs an exception per lookup, per comment.
    """

    id: int
    parent: int | None
    author: str
    html: str
    created: str
    created_display: str
    replies: list[ThreadComment] = field(default_factory=list)


@dataclass
class Thread:
    """One page's published comments, nested by reply."""

    slug: str
    url: str
    title: str
    open: bool
    api: str
    count: int = 0
    last_id: int = 0
    comments: list[ThreadComment] = field(default_factory=list)


MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def display_time(iso: str, timezone: str) -> str:
    """'4 December 2026, 15:02' in the site's time zone.

    A time that cannot be read is shown as it is rather than stop a build.
    """
    try:
        moment = datetime.fromisoformat(iso).astimezone(_zone(timezone))
    except ValueError:
        return iso
    # Month names from our own table: strftime's follow the process locale,
    # which Pelican may change mid-build.
    month = MONTHS[moment.month - 1]
    return f"{moment.day} {month} {moment.year}, {moment.hour:02d}:{moment.minute:02d}"


def nest(comments: Iterable[Mapping[str, Any]], timezone: str) -> list[ThreadComment]:
    """Return top-level comments, each with its ``replies``, oldest first.

    A reply whose parent is not published is shown at the top level rather
    than lost.
    """
    by_id: dict[int, ThreadComment] = {}
    for c in comments:
        by_id[c["id"]] = ThreadComment(
            id=c["id"],
            parent=c["parent"],
            author=c["author"],
            html=c["html"],
            created=c["created"],
            created_display=display_time(c["created"], timezone),
        )
    roots: list[ThreadComment] = []
    for item in by_id.values():
        parent = by_id.get(item.parent) if item.parent else None
        (parent.replies if parent else roots).append(item)
    return roots


def build_thread(
    page: Mapping[str, Any],
    exported: Mapping[str, Any] | None,
    *,
    is_open: bool,
    api: str,
    timezone: str,
) -> Thread:
    """Combine a page's manifest entry and its exported comments."""
    comments = list(exported["comments"]) if exported else []
    return Thread(
        slug=page["slug"],
        url=page["url"],
        title=page["title"],
        open=is_open,
        api=api,
        count=len(comments),
        last_id=max((c["id"] for c in comments), default=0),
        comments=nest(comments, timezone),
    )
