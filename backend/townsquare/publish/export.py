"""Export each page's published comments, public fields only.

Only pages whose store revision changed since the last export are written,
so a publish after one comment touches one file. Emails and client
addresses never leave the store: the exported record is built from
:data:`~townsquare.storage.comments.PUBLIC_FIELDS` alone.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..site import exported
from ..storage.comments import CommentStore
from ..storage.jsonfile import replace_file

logger = logging.getLogger(__name__)

STATE_FILE = "export-state.json"


def export_changed(
    comments: CommentStore, data_dir: Path, state_dir: Path
) -> tuple[list[str], dict[str, str]]:
    """Write the pages whose comments changed, or whose file did.

    The state remembers each page's store revision and its exported file's
    size and time, so a file edited or damaged by hand is written again.
    Returns the slugs and the state to :func:`save_state` once the site
    shows them: a publish that fails half-way exports them again.
    """
    state = _read_state(state_dir)
    changed = []
    for slug in comments.pages():
        target = exported.comments_file(data_dir, slug)
        # Read once, before exporting: a comment stored meanwhile then makes
        # the next publish export again, instead of being skipped for good.
        revision = comments.revision(slug)
        if state.get(slug) == _signature(revision, target):
            continue
        export_page(comments, slug, target)
        state[slug] = _signature(revision, target)
        changed.append(slug)
    return changed, state


def _signature(revision: str, target: Path) -> str:
    try:
        stat = target.stat()
    except FileNotFoundError:
        return ""
    return f"{revision}:{stat.st_size}:{stat.st_mtime_ns}"


def export_page(comments: CommentStore, slug: str, target: Path) -> None:
    """Write one page's published comments, one comment a line.

    A line per comment keeps the committed file's Git diffs to the comments
    that changed, and lets the fast C encoder do the work.
    """
    lines = [
        json.dumps(comment.public(), ensure_ascii=False)
        for comment in comments.for_page(slug)
    ]
    body = ",\n".join(lines)
    document = f'{{"page": {json.dumps(slug)}, "comments": [\n{body}\n]}}\n'
    target.parent.mkdir(parents=True, exist_ok=True)
    # The store is the record; an export lost in a crash is simply redone.
    replace_file(target, document.encode("utf-8"), durable=False)


def _read_state(state_dir: Path) -> dict[str, str]:
    try:
        state: dict[str, str] = json.loads((state_dir / STATE_FILE).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return state


def save_state(state_dir: Path, state: dict[str, str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    content = json.dumps(state, indent=0, sort_keys=True).encode("utf-8")
    replace_file(state_dir / STATE_FILE, content)
