"""Turn a member's Markdown into HTML that is safe to publish.

Rendering happens once, when the comment is written: reads and publishing
serve the stored HTML. Markdown keeps raw HTML, so the allowlist sanitiser
(nh3) always has the last word.
"""

from __future__ import annotations

import threading
import unicodedata
from html import unescape

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "hr", "li", "ol", "p", "pre",
    "strong", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener noreferrer"

# Markdown instances keep state between calls and are not thread-safe.
_local = threading.local()


def _markdown() -> markdown.Markdown:
    converter: markdown.Markdown | None = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["nl2br", "sane_lists"])
        _local.converter = converter
    return converter


def render(text: str) -> str:
    """Return sanitised HTML for the Markdown ``text``."""
    converter = _markdown()
    try:
        html = converter.convert(text)
    finally:
        converter.reset()
    return sanitise(html)


def sanitise(html: str) -> str:
    """Keep only allowlisted tags, attributes and link schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel=LINK_REL,
    )


def has_text(html: str) -> bool:
    """True if the HTML shows any visible character once tags are gone."""
    return is_visible(unescape(nh3.clean(html, tags=set())))


# Letters and symbols that draw nothing (Hangul fillers, the blank Braille
# pattern): a name made of them looks empty.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_visible(text: str) -> bool:
    """True if ``text`` has a character that draws something by itself.

    Spaces, controls, format characters and lone combining marks do not.
    """
    return any(
        unicodedata.category(ch)[0] not in "ZCM" and ch not in _BLANK for ch in text
    )
