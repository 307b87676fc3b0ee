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

from ..comments.rendering import sanitise
from ..site import exported
from ..storage.comments import CommentStore
from ..storage.jsonfile import replace_file

logger = logging.getLogger(__name__)

STATE_FILE = "export-state.json"


def export_changed(
    comments: CommentStore, data_dir: Path, state_dir: Path, *, everything: bool = False
) -> tuple[list[str], dict[str, str]]:
    """Write the pages whose comments changed (or all, with ``everything``).

    Returns their slugs and the export state to :func:`save_state` once the
    site shows them: a publish that fails half-way exports them again.
    """
    state = {} if everything else _read_state(state_dir)
    changed = []
    for slug in comments.pages():
        revision = comments.revision(slug)
        target = exported.comments_file(data_dir, slug)
        if state.get(slug) == revision and target.exists():
            continue
        export_page(comments, slug, target)
        state[slug] = revision
        changed.append(slug)
    return changed, state


def export_page(comments: CommentStore, slug: str, target: Path) -> None:
    records = []
    for comment in comments.for_page(slug):
        record = comment.public()
        # The HTML was sanitised when written; sanitising again on the way
        # out means a stored record edited by hand cannot inject markup.
        record["html"] = sanitise(record["html"])
        records.append(record)
    document = {"page": slug, "comments": records}
    target.parent.mkdir(parents=True, exist_ok=True)
    encoded = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    replace_file(target, encoded.encode("utf-8"))


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
