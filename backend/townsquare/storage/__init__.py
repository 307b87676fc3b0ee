"""Storage: every read and write of contributions goes through this package.

:func:`open_store` checks the schema and returns the repositories. Nothing
outside this package imports TinyDB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import DEFAULTS
from . import schema
from .comments import CommentStore, TinyCommentStore
from .jsonfile import ParsedFileCache


@dataclass(frozen=True)
class Store:
    """The repositories of one data folder."""

    root: Path
    comments: CommentStore


def open_store(
    root: Path,
    *,
    segment_size: int = DEFAULTS["SEGMENT_SIZE"],
    cache_mb: int = DEFAULTS["CACHE_MB"],
) -> Store:
    """Open (creating or migrating as needed) the store in ``root``."""
    schema.ensure_current(root)
    cache = ParsedFileCache(cache_mb * 1024 * 1024)
    return Store(root=root, comments=TinyCommentStore(root, segment_size, cache))


def open_configured_store(settings: Mapping[str, Any]) -> Store:
    """Open the store that validated settings point at."""
    return open_store(
        Path(settings["DATA_DIR"]),
        segment_size=settings["SEGMENT_SIZE"],
        cache_mb=settings["CACHE_MB"],
    )
