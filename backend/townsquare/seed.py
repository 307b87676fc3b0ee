"""Load the demo community's invented comments into an empty store."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .comments import rendering
from .storage import Store
from .storage.comments import PUBLISHED, NewComment

logger = logging.getLogger(__name__)


def seed_demo(store: Store, path: Path) -> int:
    """Add the comments in ``path`` if the store has none; return how many."""
    if store.comments.pages() or not path.exists():
        return 0
    added = 0
    for item in json.loads(path.read_text(encoding="utf-8")):
        added += _add_thread(store, item["page"], [item], parent=None)
    logger.info("Seeded %d demo comments from %s", added, path)
    return added


def _add_thread(
    store: Store, page: str, items: Iterable[Mapping[str, Any]], parent: int | None
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
            ),
        )
        added += 1 + _add_thread(store, page, item.get("replies", []), comment.id)
    return added
