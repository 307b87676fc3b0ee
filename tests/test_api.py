"""The comment API: JSON for scripts, forms for browsers, one error shape."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from townsquare.storage import Store
from townsquare.storage.comments import HIDDEN, PENDING, PUBLISHED, NewComment

PAGE = "bike-lanes"
URL = f"/api/pages/{PAGE}/comments"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


class PageOutline(HTMLParser):
    """The parts of an HTML page the form tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.title = ""
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.inputs: dict[str, str] = {}
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.ids.add(found["id"])
        if tag == "a" and "href" in found:
            self.links.append(found["href"])
        if tag == "input" and "name" in found:
            self.inputs[found["name"]] = found.get("value", "")
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def listed(client: Any, page: str = PAGE) -> dict[str, Any]:
    response = client.get(f"/api/pages/{page}/comments")
    assert response.status_code == 200
    found: dict[str, Any] = response.get_json()
    return found


def add_direct(store: Store, status: str, page: str = PAGE) -> int:
    """Store a comment without the API, as moderation tools would."""
    comment = store.comments.add(
        page,
        NewComment(author="Direct", body="Stored", html="<p>Stored</p>", status=status),
    )
    return comment.id


# --- Posting and listing -------------------------------------------------------


def test_post_answers_201_with_the_comment(post_comment) -> None:
    response = post_comment(body="Protected lanes, *please*")

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) == {"comment", "message"}
    comment = data["comment"]
    assert set(comment) == {
        "id",
        "parent",
        "author",
        "html",
        "created",
        "created_display",
        "status",
    }
    assert comment["created_display"]
    assert isinstance(comment["id"], int) and comment["id"] >= 1
    assert comment["parent"] is None
    assert comment["author"] == "Test Resident"
    assert comment["html"] == "<p>Protected lanes, <em>please</em></p>"
    assert TIMESTAMP.match(comment["created"])
    assert comment["status"] == PUBLISHED
    assert data["message"] == "Your comment is published."


def test_ids_grow_per_page(post_comment) -> None:
    first = post_comment().get_json()["comment"]["id"]
    second = post_comment().get_json()["comment"]["id"]
    other = post_comment(page="bike-lanes-2").get_json()["comment"]["id"]

    assert second > first
    assert other == 1


def test_list_shows_published_comments_oldest_first(client, post_comment) -> None:
    for n in range(3):
        assert post_comment(body=f"Comment {n}").status_code == 201

    data = listed(client)

    assert data["page"] == PAGE
    assert data["count"] == 3
    assert [c["html"] for c in data["comments"]] == [
        "<p>Comment 0</p>",
        "<p>Comment 1</p>",
        "<p>Comment 2</p>",
    ]
    ids = [c["id"] for c in data["comments"]]
    assert ids == sorted(ids)
    for item in data["comments"]:
        assert set(item) == {
            "id",
            "parent",
            "author",
            "html",
            "created",
            "created_display",
        }


def test_private_fields_never_listed(client, post_comment) -> None:
    post_comment(email="resident@example.org", body="Ask me")

    response = client.get(URL)

    text = response.get_data(as_text=True)
    assert "resident@example.org" not in text
    assert "127.0.0" not in text
    assert '"body"' not in text
    assert '"status"' not in text


def test_empty_page_lists_nothing(client) -> None:
    assert listed(client) == {"page": PAGE, "count": 0, "comments": []}


def test_after_lists_only_newer_comments(client, post_comment) -> None:
    ids = [
        post_comment(body=f"Number {n}").get_json()["comment"]["id"] for n in range(3)
    ]

    data = client.get(f"{URL}?after={ids[0]}").get_json()

    assert [c["id"] for c in data["comments"]] == ids[1:]
    assert data["count"] == 3
    assert client.get(f"{URL}?after={ids[-1]}").get_json()["comments"] == []


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", "١", "9" * 13, "", "0x10"])
def test_after_must_be_a_comment_id(client, api_json_error, after: str) -> None:
    response = client.get(URL, query_string={"after": after})

    error = api_json_error(response, 400, "invalid_input")
    assert "after" in error["message"]


def test_list_of_a_closed_page_still_answers(client) -> None:
    assert client.get("/api/pages/old-library-hours/comments").status_code == 200
    assert client.get("/api/pages/past-deadline/comments").status_code == 200


# --- Conditional requests ------------------------------------------------------


