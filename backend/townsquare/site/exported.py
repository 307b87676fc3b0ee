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
    """Return a page's exported comments, or None (logged) if unreadable."""
    path = comments_file(data_dir, slug)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        logger.error(
            "Skipping comments in %s: %s. Run `townsquare publish`.", path, exc
        )
        return None
    if not isinstance(data.get("comments"), list):
        logger.error("Skipping %s: it has no comment list.", path)
        return None
    return data
