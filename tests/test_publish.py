"""Publishing: the public export, the built pages and the incremental splice."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from datetime import datetime, tzinfo
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from townsquare import pages as page_module
from townsquare.pages import Page
from townsquare.publish import fragments
from townsquare.publish.publisher import Publisher, commit_data
from townsquare.storage import Store
from townsquare.storage.comments import HIDDEN, PUBLIC_FIELDS, NewComment

PAGE = "bike-lanes"
TOPIC = "topics/bike-lanes/index.html"
# Every built file that shows a part of the bike-lanes thread.
BIKE_LANES_FILES = {
    "index.html",
    "tags/transport/index.html",
    "topics/bike-lanes/index.html",
    "topics/index.html",
}
# The build's own bookkeeping, which is not part of the published site.
BUILD_STATE = ".townsquare/build.json"


def read(output_dir: Path, relative: str) -> str:
    return (output_dir / relative).read_text(encoding="utf-8")


def region(html: str, slug: str, kind: str = "comments") -> str:
    """The one marked region of ``kind`` for ``slug`` in a built page."""
    found = re.findall(
        rf"<!--ts:{kind}:{re.escape(slug)}-->.*?<!--/ts:{kind}:{re.escape(slug)}-->",
        html,
        re.S,
    )
    assert len(found) == 1, f"expected one {kind} region for {slug}, found {found}"
    return found[0]


def shown_count(html: str, slug: str) -> int:
    """The number a count marker (listing pages) shows for ``slug``."""
    match = re.fullmatch(
        rf"<!--ts:count:{re.escape(slug)}--><span [^>]*>(\d+) comments?</span>"
        rf"<!--/ts:count:{re.escape(slug)}-->",
        region(html, slug, "count"),
    )
    assert match, region(html, slug, "count")
    return int(match.group(1))


def thread_count(html: str, slug: str) -> int:
    """The number the heading of a page's comment thread shows."""
    match = re.search(
        r'<span class="comments-count">(\d+) comments?</span>', region(html, slug)
    )
    assert match
    return int(match.group(1))


