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

from ..site.threads import display_time
from ..storage.comments import CommentStore


class CommentFeed:
    def __init__(self, comments: CommentStore, max_entries: int = 4096) -> None:
        self._comments = comments
        self._max = max_entries
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
            self._cache[key] = (revision, body)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return body, revision

    def _encode(self, page: str, after: int, timezone: str) -> bytes:
        published = self._comments.for_page(page)
        newer = []
        for comment in published:
            if comment.id > after:
                item = comment.public()
                item["created_display"] = display_time(comment.created, timezone)
                newer.append(item)
        document = {"page": page, "count": len(published), "comments": newer}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
