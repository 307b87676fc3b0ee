"""Comment Markdown becomes HTML that is safe to publish."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from townsquare.comments.rendering import LINK_REL, has_text, render, sanitise

REL = f'rel="{LINK_REL}"'


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("Plain words", "<p>Plain words</p>"),
        ("*italic* and **bold**", "<p><em>italic</em> and <strong>bold</strong></p>"),
        ("`code`", "<p><code>code</code></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("first\nsecond", "<p>first<br>\nsecond</p>"),
        ("para one\n\npara two", "<p>para one</p>\n<p>para two</p>"),
        ("a < b & c > d", "<p>a &lt; b &amp; c &gt; d</p>"),
    ],
)
def test_markdown_basics(markdown: str, html: str) -> None:
    assert render(markdown) == html


def test_code_block() -> None:
    html = render("    x = 1 < 2")

    assert html == "<pre><code>x = 1 &lt; 2\n</code></pre>"


@pytest.mark.parametrize(
    "markdown",
    [
        "[the plan](https://example.org/plan)",
        "<https://example.org/plan>",
        '<a href="https://example.org/plan">the plan</a>',
        '<a href="https://example.org/plan" rel="follow">the plan</a>',
    ],
)
def test_links_get_nofollow_ugc(markdown: str) -> None:
    html = render(markdown)

    assert 'href="https://example.org/plan"' in html
    assert REL in html
    assert "nofollow" in LINK_REL and "ugc" in LINK_REL
    assert 'rel="follow"' not in html


def test_mailto_links_stay() -> None:
    assert 'href="mailto:clerk@example.org"' in render(
        "[mail](mailto:clerk@example.org)"
    )


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](java&#115;cript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="DATA:text/html,hi">x</a>',
        "[x](file:///etc/passwd)",
    ],
)
def test_dangerous_hrefs_are_removed(markdown: str) -> None:
    html = render(markdown)

    assert not re.search(r"(?i)href=[\"']?\s*(javascript|vbscript|data|file):", html)
    assert "x" in html


class AttributeNames(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.update(name for name, _value in attrs)


@pytest.mark.parametrize(
    "markdown",
    [
        '[x](https://example.org "a \\" onmouseover=alert(1) b")',
        '[x](https://example.org "a" onmouseover="alert(1)")',
        '<a href="https://example.org" title=a onmouseover=alert(1)>x</a>',
        '<a href="https://example.org"/onmouseover=alert(1)>x</a>',
    ],
)
def test_links_carry_only_safe_attributes(markdown: str) -> None:
    names = AttributeNames(render(markdown)).names

    assert names <= {"href", "title", "rel"}


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<img src=x onerror=alert(1)>", "<img"),
        ("![alt](https://example.org/a.png)", "<img"),
        ("<svg onload=alert(1)>I support this", "<svg"),
        ("<script>alert(1)</script>", "<script"),
        ("<style>body{display:none}</style>", "<style"),
        ('<iframe src="https://example.org"></iframe>', "<iframe"),
        ("<object data=x></object>", "<object"),
        ("<form action=x><input name=y></form>", "<form"),
        ("<p onclick=alert(1)>hi</p>", "onclick"),
        ('<p style="position:fixed">hi</p>', "style="),
        ("<math><mi>x</mi></math>", "<math"),
        ("<base href=https://evil.example>", "<base"),
        ("<meta http-equiv=refresh content=0;url=x>", "<meta"),
    ],
)
def test_unsafe_markup_is_removed(markdown: str, forbidden: str) -> None:
    html = render(markdown)

    assert forbidden not in html.lower()


def test_script_and_style_contents_go_too() -> None:
    html = render("<script>alert('boo')</script><style>p{color:red}</style>words")

    assert "alert" not in html
    assert "color" not in html
    assert "words" in html


def test_svg_words_survive() -> None:
    html = render("<svg onload=alert(1)>I support this")

    assert "I support this" in html
    assert "onload" not in html


def test_sanitise_is_idempotent() -> None:
    once = render("**a** [b](https://example.org) <img src=x> `c`")

    assert sanitise(once) == once


def test_sanitise_cleans_hand_edited_html() -> None:
    assert sanitise('<p onclick="x()">hi<script>x()</script></p>') == "<p>hi</p>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Words</p>", True),
        ("<p><em>x</em></p>", True),
        ("<p>0</p>", True),
        ("", False),
        ("<p></p>", False),
        ("<p> \n </p>", False),
        ("<p><br></p>", False),
        ("<hr>", False),
        ("<ul><li></li></ul>", False),
        ("<p>&nbsp;</p>", False),
    ],
)
def test_has_text(html: str, expected: bool) -> None:
    assert has_text(html) is expected


@pytest.mark.parametrize(
    "markdown",
    ["<img src=x>", "<script>alert(1)</script>", "<svg></svg>", "---", "&nbsp;"],
)
def test_markup_only_renders_to_no_text(markdown: str) -> None:
    assert not has_text(render(markdown))


def test_rendering_is_the_same_each_time() -> None:
    """The Markdown converter keeps state; each comment starts fresh."""
    first = render("[a][ref]\n\n[ref]: https://example.org")
    render("Plain text")

    assert render("[a][ref]") == "<p>[a][ref]</p>"
    assert 'href="https://example.org"' in first
