"""Which pages exist and take contributions, as the last site build saw them.

The Pelican build writes a manifest of every topic and update (see
:mod:`townsquare.site.plugin`). The backend trusts only that list: a comment
for a page that is not in it, or that is closed, is refused.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import Closed, NotFound

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
STATE_FOLDER = ".townsquare"


def manifest_path(output_dir: Path) -> Path:
    return output_dir / STATE_FOLDER / MANIFEST_NAME


@dataclass(frozen=True)
class Page:
    """A page members can comment on."""

    slug: str
    url: str
    title: str
    kind: str
    open: bool
    closes: str | None = None

    def is_open(self, now: datetime | None = None) -> bool:
        if not self.open:
            return False
        if self.closes is None:
            return True
        now = now or datetime.now(UTC)
        return now < datetime.fromisoformat(self.closes)

    def path(self) -> str:
        """The page's address on this site, always a local path."""
        return "/" + self.url.lstrip("/")


@dataclass(frozen=True)
class Manifest:
    pages: dict[str, Page]
    timezone: str = "UTC"
    sitename: str = "Townsquare"
    api: str = "/api"
    templates: str = ""
    theme: dict[str, str] = field(default_factory=dict)


class PageDirectory:
    """Reads the manifest, reloading it whenever a build replaces it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._key: tuple[int, int] | None = None
        self._manifest = Manifest(pages={})

    def manifest(self) -> Manifest:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return Manifest(pages={})
        key = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if key != self._key:
                self._key = key
                try:
                    self._manifest = load_manifest(self._path)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    # Keep serving the pages we knew; say once how to fix it.
                    logger.error(
                        "Cannot read %s (%s); still using the previous list of "
                        "pages. Run `townsquare build` to write it again.",
                        self._path,
                        exc,
                    )
            return self._manifest

    def get(self, slug: str) -> Page:
        """Return the page, or raise :class:`NotFound` saying what to check."""
        page = self.manifest().pages.get(slug)
        if page is None:
            raise NotFound(f"There is no page called {slug!r}. Check the address.")
        return page

    def get_open(self, slug: str) -> Page:
        page = self.get(slug)
        if not page.is_open():
            raise Closed(f"“{page.title}” is closed and takes no more comments.")
        return page


def load_manifest(path: Path) -> Manifest:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    pages = {item["slug"]: Page(**item) for item in data.get("pages", [])}
    logger.debug("Loaded %d pages from %s", len(pages), path)
    return Manifest(
        pages=pages,
        timezone=data.get("timezone", "UTC"),
        sitename=data.get("sitename", "Townsquare"),
        api=data.get("api", "/api"),
        templates=data.get("templates", ""),
        theme=data.get("theme", {}),
    )
