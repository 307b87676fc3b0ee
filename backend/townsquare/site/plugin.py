"""Pelican plugin: comments into topic pages, and the manifest of pages.

Enabled by ``PLUGINS = ["townsquare.site.plugin"]`` in ``pelicanconf.py``.

* Every article (topic or update) gets ``discussion`` ("open"/"closed"),
  ``closes`` (a datetime or None) and ``thread`` (its published comments as a
  :class:`~townsquare.site.threads.Thread`) for the theme's templates.
* After the build, ``.townsquare/manifest.json`` in the output lists the
  pages the backend may accept comments for.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican import signals

from ..pages import MANIFEST_NAME, STATE_FOLDER, Page
from ..storage.jsonfile import replace_file
from . import exported
from .threads import build_thread

logger = logging.getLogger(__name__)

DISCUSSION_STATES = ("open", "closed")
# Settings the theme's base.html reads, passed on to the backend's pages.
THEME_SETTINGS = (
    "SITENAME",
    "SITESUBTITLE",
    "SITEURL",
    "AUTHOR",
    "DEFAULT_LANG",
    "THEME_STATIC_DIR",
)


def register() -> None:
    signals.initialized.connect(require_autoescape)
    signals.article_generator_finalized.connect(attach_threads)
    signals.article_writer_finalized.connect(write_manifest)


def require_autoescape(pelican: Any) -> None:
    """Turn Jinja's autoescape on: member names and text are plain text.

    Pelican leaves it off by default, and a site copied from Pelican's
    defaults would otherwise publish members' markup unescaped.
    """
    environment = pelican.settings.setdefault("JINJA_ENVIRONMENT", {})
    if not environment.get("autoescape"):
        logger.warning(
            "JINJA_ENVIRONMENT had autoescape off; Townsquare turns it on. "
            "Set it in %s to silence this.",
            "pelicanconf.py",
        )
        environment["autoescape"] = True


def data_dir(settings: dict[str, Any]) -> Path:
    configured = Path(settings.get("TOWNSQUARE_DATA_PATH", "data"))
    if configured.is_absolute():
        return configured
    return Path(settings["PATH"]).parent / configured


def attach_threads(generator: Any) -> None:
    settings = generator.settings
    entries: dict[str, dict[str, Any]] = {}
    for article in generator.articles:
        entry = describe(article, settings)
        duplicate = entry["slug"] in entries
        if duplicate:
            logger.error(
                "%s has the same slug %r as another page; rename one file so "
                "their comments stay apart. It takes no comments.",
                article.source_path,
                entry["slug"],
            )
        else:
            entries[entry["slug"]] = entry
        article.thread = build_thread(
            entry,
            None if duplicate else exported.read(data_dir(settings), entry["slug"]),
            is_open=not duplicate and Page(**entry).is_open(),
            api=settings.get("TOWNSQUARE_API_URL", "/api").rstrip("/"),
            timezone=settings.get("TIMEZONE", "UTC"),
        )
        article.discussion = "open" if article.thread.open else "closed"
    generator.context["townsquare_pages"] = list(entries.values())


def describe(article: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """The manifest entry of one article; sets ``article.closes``.

    A topic whose ``Discussion`` or ``Closes`` cannot be read is logged and
    treated as closed: better no comments than comments nobody meant to ask.
    """
    state = str(article.metadata.get("discussion", "open")).strip().lower()
    if state not in DISCUSSION_STATES:
        logger.warning(
            "%s: 'Discussion: %s' is not valid; write 'open' or 'closed'. "
            "The topic is closed until then.",
            article.source_path,
            state,
        )
        state = "closed"
    try:
        article.closes = _closing_time(article.metadata.get("closes"), settings)
    except ValueError:
        logger.warning(
            "%s: 'Closes: %s' is not a date; write it as YYYY-MM-DD. "
            "The topic is closed until then.",
            article.source_path,
            article.metadata.get("closes"),
        )
        article.closes, state = None, "closed"
    closes_at = article.closes + timedelta(minutes=1) if article.closes else None
    return {
        "slug": article.slug,
        "url": article.url,
        "title": article.title,
        "kind": article.category.slug,
        "open": state == "open",
        "closes": closes_at.astimezone(UTC).isoformat() if closes_at else None,
    }


def _closing_time(raw: Any, settings: dict[str, Any]) -> datetime | None:
    """The last minute of the ``Closes`` day, in the site's time zone."""
    if not raw:
        return None
    if isinstance(raw, datetime):
        day = raw.date()
    else:
        day = datetime.fromisoformat(str(raw).strip()).date()
    zone = ZoneInfo(settings.get("TIMEZONE", "UTC"))
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def write_manifest(generator: Any, writer: Any = None) -> None:
    """Write the manifest once the article pages are in the output."""
    settings = generator.settings
    pages = generator.context.get("townsquare_pages", [])
    manifest = {
        "sitename": settings.get("SITENAME", "Townsquare"),
        "timezone": settings.get("TIMEZONE", "UTC"),
        "api": settings.get("TOWNSQUARE_API_URL", "/api").rstrip("/"),
        # The backend renders its few pages with the theme's own base.html.
        "templates": str(Path(settings["THEME"]) / "templates"),
        "theme": {name: settings.get(name, "") for name in THEME_SETTINGS},
        "pages": pages,
    }
    folder = Path(settings["OUTPUT_PATH"]) / STATE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / MANIFEST_NAME
    content = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    replace_file(target, content, durable=False)
    logger.info("Wrote the manifest of %d pages to %s", len(pages), target)
