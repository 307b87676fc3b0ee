"""The published-comment files that ``townsquare publish`` writes into the site.

One JSON file per page under ``site/data/comments/<slug>.json`` holding only
public fields. They are committed with the site, so any static host can
rebuild the pages without the backend or its private store.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FOLDER = "comments"


def comments_file(data_dir: Path, slug: str) -> Path:
    return data_dir / FOLDER / f"{slug}.json"


def read(data_dir: Path, slug: str) -> dict[str, Any] | None:
    """Return a page's exported comments, or None (logged) if unreadable.

    Damaged records are left out, so one bad entry never stops a build.
    """
    path = comments_file(data_dir, slug)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        logger.error("Skipping %s: %s. Run `townsquare publish` to redo it.", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        logger.error(
            "Skipping %s: no comment list. Run `townsquare publish` to redo it.",
            path,
        )
        return None
    records = [record for record in data["comments"] if _is_valid(record)]
    if len(records) < len(data["comments"]):
        logger.error(
            "Skipping %d damaged comment(s) in %s. Run `townsquare publish`.",
            len(data["comments"]) - len(records),
            path,
        )
    return {**data, "comments": records}


def _is_valid(record: Any) -> bool:
    """True if ``record`` has every public field with the right type."""
    if not isinstance(record, dict):
        return False
    parent = record.get("parent")
    # An unreadable time is shown as written (see display_time), not fatal.
    return (
        type(record.get("id")) is int
        and (parent is None or type(parent) is int)
        and isinstance(record.get("author"), str)
        and isinstance(record.get("html"), str)
        and isinstance(record.get("created"), str)
    )
