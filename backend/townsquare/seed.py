"""Load the demo community's invented comments into an empty store."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .comments import rendering
from .storage import Store
from .storage.comments import PUBLISHED, NewComment

logger = logging.getLogger(__name__)


# Demo comments are dated as if they arrived over the past weeks.
SPACING = timedelta(hours=7)


def seed_demo(store: Store, path: Path) -> int:
    """Add the comments in ``path`` if the store has none; return how many."""
    if store.comments.pages() or not path.exists():
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    clock = iter(_timestamps(sum(_size(item) for item in items)))
    added = 0
    for item in items:
        added += _add_thread(store, item["page"], [item], None, clock)
    logger.info("Seeded %d demo comments from %s", added, path)
    return added


def _size(item: Mapping[str, Any]) -> int:
    return 1 + sum(_size(reply) for reply in item.get("replies", []))


def _timestamps(count: int) -> list[str]:
    now = datetime.now(UTC)
    moments = [now - SPACING * (count - index) for index in range(count)]
    return [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in moments]


def _add_thread(
    store: Store,
    page: str,
    items: Iterable[Mapping[str, Any]],
    parent: int | None,
    clock: Iterator[str],
) -> int:
    added = 0
    for item in items:
        comment = store.comments.add(
            page,
            NewComment(
                author=item["author"],
                body=item["body"],
                html=rendering.render(item["body"]),
                status=PUBLISHED,
                parent=parent,
                created=next(clock),
            ),
        )
        replies = item.get("replies", [])
        added += 1 + _add_thread(store, page, replies, comment.id, clock)
    return added