def test_list_has_an_etag_and_answers_304(client, post_comment) -> None:
    post_comment()
    first = client.get(URL)
    etag = first.headers["ETag"]
    assert etag
    assert first.headers["Cache-Control"] == "no-cache"

    again = client.get(URL, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_etag_changes_with_a_new_comment(client, post_comment) -> None:
    post_comment()
    etag = client.get(URL).headers["ETag"]
    post_comment(body="Another view")

    fresh = client.get(URL, headers={"If-None-Match": etag})

    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != etag
    assert fresh.get_json()["count"] == 2


def test_etag_changes_when_a_comment_is_hidden(client, post_comment, store) -> None:
    comment_id = post_comment().get_json()["comment"]["id"]
    etag = client.get(URL).headers["ETag"]
    store.comments.set_status(PAGE, comment_id, HIDDEN)

    fresh = client.get(URL, headers={"If-None-Match": etag})

    assert fresh.status_code == 200
    assert fresh.get_json()["count"] == 0


# --- Replies -------------------------------------------------------------------


def test_reply_to_a_published_comment(client, post_comment) -> None:
    parent = post_comment().get_json()["comment"]["id"]

    response = post_comment(body="I agree", parent=parent)

    assert response.status_code == 201
    assert response.get_json()["comment"]["parent"] == parent
    replies = [c for c in listed(client)["comments"] if c["parent"] == parent]
    assert len(replies) == 1


def test_reply_parent_may_be_a_digit_string(post_comment) -> None:
    parent = post_comment().get_json()["comment"]["id"]

    response = post_comment(parent=str(parent))

    assert response.status_code == 201
    assert response.get_json()["comment"]["parent"] == parent


@pytest.mark.parametrize("which", ["unknown", "other-page", "hidden", "pending"])
def test_reply_parent_must_be_published_on_this_page(
    client, post_comment, store, api_json_error, which: str
) -> None:
    post_comment()  # id 1 on this page
    if which == "unknown":
        parent = 999
    elif which == "other-page":
        for _ in range(2):
            post_comment(page="bike-lanes-2")
        parent = 2  # exists only on bike-lanes-2
    elif which == "hidden":
        parent = post_comment().get_json()["comment"]["id"]
        store.comments.set_status(PAGE, parent, HIDDEN)
    else:
        parent = add_direct(store, PENDING)
    before = listed(client)["count"]

    response = post_comment(body="A reply", parent=parent)

    error = api_json_error(response, 400, "invalid_input")
    assert "parent" in error["fields"]
    assert listed(client)["count"] == before


# --- Refusals ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("slug", ["no-such-page", "about", "Bike-Lanes", "x" * 300])
def test_unknown_page_is_404(client, api_json_error, method: str, slug: str) -> None:
    url = f"/api/pages/{slug}/comments"
    call = getattr(client, method)
    response = (
        call(url, json={"author": "A", "body": "B"}) if method == "post" else call(url)
    )

    error = api_json_error(response, 404, "not_found")
    assert "fields" not in error


@pytest.mark.parametrize("slug", ["old-library-hours", "past-deadline"])
def test_closed_page_is_409(client, post_comment, api_json_error, slug: str) -> None:
    response = post_comment(page=slug)

    error = api_json_error(response, 409, "closed")
    assert "closed" in error["message"]
    assert listed(client, slug)["count"] == 0


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(client, api_json_error, method: str) -> None:
    response = getattr(client, method)(URL, json={"author": "A", "body": "B"})

    api_json_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_reply_route_is_read_only(client, api_json_error) -> None:
    api_json_error(client.delete(f"{URL}/1/reply"), 405)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/merge-patch+json"]
)
def test_other_content_types_are_415(client, api_json_error, content_type: str) -> None:
    body = json.dumps({"author": "A", "body": "B"})

    response = client.post(URL, data=body, content_type=content_type)

    error = api_json_error(response, 415)
    assert "JSON" in error["message"]
    assert listed(client)["count"] == 0


def test_no_content_type_is_415(client, api_json_error) -> None:
    response = client.post(URL, data=b'{"author": "A", "body": "B"}')

    api_json_error(response, 415)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"author": "A", "body": "B"',
        b"",
        b"[]",
        b'[{"author": "A", "body": "B"}]',
        b'"a string"',
        b"null",
        b"42",
        b"true",
    ],
    ids=[
        "broken",
        "truncated",
        "empty",
        "array",
        "array-of-one",
        "string",
        "null",
        "number",
        "bool",
    ],
)
def test_json_that_is_not_an_object_is_400(client, api_json_error, raw: bytes) -> None:
    response = client.post(URL, data=raw, content_type="application/json")

    api_json_error(response, 400)
    assert listed(client)["count"] == 0


