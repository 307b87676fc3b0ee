"""Decide what a publish must rebuild, and do it under a lock.

A full Pelican build is needed when the site's own sources changed (content,
theme, settings) or nothing was built yet. Otherwise only the pages whose
comments changed are re-rendered, which keeps a publish after one comment
well under a second on a site of thousands of pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..pages import STATE_FOLDER, Manifest, Page, load_manifest, manifest_path
from ..site import exported
from ..site.threads import build_thread
from ..storage import Store
from ..storage.jsonfile import replace_file
from ..storage.locks import file_lock
from . import build, export, fragments

logger = logging.getLogger(__name__)

BUILD_STATE = "build.json"


@dataclass
class PublishReport:
    """What one publish did, for the command line and the tests."""

    exported: list[str] = field(default_factory=list)
    full_build: bool = False
    files_written: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Publisher:
    store: Store
    site_dir: Path
    output_dir: Path
    production: bool = False
    # Where exported public data goes; by default the site's data/ folder,
    # which is committed so any static host can rebuild the site.
    public_dir: Path | None = None

    @property
    def export_dir(self) -> Path:
        return self.public_dir or self.site_dir / "data"

    def publish(self, *, full: bool = False) -> PublishReport:
        """Export new contributions and bring the built site up to date."""
        started = time.perf_counter()
        report = PublishReport()
        with file_lock(self.store.root / "publish.lock"):
            report.exported, export_state = self._export()
            state = self._read_state()
            manifest = self._manifest()
            if (
                full
                or state is None
                or manifest is None
                or state.get("fingerprint") != self.fingerprint(manifest)
                or _cheaper_to_rebuild(manifest, report.exported)
            ):
                report.full_build = True
                report.problems = self._full_build()
            elif report.exported:
                report.files_written = self._refresh(state, manifest, report.exported)
            if report.exported:
                export.save_state(self._export_state_dir(), export_state)
        report.seconds = time.perf_counter() - started
        return report

    def build(self) -> PublishReport:
        """A full build from the data already exported, without exporting."""
        started = time.perf_counter()
        with file_lock(self.store.root / "publish.lock"):
            problems = self._full_build()
        report = PublishReport(full_build=True, problems=problems)
        report.seconds = time.perf_counter() - started
        return report

    def _export_state_dir(self) -> Path:
        # One state per export target: the demo and a real publish may
        # export the same store to different folders.
        target = str(self.export_dir.resolve()).encode()
        return (
            self.store.root
            / "exports"
            / hashlib.blake2b(target, digest_size=8).hexdigest()
        )

    def _export(self) -> tuple[list[str], dict[str, str]]:
        started = time.perf_counter()
        changed, state = export.export_changed(
            self.store.comments,
            self.export_dir,
            self._export_state_dir(),
        )
        logger.info(
            "Exported comments of %d page(s) in %.2f s",
            len(changed),
            time.perf_counter() - started,
        )
        return changed, state

    def _full_build(self) -> list[str]:
        settings = build.read_settings(
            self.site_dir,
            self.output_dir,
            self.export_dir,
            self.store.root / "build-cache",
            self.production,
        )
        problems = build.build_site(settings)
        started = time.perf_counter()
        state = {
            # Taken after the build: it depends on the manifest just written.
            "fingerprint": self.fingerprint(self._manifest()),
            "templates": str(Path(settings["THEME"]) / "templates"),
            "jinja": settings["JINJA_ENVIRONMENT"],
            "markers": fragments.index_markers(self.output_dir),
        }
        self._write_state(state)
        logger.info("Indexed comment markers in %.2f s", time.perf_counter() - started)
        return problems

    def _refresh(
        self, state: dict[str, Any], manifest: Manifest, slugs: list[str]
    ) -> list[str]:
        started = time.perf_counter()
        env = fragments.environment(Path(state["templates"]), state["jinja"])
        rendered = {}
        for slug in slugs:
            page = manifest.pages.get(slug)
            if page is None:
                logger.warning("Comments for %s are not shown: no such page.", slug)
                continue
            thread = build_thread(
                page.__dict__,
                exported.read(self.export_dir, slug),
                is_open=page.is_open(),
                api=manifest.api,
                timezone=manifest.timezone,
            )
            rendered[slug] = fragments.render(env, thread)
        written = fragments.splice_all(self.output_dir, state["markers"], rendered)
        logger.info(
            "Updated %d file(s) for %d page(s) in %.2f s",
            len(written),
            len(rendered),
            time.perf_counter() - started,
        )
        return written

    def fingerprint(self, manifest: Manifest | None) -> str:
        """Changes whenever anything Pelican reads, or what is open, changes."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{__version__}:{self.production}:{self.export_dir}".encode())
        for path in sorted(self._site_sources()):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        # A topic whose closing date passed needs its form taken away.
        if manifest is not None:
            closed = sorted(
                s for s, page in manifest.pages.items() if _closed_by_date(page)
            )
            digest.update(",".join(closed).encode())
        return digest.hexdigest()

    def _site_sources(self) -> list[Path]:
        found = [build.settings_file(self.site_dir, False)]
        if self.production:
            found.append(build.settings_file(self.site_dir, True))
        for folder in ("content", "theme"):
            for root, _dirs, files in os.walk(self.site_dir / folder):
                found.extend(Path(root) / name for name in files)
        return found

    def _manifest(self) -> Manifest | None:
        """The manifest of the current build, or None before the first."""
        try:
            return load_manifest(manifest_path(self.output_dir))
        except (FileNotFoundError, ValueError):
            return None

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self._state_path().read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        replace_file(self._state_path(), json.dumps(state).encode("utf-8"))

    def _state_path(self) -> Path:
        return self.output_dir / STATE_FOLDER / BUILD_STATE


def _cheaper_to_rebuild(manifest: Manifest, changed: list[str]) -> bool:
    # Splicing costs a little per page; past a quarter of the site, one
    # Pelican build is quicker than many small edits of the same files.
    return len(changed) * 4 > len(manifest.pages) and len(changed) > 8


def _closed_by_date(page: Page) -> bool:
    return page.open and not page.is_open()


def commit_data(
    data_dir: Path, message: str = "Publish members' contributions"
) -> bool:
    """Commit the exported public data with Git; True if there was a change."""
    if not data_dir.is_dir():
        logger.info("No public data to commit yet.")
        return False
    data = str(data_dir.resolve())
    subprocess.run(["git", "add", "--", data], check=True, cwd=data_dir)
    staged = subprocess.run(
        ["git", "diff", "--cached", "--quiet", "--", data], cwd=data_dir, check=False
    )
    if staged.returncode == 0:
        logger.info("No new public data to commit.")
        return False
    subprocess.run(
        ["git", "commit", "-m", message, "--", data], check=True, cwd=data_dir
    )
    logger.info("Committed the public data in %s", data)
    return True
