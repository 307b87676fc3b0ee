"""The live comment list: JSON served from memory until the page changes.

Most requests come from the enhancement script on a static page, asking for
comments newer than the page's build. The encoded answer is cached per page
and ``after`` id, keyed on the store's revision of that page, so a read costs
a few ``stat`` calls and no Markdown, JSON or template work.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from ..site.threads import display_time
from ..storage.comments import Comment, CommentStore


def public_item(comment: Comment, timezone: str) -> dict[str, Any]:
    """A comment as the API shows it: public fields and a readable time."""
    item = comment.public()
    item["created_display"] = display_time(comment.created, timezone)
    return item


class CommentFeed:
    def __init__(self, comments: CommentStore, max_bytes: int = 16 * 1024 * 1024):
        self._comments = comments
        self._max_bytes = max_bytes
        self._bytes = 0
        self._cache: OrderedDict[tuple[str, int], tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def encoded(self, page: str, after: int, timezone: str) -> tuple[bytes, str]:
        """Return the JSON body and its revision for ``page`` after ``after``."""
        revision = self._comments.revision(page)
        key = (page, after)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == revision:
                self._cache.move_to_end(key)
                return hit[1], revision
        body = self._encode(page, after, timezone)
        with self._lock:
            old = self._cache.pop(key, None)
            self._bytes -= len(old[1]) if old else 0
            self._cache[key] = (revision, body)
            self._bytes += len(body)
            # Bounded by size: any reader may ask for any ``after``.
            while self._bytes > self._max_bytes and len(self._cache) > 1:
                self._bytes -= len(self._cache.popitem(last=False)[1][1])
        return body, revision

    def _encode(self, page: str, after: int, timezone: str) -> bytes:
        published = self._comments.for_page(page)
        newer = [public_item(c, timezone) for c in published if c.id > after]
        document = {"page": page, "count": len(published), "comments": newer}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