def test_missing_fields_are_all_reported(post_comment, api_json_error) -> None:
    response = post_comment(author="", body="   ")

    error = api_json_error(response, 400, "invalid_input")
    assert set(error["fields"]) == {"author", "body"}
    assert error["message"] == "There is a problem with your comment."


def test_overlong_comment_names_the_limit(post_comment, api_json_error) -> None:
    response = post_comment(body="x" * 5001)

    error = api_json_error(response, 400, "invalid_input")
    assert "5,000" in error["fields"]["body"]


def test_markup_only_comment_is_refused(post_comment, api_json_error) -> None:
    response = post_comment(body="<script>alert(1)</script><img src=x>")

    error = api_json_error(response, 400, "invalid_input")
    assert "body" in error["fields"]


def test_entity_only_comment_is_refused(post_comment, api_json_error) -> None:
    """A body that renders to no visible words is as empty as a blank one."""
    response = post_comment(body="&nbsp;")

    error = api_json_error(response, 400, "invalid_input")
    assert "body" in error["fields"]


def test_health(client) -> None:
    response = client.get("/api/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- Nasty bodies: always an answer, never a 500 -------------------------------


def _json(**fields: Any) -> bytes:
    return json.dumps({"author": "Fuzz", "body": "Fuzz body", **fields}).encode()


def _with_parent(raw: bytes) -> bytes:
    return b'{"author": "A", "body": "B", "parent": ' + raw + b"}"


NASTY_JSON: dict[str, bytes] = {
    "author-number": _json(author=42),
    "author-float": _json(author=4.2),
    "author-list": _json(author=["a", "b"]),
    "author-null": _json(author=None),
    "author-bool": _json(author=True),
    "author-object": _json(author={"$gt": ""}),
    "body-number": _json(body=7),
    "body-list": _json(body=["line"]),
    "body-null": _json(body=None),
    "body-bool": _json(body=False),
    "body-nested": _json(body={"a": {"b": {"c": [1, {"d": None}]}}}),
    "email-number": _json(email=5),
    "email-list": _json(email=["a@example.org"]),
    "parent-string": _json(parent="abc"),
    "parent-fullwidth-digits": _json(parent="１２"),
    "parent-bool": _json(parent=True),
    "parent-float": _json(parent=1.5),
    "parent-negative": _json(parent=-1),
    "parent-zero": _json(parent=0),
    "parent-huge": _json(parent=10**30),
    "parent-list": _json(parent=[1]),
    "parent-object": _json(parent={"id": 1}),
    "parent-4000-digits": _with_parent(b"9" * 4000),
    "parent-5000-digits": _with_parent(b"9" * 5000),
    "parent-nan": b'{"author": "A", "body": "B", "parent": NaN}',
    "parent-infinity": b'{"author": "A", "body": "B", "parent": 1e999}',
    "lone-surrogate-author": b'{"author": "\\ud800", "body": "B"}',
    "lone-surrogate-body": b'{"author": "A", "body": "text \\udfff here"}',
    "lone-surrogate-key": b'{"\\ud800": 1, "author": "A", "body": "B"}',
    "lone-surrogate-parent": b'{"author": "A", "body": "B", "parent": "\\ud800"}',
    "escaped-nul": b'{"author": "A\\u0000B", "body": "\\u0000"}',
    "raw-nul-in-string": b'{"author": "A\x00B", "body": "B"}',
    "raw-nul-outside": b'{"author": "A", "body": "B"}\x00',
    "bad-utf8": b'{"author": "\xff\xfe", "body": "\xc3("}',
    "utf8-bom": b'\xef\xbb\xbf{"author": "A", "body": "B"}',
    "nested-arrays-3000": b"[" * 3000 + b"]" * 3000,
    "nested-body-3000": b'{"author": "A", "body": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    "duplicate-keys": b'{"author": "A", "author": 5, "body": "B"}',
    "many-keys": json.dumps({f"k{n}": n for n in range(3000)}).encode(),
}


@pytest.mark.parametrize("raw", NASTY_JSON.values(), ids=NASTY_JSON.keys())
def test_nasty_json_never_500(client, api_json_error, raw: bytes) -> None:
    response = client.post(URL, data=raw, content_type="application/json")

    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code != 201:
        api_json_error(response, response.status_code)
    assert client.get(URL).status_code == 200


NASTY_FORMS: dict[str, bytes] = {
    "bad-utf8-raw": b"author=\xff\xfe&body=caf\xe9",
    "bad-utf8-escaped": b"author=%FF%FE&body=caf%E9",
    "encoded-surrogate": b"author=%ED%A0%80&body=x",
    "nul-bytes": b"author=A%00B&body=%00%00",
    "raw-nul": b"author=A\x00B&body=B",
    "no-equals": b"author&body",
    "only-ampersands": b"&&&&&&",
    "repeated-fields": b"author=A&author=B&body=C&body=D",
    "parent-junk": b"author=A&body=B&parent=%F0%9F%98%80",
    "parent-huge": b"author=A&body=B&parent=" + b"9" * 40,
    "empty": b"",
}


@pytest.mark.parametrize("raw", NASTY_FORMS.values(), ids=NASTY_FORMS.keys())
def test_nasty_forms_never_500(client, raw: bytes) -> None:
    response = client.post(
        URL, data=raw, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.mimetype == "text/html"
        assert PageOutline(response.get_data(as_text=True)).title.startswith("Error:")
    assert client.get(URL).status_code == 200


def test_store_still_valid_after_nasty_input(client, api_stored_comments) -> None:
    for raw in NASTY_JSON.values():
        client.post(URL, data=raw, content_type="application/json")

    stored = api_stored_comments()

    assert listed(client)["count"] == len(stored)
    for comment in stored:
        comment.author.encode("utf-8")
        comment.body.encode("utf-8")
        assert comment.author and comment.author == comment.author.strip()


# --- Form posts (browsers without JavaScript) ----------------------------------


def test_form_post_redirects_to_the_page(client, api_post_form) -> None:
    response = api_post_form()

    assert response.status_code == 303
    assert response.headers["Location"] == "/topics/bike-lanes/#comment-published"
    assert listed(client)["count"] == 1


def test_form_reply_keeps_its_parent(client, api_post_form, post_comment) -> None:
    parent = post_comment().get_json()["comment"]["id"]

    response = api_post_form(parent=str(parent), body="Replying by form")

    assert response.status_code == 303
    reply = listed(client)["comments"][-1]
    assert reply["parent"] == parent


def test_form_post_with_premoderation(make_app, api_stored_comments) -> None:
    client = make_app(MODERATION="pre").test_client()

    response = client.post(URL, data={"author": "Quiet", "body": "Please review"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/topics/bike-lanes/#comment-pending"
    assert listed(client) == {"page": PAGE, "count": 0, "comments": []}
    pending = api_stored_comments(statuses=(PENDING,))
    assert [c.author for c in pending] == ["Quiet"]


def test_json_post_with_premoderation(make_app) -> None:
    client = make_app(MODERATION="pre").test_client()

    response = client.post(URL, json={"author": "Quiet", "body": "Please review"})

    assert response.status_code == 201
    data = response.get_json()
    assert data["comment"]["status"] == PENDING
    assert "moderator" in data["message"]
    assert listed(client)["count"] == 0


def test_form_validation_error_page(client, api_post_form) -> None:
    typed = '<script>alert("x")</script> & Co'

    response = api_post_form(author=typed, body="   ", email="not-an-email")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    outline = PageOutline(html)
    assert outline.title.startswith("Error:")
    assert 'class="error-summary"' in html
    summary = [link for link in outline.links if link.startswith("#comment-")]
    assert set(summary) >= {"#comment-body", "#comment-email"}
    for link in summary:
        assert link[1:] in outline.ids
    assert outline.inputs["author"] == typed
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert outline.inputs["email"] == "not-an-email"
    assert listed(client)["count"] == 0


def test_form_validation_error_keeps_the_comment_text(api_post_form) -> None:
    response = api_post_form(author="", body="My <b>draft</b> text")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "My &lt;b&gt;draft&lt;/b&gt; text</textarea>" in html
    assert 'href="#comment-author"' in html


@pytest.mark.parametrize(
    ("slug", "status"), [("old-library-hours", 409), ("no-such-page", 404)]
)
def test_form_refusals_are_pages(api_post_form, slug: str, status: int) -> None:
    response = api_post_form(page=slug)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert PageOutline(response.get_data(as_text=True)).title.startswith("Error:")


def test_reply_form_page(client, post_comment) -> None:
    parent = post_comment(author="Ada Resident").get_json()["comment"]["id"]

    response = client.get(f"{URL}/{parent}/reply", headers=HTML_ACCEPT)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    outline = PageOutline(html)
    assert outline.inputs["parent"] == str(parent)
    assert 'type="hidden" name="parent"' in html
    assert "Reply to Ada Resident" in outline.title
    assert f'action="{URL}"' in html


@pytest.mark.parametrize("which", ["unknown", "hidden", "pending", "huge"])
def test_reply_form_for_unavailable_comment_is_404(
    client, post_comment, store, which: str
) -> None:
    if which == "unknown":
        comment_id = 404
    elif which == "huge":
        comment_id = 10**25
    elif which == "hidden":
        comment_id = post_comment().get_json()["comment"]["id"]
        store.comments.set_status(PAGE, comment_id, HIDDEN)
    else:
        comment_id = add_direct(store, PENDING)

    response = client.get(f"{URL}/{comment_id}/reply", headers=HTML_ACCEPT)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert PageOutline(response.get_data(as_text=True)).title.startswith("Error:")


# --- The live-list shortcut ----------------------------------------------------


@pytest.mark.parametrize("query", ["", "?after=0", "?after=1"])
def test_live_list_shortcut_answers_like_the_route(
    client: FlaskClient, post_comment: Any, query: str
) -> None:
    """The WSGI shortcut and the Flask route give the same answer.

    A request with an Origin header always goes through the route, so
    comparing a plain request with a same-origin one compares the two paths.
    """
    for body in ("First", "Second"):
        assert post_comment(body=body).status_code == 201
    url = f"/api/pages/bike-lanes/comments{query}"

    fast = client.get(url)
    routed = client.get(url, headers={"Origin": "http://localhost"})

    assert fast.status_code == routed.status_code == 200
    assert fast.get_data() == routed.get_data()
    for name in (
        "Content-Type",
        "ETag",
        "Cache-Control",
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
    ):
        assert fast.headers[name] == routed.headers[name], name
    assert routed.headers.get("Vary") and "Origin" in routed.headers["Vary"]


def test_live_list_shortcut_answers_unchanged_lists_with_304(
    client: FlaskClient, post_comment: Any
) -> None:
    assert post_comment(body="Only one").status_code == 201
    first = client.get("/api/pages/bike-lanes/comments")
    etag = first.headers["ETag"]

    again = client.get(
        "/api/pages/bike-lanes/comments", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.get_data() == b""

    assert post_comment(body="A second one").status_code == 201
    changed = client.get(
        "/api/pages/bike-lanes/comments", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_live_list_shortcut_leaves_odd_requests_to_the_route(
    client: FlaskClient,
) -> None:
    assert client.get("/api/pages/no-such-page/comments").status_code == 404
    assert client.get("/api/pages/bike-lanes/comments?after=x").status_code == 400
    assert client.get("/api/pages/bike-lanes/comments?after=1&x=2").status_code == 200


# --- Review findings -------------------------------------------------------------


def test_very_long_ids_are_refused_not_errors(
    client: FlaskClient, post_comment: Any
) -> None:
    response = post_comment(parent="9" * 5000)
    assert response.status_code == 400
    assert "parent" in response.get_json()["error"]["fields"]
    reply = client.get("/api/pages/bike-lanes/comments/" + "9" * 5000 + "/reply")
    assert reply.status_code == 404


def test_demo_static_server_never_leaves_the_build(make_app: Any, built: Any) -> None:
    """Raw request lines, as a real server sees them (a test client would
    read "//tmp" as a host name)."""
    import http.client

    from livesite import serving
    from townsquare.demo import add_static_site

    app = make_app()
    add_static_site(app, built.output_dir)
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        for path, status, location in (
            ("//tmp", 404, None),
            ("//etc/passwd", 404, None),
            ("/%2e%2e/%2e%2e/etc/passwd", 404, None),
            ("/.townsquare/build.json", 404, None),
            ("//topics", 308, "/topics/"),
        ):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert (response.status, response.getheader("Location")) == (
                status,
                location,
            ), path


def test_ipv4_mapped_addresses_are_shortened_like_ipv4() -> None:
    from townsquare.comments.service import anonymise

    assert anonymise("::ffff:203.0.113.5") == "203.0.113.0"
    assert anonymise("2001:db8:1:2::5") == "2001:db8:1::"
