"""The store's on-disk schema version, and the steps that migrate old data.

``meta.json`` at the top of the data folder records the version. Opening a
store runs every migration between the stored version and
:data:`CURRENT_VERSION`, in order, under the store-wide lock; data written by
a newer Townsquare is refused rather than misread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from ..errors import StoreError
from .jsonfile import replace_file
from .locks import file_lock

logger = logging.getLogger(__name__)

CURRENT_VERSION = 1

# Version N -> function that turns data of version N into version N + 1.
MIGRATIONS: dict[int, Callable[[Path], None]] = {}


def ensure_current(root: Path) -> int:
    """Create or migrate the store at ``root``; return the version found."""
    root.mkdir(parents=True, exist_ok=True)
    with file_lock(root / ".lock"):
        found = read_version(root)
        if found is None:
            write_version(root, CURRENT_VERSION)
            logger.info("Created a new store in %s", root)
            return CURRENT_VERSION
        if found > CURRENT_VERSION:
            raise StoreError(
                f"The store in {root} has schema version {found}, newer than this "
                f"Townsquare understands ({CURRENT_VERSION}). Upgrade Townsquare."
            )
        for version in range(found, CURRENT_VERSION):
            migrate = MIGRATIONS.get(version)
            if migrate is None:
                raise StoreError(f"No migration from schema version {version}.")
            logger.info("Migrating %s from schema %d to %d", root, version, version + 1)
            migrate(root)
            write_version(root, version + 1)
        return found


def read_version(root: Path) -> int | None:
    path = root / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(
            f"{path} is damaged ({exc}); restore it from a backup."
        ) from exc
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if not isinstance(version, int):
        raise StoreError(f"{path} has no schema_version; restore it from a backup.")
    return version


def write_version(root: Path, version: int) -> None:
    content = json.dumps({"schema_version": version}, indent=2) + "\n"
    replace_file(root / "meta.json", content.encode("utf-8"))