def comment_ids(html: str, slug: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="comment-(\d+)"', region(html, slug))]


class Tags(HTMLParser):
    """Every start tag of some HTML, with its attribute names."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, [name for name, _value in attrs]))


def exported(site_dir: Path, slug: str) -> dict[str, Any]:
    path = site_dir / "data" / "comments" / f"{slug}.json"
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def identities(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Content and file identity: a rewrite with equal bytes still shows."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            relative = str(path.relative_to(folder))
            found[relative] = (stat.st_ino, stat.st_mtime_ns, path.read_bytes())
    return found


def full_rebuild(publisher: Publisher, output_dir: Path) -> dict[str, bytes]:
    """Build the same site and data from scratch into another folder."""
    fresh = Publisher(
        store=publisher.store, site_dir=publisher.site_dir, output_dir=output_dir
    )
    report = fresh.publish(full=True)
    assert report.full_build
    assert report.problems == []
    built = snapshot(output_dir)
    built.pop(BUILD_STATE)
    return built


def assert_same_as_full_rebuild(publisher: Publisher, output_dir: Path) -> None:
    incremental = snapshot(publisher.output_dir)
    incremental.pop(BUILD_STATE)
    rebuilt = full_rebuild(publisher, output_dir)
    assert sorted(incremental) == sorted(rebuilt)
    different = [name for name in rebuilt if rebuilt[name] != incremental[name]]
    assert different == []


def marked_files(files: dict[str, bytes], slug: str) -> set[str]:
    """The files whose text carries a marker of ``slug``."""
    markers = (f"<!--ts:comments:{slug}-->", f"<!--ts:count:{slug}-->")
    return {
        name
        for name, content in files.items()
        if any(marker.encode() in content for marker in markers)
    }


# The public export


def test_export_holds_public_fields_only(
    client: FlaskClient, built: Publisher, store: Store
) -> None:
    response = client.post(
        f"/api/pages/{PAGE}/comments",
        json={
            "author": "Dana Example",
            "body": "Protected lanes *please*",
            "email": "someone@example.org",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    assert response.status_code == 201
    stored = store.comments.get(PAGE, 1)
    assert stored is not None
    # The private fields are really there to leak.
    assert stored.email == "someone@example.org"
    assert stored.client == "203.0.113.0"

    built.publish()

    records = exported(built.site_dir, PAGE)["comments"]
    assert len(records) == 1
    assert set(records[0]) == set(PUBLIC_FIELDS)
    assert records[0]["author"] == "Dana Example"
    assert records[0]["html"] == "<p>Protected lanes <em>please</em></p>"
    published = {**snapshot(built.site_dir / "data"), **snapshot(built.output_dir)}
    for name, content in published.items():
        for private in (b"someone@example.org", b"203.0.113", b"*please*"):
            assert private not in content, f"{private!r} leaked into {name}"
    assert "Protected lanes <em>please</em>" in read(built.output_dir, TOPIC)


def test_hidden_and_pending_comments_are_not_published(
    post_comment: Callable[..., Any],
    make_app: Callable[..., Flask],
    client: FlaskClient,
    built: Publisher,
    store: Store,
) -> None:
    for number in (1, 2, 3):
        response = post_comment(body=f"Published remark number {number}")
        assert response.status_code == 201
    store.comments.set_status(PAGE, 2, HIDDEN)
    moderated = make_app(MODERATION="pre").test_client()
    held = moderated.post(
        f"/api/pages/{PAGE}/comments",
        json={"author": "Held Resident", "body": "Waiting for a moderator"},
    )
    assert held.status_code == 201
    assert held.get_json()["comment"]["status"] == "pending"

    report = built.publish()

    assert report.exported == [PAGE]
    assert [c["id"] for c in exported(built.site_dir, PAGE)["comments"]] == [1, 3]
    topic = read(built.output_dir, TOPIC)
    assert comment_ids(topic, PAGE) == [1, 3]
    assert thread_count(topic, PAGE) == 2
    assert 'data-last-id="3"' in region(topic, PAGE)
    for listing in ("topics/index.html", "index.html", "tags/transport/index.html"):
        assert shown_count(read(built.output_dir, listing), PAGE) == 2, listing
    live = client.get(f"/api/pages/{PAGE}/comments").get_json()
    assert live["count"] == 2
    assert [c["id"] for c in live["comments"]] == [1, 3]
    for name, content in snapshot(built.output_dir).items():
        assert b"remark number 2" not in content, name
        assert b"Waiting for a moderator" not in content, name
        assert b"Held Resident" not in content, name


def test_hiding_a_published_comment_takes_it_off_the_page(
    post_comment: Callable[..., Any], built: Publisher, store: Store, tmp_path: Path
) -> None:
    post_comment(body="First view")
    post_comment(body="Second view")
    built.publish()
    assert comment_ids(read(built.output_dir, TOPIC), PAGE) == [1, 2]

    store.comments.set_status(PAGE, 1, HIDDEN)
    report = built.publish()

    assert not report.full_build
    topic = read(built.output_dir, TOPIC)
    assert comment_ids(topic, PAGE) == [2]
    assert "First view" not in topic
    assert shown_count(read(built.output_dir, "topics/index.html"), PAGE) == 1
    assert_same_as_full_rebuild(built, tmp_path / "rebuilt")


# Incremental publishing


def test_incremental_publish_equals_a_full_rebuild(
    post_comment: Callable[..., Any], built: Publisher, tmp_path: Path
) -> None:
    before = snapshot(built.output_dir)
    assert marked_files(before, PAGE) == BIKE_LANES_FILES
    response = post_comment(author="Ravi", body="Yes to *protected* lanes")
    assert response.status_code == 201

    report = built.publish()

    assert report.full_build is False
    assert report.exported == [PAGE]
    assert set(report.files_written) == BIKE_LANES_FILES
    after = snapshot(built.output_dir)
    assert sorted(after) == sorted(before)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == BIKE_LANES_FILES
    topic = read(built.output_dir, TOPIC)
    assert "Yes to <em>protected</em> lanes" in region(topic, PAGE)
    assert_same_as_full_rebuild(built, tmp_path / "rebuilt-1")


def test_incremental_publish_of_replies_and_several_pages(
    post_comment: Callable[..., Any], built: Publisher, store: Store, tmp_path: Path
) -> None:
    first = post_comment(body="A first thought").get_json()["comment"]["id"]
    built.publish()
    before = snapshot(built.output_dir)

    post_comment(body="A reply to that", parent=first)
    post_comment(body="Another thought")
    post_comment(page="first-update", body="Thanks for the update")
    store.comments.set_status(PAGE, 3, HIDDEN)
    report = built.publish()

    assert report.full_build is False
    assert sorted(report.exported) == ["bike-lanes", "first-update"]
    expected = marked_files(before, PAGE) | marked_files(before, "first-update")
    after = snapshot(built.output_dir)
    assert {name for name in after if after[name] != before[name]} == expected
    assert set(report.files_written) == expected
    topic = read(built.output_dir, TOPIC)
    assert comment_ids(topic, PAGE) == [1, 2]
    assert '<ol class="comment-replies">' in region(topic, PAGE)
    update = read(built.output_dir, "updates/first-update/index.html")
    assert comment_ids(update, "first-update") == [1]
    news = read(built.output_dir, "updates/index.html")
    assert shown_count(news, "first-update") == 1
    assert_same_as_full_rebuild(built, tmp_path / "rebuilt")


def test_publish_with_nothing_new_writes_nothing(
    post_comment: Callable[..., Any], built: Publisher
) -> None:
    post_comment(body="Something to export")
    built.publish()
    before = {
        "output": identities(built.output_dir),
        "data": identities(built.site_dir / "data"),
        "store": identities(built.store.root),
    }

    report = built.publish()

    assert report.exported == []
    assert report.full_build is False
    assert report.files_written == []
    assert before == {
        "output": identities(built.output_dir),
        "data": identities(built.site_dir / "data"),
        "store": identities(built.store.root),
    }


def test_publish_that_fails_half_way_is_redone(
    post_comment: Callable[..., Any],
    built: Publisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post_comment(body="Must not be forgotten")

    def broken_splice(*args: object) -> list[str]:
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(fragments, "splice_all", broken_splice)
    with pytest.raises(OSError, match="simulated"):
        built.publish()
    assert "Must not be forgotten" not in read(built.output_dir, TOPIC)

    monkeypatch.undo()
    report = built.publish()

    assert report.exported == [PAGE]
    assert set(report.files_written) == BIKE_LANES_FILES
    assert "Must not be forgotten" in region(read(built.output_dir, TOPIC), PAGE)


def _edit_markdown(site_dir: Path) -> str:
    path = site_dir / "content" / "topics" / "bike-lanes.md"
    path.write_text(path.read_text() + "\nWe added a map of the route.\n")
    return "We added a map of the route."


def _touch_markdown(site_dir: Path) -> str:
    path = site_dir / "content" / "topics" / "bike-lanes.md"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    return "We propose protected bike lanes"


def _edit_template(site_dir: Path) -> str:
    path = site_dir / "theme" / "templates" / "article.html"
    text = path.read_text()
    marker = '<div class="prose">'
    edited = '<p class="edited">Template edited</p>'
    path.write_text(text.replace(marker, edited + marker))
    return "Template edited"


def _edit_settings(site_dir: Path) -> str:
    path = site_dir / "pelicanconf.py"
    path.write_text(path.read_text() + '\nSITESUBTITLE = "Settings edited"\n')
    return "Settings edited"


def _add_topic(site_dir: Path) -> str:
    (site_dir / "content" / "topics" / "new-park.md").write_text(
        "Title: A new park\nDate: 2026-10-03 09:00\nDiscussion: open\n\n"
        "Where should the new park be?\n"
    )
    return "Where should the new park be?"


@pytest.mark.parametrize(
    "change",
    [_edit_markdown, _touch_markdown, _edit_template, _edit_settings, _add_topic],
)
def test_changed_site_sources_trigger_a_full_build(
    change: Callable[[Path], str], post_comment: Callable[..., Any], built: Publisher
) -> None:
    post_comment(body="A comment that must survive the rebuild")
    built.publish()

    text = change(built.site_dir)
    report = built.publish()

    assert report.full_build is True
    assert report.problems == []
    pages = snapshot(built.output_dir)
    assert any(text.encode() in content for content in pages.values())
    topic = read(built.output_dir, TOPIC)
    assert "A comment that must survive the rebuild" in region(topic, PAGE)
    assert built.publish().full_build is False


def test_topic_past_its_closing_date_is_rebuilt_closed(
    built: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "<form" in read(built.output_dir, TOPIC)

    class AfterClosing(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> AfterClosing:
            return cls(2100, 1, 2, tzinfo=tz)

    monkeypatch.setattr(page_module, "datetime", AfterClosing)
    report = built.publish()

    assert report.full_build is True
    topic = read(built.output_dir, TOPIC)
    assert "<form" not in topic
    assert "Comments are closed" in topic
    assert built.publish().full_build is False


def test_full_publish_rebuilds_even_without_changes(built: Publisher) -> None:
    assert built.publish(full=True).full_build is True


# The built sample site


def local_links(html: str) -> list[str]:
    """Every src, href and form action in a page that points to this site."""
    found = re.findall(r'\b(?:src|href|action)="([^"]*)"', html)
    return [link for link in found if link.startswith("/")]


def test_sample_site_structure(built: Publisher) -> None:
    out = built.output_dir
    for page in (
        "index.html",
        "topics/index.html",
        TOPIC,
        "updates/first-update/index.html",
        "about/index.html",
    ):
        assert (out / page).is_file(), page

    topic = read(out, TOPIC)
    assert re.findall(r"<h1>(.*?)</h1>", topic) == ["Bike lanes on Elm Street"]
    form = re.search(r'<form [^>]*id="comment-form"[^>]*>', topic)
    assert form
    assert 'method="post"' in form.group(0)
    assert 'action="/api/pages/bike-lanes/comments"' in form.group(0)
    for field in ("author", "body", "email"):
        assert f'name="{field}"' in topic
    assert "Comments are closed" not in topic


@pytest.mark.parametrize("slug", ["old-library-hours", "past-deadline"])
def test_closed_topics_have_no_form(built: Publisher, slug: str) -> None:
    page = read(built.output_dir, f"topics/{slug}/index.html")

    assert "<form" not in page
    assert "Comments are closed" in page
    assert "data-reply-to" not in page
    assert "tag-closed" in page
    assert "Open for comments" not in page


def test_manifest_lists_the_articles(built: Publisher) -> None:
    manifest = json.loads(read(built.output_dir, ".townsquare/manifest.json"))

    pages = {entry["slug"]: entry for entry in manifest["pages"]}
    assert {slug: entry["open"] for slug, entry in pages.items()} == {
        "bike-lanes": True,
        "bike-lanes-2": True,
        "first-update": True,
        "old-library-hours": False,
        "past-deadline": True,
    }
    assert pages["bike-lanes"]["url"] == "topics/bike-lanes/"
    assert pages["first-update"]["kind"] == "updates"
    open_now = {slug for slug, entry in pages.items() if Page(**entry).is_open()}
    assert open_now == {"bike-lanes", "bike-lanes-2", "first-update"}
    assert manifest["api"] == "/api"


def test_every_local_link_and_asset_exists(built: Publisher) -> None:
    out = built.output_dir
    assets = set()
    for path in out.rglob("*.html"):
        for value in local_links(path.read_text(encoding="utf-8")):
            if value.startswith("/api/"):
                continue
            target = out / value.lstrip("/").split("#")[0]
            if value.endswith("/"):
                target = target / "index.html"
            assert target.is_file(), f"{value} in {path.relative_to(out)}"
            if value.endswith((".js", ".css")):
                assets.add(value)
    assert {"/theme/css/main.css", "/theme/js/comments.js"} <= assets


# Pages with similar slugs


def test_similar_slugs_keep_their_comments_apart(
    post_comment: Callable[..., Any], built: Publisher, tmp_path: Path
) -> None:
    post_comment(page="bike-lanes-2", body="Racks by the library please")
    built.publish()
    lanes = read(built.output_dir, TOPIC)
    assert comment_ids(lanes, "bike-lanes") == []
    assert thread_count(lanes, "bike-lanes") == 0
    assert shown_count(read(built.output_dir, "topics/index.html"), "bike-lanes") == 0

    post_comment(page="bike-lanes", body="Paint is not protection")
    report = built.publish()

    assert report.exported == ["bike-lanes"]
    lanes = read(built.output_dir, TOPIC)
    parking = read(built.output_dir, "topics/bike-lanes-2/index.html")
    assert "Paint is not protection" in region(lanes, "bike-lanes")
    assert "Racks by the library" not in lanes
    assert "Racks by the library please" in region(parking, "bike-lanes-2")
    assert "Paint is not protection" not in parking
    listing = read(built.output_dir, "topics/index.html")
    assert shown_count(listing, "bike-lanes") == 1
    assert shown_count(listing, "bike-lanes-2") == 1
    assert_same_as_full_rebuild(built, tmp_path / "rebuilt")


# Odd text in comments


ODD_TEXT = [
    pytest.param("Bikes 🚲🚴‍♀️ and 👩🏽‍🔧 mechanics", id="emoji-zwj"),
    pytest.param("שלום עולם مرحبا بالعالم \u200f(RTL)\u200e", id="rtl"),
    pytest.param("zero\u200dwidth\u200bjoiner\ufeffhere", id="zero-width"),
    pytest.param("Jinja {{ 7 + 7 }} and {% if true %}yes{% endif %}", id="jinja"),
    pytest.param("{% raw %}{{ config }}{% endraw %} {# note #}", id="jinja-raw"),
    pytest.param("Bye </script><script>alert(1)</script> now", id="script"),
    pytest.param("<!--ts:comments:bike-lanes--> opened", id="open-marker"),
    pytest.param("closed <!--/ts:comments:bike-lanes--> early", id="close-marker"),
    pytest.param("`<!--/ts:count:bike-lanes-->` in code", id="marker-in-code"),
    pytest.param("Backrefs \\1 \\g<0> $1 and \\\\", id="backslashes"),
    pytest.param('<img src=x onerror="alert(1)"> picture', id="img-onerror"),
]


@pytest.mark.parametrize("text", ODD_TEXT)
def test_odd_text_is_shown_safely_and_splices_cleanly(
    text: str, post_comment: Callable[..., Any], built: Publisher, tmp_path: Path
) -> None:
    response = post_comment(author=text[:80], body=text)
    assert response.status_code == 201, response.get_json()
    report = built.publish()
    assert report.problems == []
    assert report.full_build is False

    post_comment(author="Plain Resident", body="A plain follow-up")
    report = built.publish()

    assert report.full_build is False
    topic = read(built.output_dir, TOPIC)
    # Marker-like text in a comment is escaped or removed, never a marker.
    assert topic.count("<!--ts:comments:") == 1
    assert topic.count("<!--/ts:comments:") == 1
    thread = region(topic, PAGE)
    assert comment_ids(topic, PAGE) == [1, 2]
    assert thread_count(topic, PAGE) == 2
    assert "A plain follow-up" in thread
    assert topic.count("<script") == 1
    tags = Tags(thread)
    assert not {"img", "script"} & {tag for tag, _attrs in tags.found}
    assert [a for _tag, attrs in tags.found for a in attrs if a.startswith("on")] == []
    for listing in ("index.html", "topics/index.html"):
        assert shown_count(read(built.output_dir, listing), PAGE) == 2
    assert_same_as_full_rebuild(built, tmp_path / "rebuilt")


@pytest.mark.parametrize(
    "text",
    [
        "Bikes 🚲🚴‍♀️ and 👩🏽‍🔧 mechanics",
        "שלום עולם مرحبا بالعالم",
        "zero\u200dwidth\u200bjoiner",
        "Jinja {{ 7 + 7 }} and {% if true %}yes{% endif %}",
    ],
)
def test_odd_text_survives_unchanged(
    text: str, post_comment: Callable[..., Any], built: Publisher
) -> None:
    post_comment(author=text[:80], body=text)

    built.publish()

    thread = region(read(built.output_dir, TOPIC), PAGE)
    assert f"<p>{text}</p>" in thread
    assert f'<span class="comment-author">{text[:80]}</span>' in thread
    assert exported(built.site_dir, PAGE)["comments"][0]["author"] == text[:80]


# Damaged exported data


DAMAGED_EXPORTS = [
    pytest.param(b'{"page": "bike-lanes", "comm', id="truncated"),
    pytest.param(b"\xff\xfe\x00\x01", id="not-utf8"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"page": "bike-lanes"}', id="no-comment-list"),
    pytest.param(b'{"comments": {"1": {}}}', id="comments-not-a-list"),
    pytest.param(b"[1, 2]", id="json-array"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b'{"comments": [{"id": 1}]}', id="record-missing-fields"),
    pytest.param(b'{"comments": [1]}', id="record-not-an-object"),
]


@pytest.mark.parametrize("content", DAMAGED_EXPORTS)
def test_damaged_export_does_not_break_the_build(
    content: bytes, built: Publisher
) -> None:
    target = built.site_dir / "data" / "comments" / f"{PAGE}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)

    report = built.publish(full=True)

    assert any(f"{PAGE}.json" in problem for problem in report.problems)
    topic = read(built.output_dir, TOPIC)
    assert comment_ids(topic, PAGE) == []
    assert thread_count(topic, PAGE) == 0
    for page in ("index.html", "topics/index.html", "topics/bike-lanes-2/index.html"):
        assert (built.output_dir / page).is_file()
    manifest = json.loads(read(built.output_dir, ".townsquare/manifest.json"))
    assert len(manifest["pages"]) == 5


def test_publish_repairs_a_damaged_export(
    post_comment: Callable[..., Any], built: Publisher
) -> None:
    post_comment(body="Worth keeping")
    built.publish()
    target = built.site_dir / "data" / "comments" / f"{PAGE}.json"
    target.write_text('{"page": "bike-')

    built.publish(full=True)

    assert [c["html"] for c in exported(built.site_dir, PAGE)["comments"]] == [
        "<p>Worth keeping</p>"
    ]
    assert "Worth keeping" in region(read(built.output_dir, TOPIC), PAGE)


# Committing the public data


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture
def publish_git_site(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample site as a Git repository with one commit, isolated from
    the user's and the system's Git configuration."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    _git(site_dir, "init", "--quiet", "--initial-branch=main")
    _git(site_dir, "config", "user.name", "Test Publisher")
    _git(site_dir, "config", "user.email", "publisher@example.org")
    _git(site_dir, "config", "commit.gpgsign", "false")
    _git(site_dir, "add", "--all")
    _git(site_dir, "commit", "--quiet", "-m", "Sample site")
    return site_dir


def test_commit_data_commits_only_the_public_data(
    publish_git_site: Path, post_comment: Callable[..., Any], built: Publisher
) -> None:
    post_comment(body="Commit me")
    built.publish()
    content = publish_git_site / "content" / "topics" / "bike-lanes.md"
    content.write_text(content.read_text() + "\nAn edit not yet reviewed.\n")

    assert commit_data(publish_git_site / "data") is True

    subject = _git(publish_git_site, "log", "-1", "--format=%s")
    assert subject.strip() == "Publish members' contributions"
    files = _git(publish_git_site, "show", "--name-only", "--format=", "HEAD")
    assert files.split() == ["data/comments/bike-lanes.json"]
    assert " M content/topics/bike-lanes.md" in _git(
        publish_git_site, "status", "--porcelain"
    )
    assert commit_data(publish_git_site / "data") is False
    assert len(_git(publish_git_site, "log", "--oneline").splitlines()) == 2

    post_comment(body="And me")
    built.publish()
    assert commit_data(publish_git_site / "data", "Second batch") is True
    assert _git(publish_git_site, "log", "-1", "--format=%s").strip() == "Second batch"


def test_commit_data_without_any_data_commits_nothing(
    publish_git_site: Path, built: Publisher
) -> None:
    assert not (publish_git_site / "data").exists()

    assert commit_data(publish_git_site / "data") is False
    assert len(_git(publish_git_site, "log", "--oneline").splitlines()) == 1


def test_autoescape_is_forced_on_for_sites_that_turn_it_off(
    site_dir: Path, store: Store, output_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conf = site_dir / "pelicanconf.py"
    conf.write_text(
        conf.read_text().replace('"autoescape": True', '"autoescape": False')
    )
    store.comments.add(
        "bike-lanes",
        NewComment(author="<b>Bold</b>", body="x", html="<p>x</p>", status="published"),
    )
    publisher = Publisher(store=store, site_dir=site_dir, output_dir=output_dir)
    publisher.publish()
    page = (output_dir / "topics" / "bike-lanes" / "index.html").read_text()
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page
    assert "<b>Bold</b>" not in page
    assert "autoescape off" in caplog.text


def test_a_damaged_manifest_keeps_the_last_good_one(
    client: Any, built: Publisher, post_comment: Any
) -> None:
    assert post_comment(body="before").status_code == 201
    manifest = built.output_dir / ".townsquare" / "manifest.json"
    manifest.write_text("{not json")
    assert post_comment(body="after").status_code == 201
