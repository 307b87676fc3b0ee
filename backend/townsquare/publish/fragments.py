"""Re-render the comment parts of built pages without running Pelican.

The theme wraps every comment-dependent part of a page in markers written
by the macros of ``partials/comments.html``::

    <!--ts:comments:bike-lanes--> ... <!--/ts:comments:bike-lanes-->
    <!--ts:count:bike-lanes-->3 comments<!--/ts:count:bike-lanes-->

After a full build, :func:`index_markers` records which output files hold
markers for which page. A publish after new comments renders the same
macros for just the changed pages and splices them into just those files.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from ..site.threads import Thread
from ..storage.jsonfile import replace_file

PARTIAL = "partials/comments.html"
_MACROS = {"comments": "comment_thread", "count": "comment_count"}
_OPENING = re.compile(r"<!--ts:(comments|count):([^>]+?)-->")


def index_markers(output_dir: Path) -> dict[str, list[str]]:
    """Map each page slug to the output files (relative) that show its parts."""
    found: dict[str, set[str]] = defaultdict(set)
    for folder, _dirs, files in os.walk(output_dir):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = Path(folder) / name
            text = path.read_text(encoding="utf-8")
            for match in _OPENING.finditer(text):
                found[match.group(2)].add(str(path.relative_to(output_dir)))
    return {slug: sorted(paths) for slug, paths in found.items()}


def environment(
    theme_templates: Path, options: Mapping[str, Any]
) -> jinja2.Environment:
    """A Jinja environment configured like the one Pelican built with."""
    allowed = {"autoescape", "trim_blocks", "lstrip_blocks", "keep_trailing_newline"}
    kwargs = {key: value for key, value in options.items() if key in allowed}
    return jinja2.Environment(loader=jinja2.FileSystemLoader(theme_templates), **kwargs)


def render(env: jinja2.Environment, thread: Thread) -> dict[str, str]:
    """The fresh marked-up parts of one page, by kind."""
    module = env.get_template(PARTIAL).module
    return {
        kind: str(getattr(module, macro)(thread)) for kind, macro in _MACROS.items()
    }


def splice_all(
    output_dir: Path,
    index: Mapping[str, list[str]],
    rendered: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """Write the rendered parts into every file that shows them."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for slug in rendered:
        for relative in index.get(slug, []):
            by_file[relative].append(slug)
    written = []
    for relative, slugs in sorted(by_file.items()):
        if _splice(output_dir / relative, slugs, rendered):
            written.append(relative)
    return written


def _splice(
    path: Path, slugs: list[str], rendered: Mapping[str, Mapping[str, str]]
) -> bool:
    """Replace every marked region of ``slugs`` in one file, in one pass."""
    try:
        original = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    names = "|".join(re.escape(slug) for slug in slugs)
    region = re.compile(
        rf"<!--ts:(comments|count):({names})-->.*?<!--/ts:\1:\2-->", re.S
    )

    def fresh(match: re.Match[str]) -> str:
        return rendered[match.group(2)][match.group(1)]

    text = region.sub(fresh, original)
    if text == original:
        return False
    replace_file(path, text.encode("utf-8"), durable=False)
    return True
