"""Run Pelican in-process on the site, with Townsquare's paths."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import BuildError

logger = logging.getLogger(__name__)


class _ProblemCounter(logging.Handler):
    """Counts the warnings and errors Pelican logs about source files."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # Pelican logs a failed source from inside its except block but
        # shows the reason only in debug mode; the reason is what helps.
        error = sys.exc_info()[1]
        if record.levelno >= logging.ERROR and error and str(error) not in message:
            message = f"{message}: {error}"
        self.problems.append(message)


def settings_file(site_dir: Path, production: bool) -> Path:
    return site_dir / ("publishconf.py" if production else "pelicanconf.py")


def read_settings(
    site_dir: Path,
    output_dir: Path,
    public_dir: Path,
    cache_dir: Path,
    production: bool,
) -> dict[str, Any]:
    """Pelican's settings from the site's file, with Townsquare's folders."""
    from pelican.settings import read_settings as pelican_settings

    path = settings_file(site_dir, production)
    if not path.exists():
        raise BuildError(f"{path} is missing: is {site_dir} a Townsquare site?")
    override = {
        "OUTPUT_PATH": str(output_dir.resolve()),
        "TOWNSQUARE_DATA_PATH": str(public_dir.resolve()),
        # Pelican re-reads only the Markdown files that changed since the
        # last build; comments are added after reading, so never cached.
        "CACHE_CONTENT": True,
        "LOAD_CONTENT_CACHE": True,
        "CACHE_PATH": str(cache_dir.resolve()),
    }
    settings: dict[str, Any] = pelican_settings(str(path), override=override)
    return settings


def build_site(settings: dict[str, Any]) -> list[str]:
    """Build the whole site; return the problems Pelican reported."""
    # Imported here: Pelican is slow to import, and only full builds need it.
    from pelican import Pelican

    counter = _ProblemCounter()
    pelican_logger = logging.getLogger("pelican")
    pelican_logger.addHandler(counter)
    plugin_logger = logging.getLogger("townsquare.site")
    plugin_logger.addHandler(counter)
    started = time.perf_counter()
    try:
        Pelican(settings).run()
    finally:
        pelican_logger.removeHandler(counter)
        plugin_logger.removeHandler(counter)
    logger.info("Pelican built the site in %.2f s", time.perf_counter() - started)
    return counter.problems
