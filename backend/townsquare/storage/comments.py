"""The comment repository: the only way the rest of Townsquare stores comments.

:class:`CommentStore` is the interface; :class:`TinyCommentStore` keeps each
page's comments in a :class:`~.segments.SegmentedSeries` of TinyDB files. A
store on a database server implements the same protocol.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import NotFound
from .jsonfile import ParsedFileCache
from .segments import SegmentedSeries

PUBLISHED = "published"
PENDING = "pending"
HIDDEN = "hidden"
STATUSES = (PUBLISHED, PENDING, HIDDEN)

# Page keys become folder names: letters, digits, dot, dash, underscore.
PAGE_KEY_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}"
_PAGE_KEY = re.compile(PAGE_KEY_PATTERN)

# Fields that may leave the server in an export or a public API response.
PUBLIC_FIELDS = ("id", "parent", "author", "html", "created")


@dataclass(frozen=True)
class NewComment:
    """A validated comment, ready to store. The server sets every field."""

    author: str
    body: str
    html: str
    status: str
    parent: int | None = None
    email: str = ""
    # A shortened client address: enough for abuse handling, not a person.
    client: str = ""
    created: str = field(default_factory=lambda: utc_now())


@dataclass(frozen=True)
class Comment(NewComment):
    id: int = 0
    page: str = ""

    def public(self) -> dict[str, Any]:
        """The fields anyone may see."""
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CommentStore(Protocol):
    """What the backend and the publisher need from comment storage."""

    def add(self, page: str, comment: NewComment) -> Comment: ...

    def add_many(self, page: str, comments: Sequence[NewComment]) -> list[Comment]: ...

    def get(self, page: str, comment_id: int) -> Comment | None: ...

    def for_page(
        self, page: str, *, after: int = 0, statuses: Collection[str] = (PUBLISHED,)
    ) -> list[Comment]: ...

    def set_status(self, page: str, comment_id: int, status: str) -> Comment: ...

    def revision(self, page: str) -> str: ...

    def pages(self) -> list[str]: ...


class TinyCommentStore:
    """Comments in TinyDB segment files under ``<root>/comments/<page>/``."""

    def __init__(self, root: Path, segment_size: int, cache: ParsedFileCache):
        self._folder = root / "comments"
        self._segment_size = segment_size
        self._cache = cache

    def add(self, page: str, comment: NewComment) -> Comment:
        return self.add_many(page, [comment])[0]

    def add_many(self, page: str, comments: Sequence[NewComment]) -> list[Comment]:
        # vars() copies the fields; dataclasses.asdict deep-copies, slowly.
        records = [dict(vars(comment)) for comment in comments]
        ids = self._series(page).append(records)
        return [
            Comment(**record, id=new_id, page=page)
            for record, new_id in zip(records, ids, strict=True)
        ]

    def get(self, page: str, comment_id: int) -> Comment | None:
        record = self._series(page).get(comment_id)
        return None if record is None else _to_comment(page, record)

    def for_page(
        self, page: str, *, after: int = 0, statuses: Collection[str] = (PUBLISHED,)
    ) -> list[Comment]:
        return [
            _to_comment(page, record)
            for record in self._series(page).records(after)
            if record.get("status") in statuses
        ]

    def set_status(self, page: str, comment_id: int, status: str) -> Comment:
        if status not in STATUSES:
            raise ValueError(f"Unknown comment status {status!r}")
        record = self._series(page).update(comment_id, {"status": status})
        if record is None:
            raise NotFound(f"There is no comment {comment_id} on page {page}.")
        return _to_comment(page, record)

    def revision(self, page: str) -> str:
        return self._series(page).revision()

    def pages(self) -> list[str]:
        """Pages that have comments; stray folders (lost+found...) are not."""
        try:
            folders = [p.name for p in self._folder.iterdir() if p.is_dir()]
        except FileNotFoundError:
            return []
        return sorted(name for name in folders if _PAGE_KEY.fullmatch(name))

    def _series(self, page: str) -> SegmentedSeries:
        if not _PAGE_KEY.fullmatch(page):
            raise NotFound(f"{page!r} is not a page address.")
        return SegmentedSeries(self._folder / page, self._segment_size, self._cache)


def _to_comment(page: str, record: dict[str, Any]) -> Comment:
    known = {name: record[name] for name in _FIELD_NAMES if name in record}
    return Comment(**known, page=page)


_FIELD_NAMES = tuple(f for f in Comment.__dataclass_fields__ if f != "page")
