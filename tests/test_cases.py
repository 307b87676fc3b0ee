"""Every shared case in cases.jsonl, run by its kind.

A new case of a known kind needs no code: comment cases are posted, published
and checked from their own fields. Request and scenario cases each need a
function in :data:`SCENARIOS`; a case without one fails and says so.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import CASES_FILE
from townsquare.storage import open_store
from townsquare.storage.comments import HIDDEN, PUBLISHED

PAGE = "bike-lanes"
URL = f"/api/pages/{PAGE}/comments"
MB = 1024 * 1024

# The cases' loose field names, mapped onto the product's own.
COMMENT_FIELDS = {"author": "author", "body": "body"}


def load_cases() -> list[dict[str, Any]]:
    if not CASES_FILE.exists():
        return []
    lines = CASES_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CASES = load_cases()

if not CASES:
    pytest.skip(
        f"The shared cases file {CASES_FILE} is not here: set TOWNSQUARE_CASES "
        "to its path to run the shared cases.",
        allow_module_level=True,
    )


def test_cases_file_is_well_formed() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert {"id", "kind", "input", "expect"} <= set(case), case.get("id")


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    runner = KINDS.get(case["kind"])
    if runner is None:
        pytest.fail(
            f"Case {case['id']!r} has the new kind {case['kind']!r}: add a runner "
            "for it to KINDS in tests/test_cases.py."
        )
    runner(case, request)


# --- Shared checks -------------------------------------------------------------


def published_pages(output_dir: Path) -> dict[str, str]:
    """Every HTML page of the built site, by path relative to the output."""
    return {
        str(path.relative_to(output_dir)): path.read_text(encoding="utf-8")
        for path in sorted(output_dir.rglob("*.html"))
    }


def topic_page(output_dir: Path, slug: str = PAGE) -> str:
    return (output_dir / "topics" / slug / "index.html").read_text(encoding="utf-8")


def count_markers(output_dir: Path, slug: str) -> dict[str, str]:
    """The comment count each page shows for ``slug``, by page."""
    marker = re.compile(
        rf"<!--ts:count:{re.escape(slug)}-->(.*?)<!--/ts:count:{re.escape(slug)}-->",
        re.S,
    )
    found = {}
    for name, text in published_pages(output_dir).items():
        for match in marker.finditer(text):
            found[name] = re.sub(r"<[^>]+>", "", match.group(1)).strip()
    return found


def shown_comment_count(page_html: str) -> int:
    return len(re.findall(r'<li class="comment" id="comment-\d+"', page_html))


def assert_readable_error(response: Any) -> None:
    """A refusal a person or a script can read: the JSON shape or an error page."""
    assert 400 <= response.status_code < 500, response.status_code
    if response.mimetype == "application/json":
        error = response.get_json()["error"]
        assert error["status"] == response.status_code
        assert error["code"] and error["message"].strip()
    else:
        assert response.mimetype == "text/html"
        assert "<title>Error:" in response.get_data(as_text=True)


def assert_clean_text(text: str, keep: str = "") -> None:
    assert text == text.strip()
    for ch in text:
        if ch not in keep:
            assert unicodedata.category(ch) not in ("Cc", "Cs"), repr(text)


def assert_store_parses(data_dir: Path, slug: str = PAGE) -> list[Any]:
    """A fresh store over the same folder reads every segment file."""
    for segment in (data_dir / "comments" / slug).glob("seg-*.json"):
        json.loads(segment.read_text(encoding="utf-8"))
    comments = open_store(data_dir).comments
    return list(comments.for_page(slug, statuses=(PUBLISHED, "pending", HIDDEN)))


# --- kind "comment" ------------------------------------------------------------


def run_comment_case(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    client = request.getfixturevalue("client")
    built = request.getfixturevalue("built")
    settings = request.getfixturevalue("settings")
    items = case["input"] if isinstance(case["input"], list) else [case["input"]]
    must_not_match = case.get("published_page_must_not_match", [])
    must_contain = case.get("published_page_must_contain", [])
    before = published_pages(built.output_dir)
    for pattern in must_not_match:
        for name, text in before.items():
            assert not re.search(pattern, text), (
                f"{pattern!r} matches {name} before any comment: fix the case"
            )

    accepted = []
    for item in items:
        payload = {COMMENT_FIELDS.get(key, key): value for key, value in item.items()}
        response = client.post(URL, json=payload)
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if response.status_code == 201:
            accepted.append((item, response.get_json()["comment"]))
        else:
            assert_readable_error(response)

    stored = assert_store_parses(Path(settings["DATA_DIR"]))
    assert len(stored) == len(accepted)
    for comment in stored:
        assert_clean_text(comment.author)
        assert_clean_text(comment.body, keep="\n\t")
    listed = client.get(URL).get_json()
    assert listed["count"] == len(accepted)

    built.publish()
    pages = published_pages(built.output_dir)
    shown = topic_page(built.output_dir)
    for _item, comment in accepted:
        reply_form = client.get(f"{URL}/{comment['id']}/reply")
        pages[f"reply form of {comment['id']}"] = reply_form.get_data(as_text=True)
    pages["list API"] = json.dumps(listed, ensure_ascii=False)
    for pattern in must_not_match:
        for name, text in pages.items():
            assert not re.search(pattern, text), f"{pattern!r} matches {name}"
    for text in must_contain:
        assert text in html.unescape(shown), f"{text!r} is not on the topic page"
    for _item, comment in accepted:
        assert f'id="comment-{comment["id"]}"' in shown

    extra = COMMENT_CHECKS.get(case["id"])
    if extra is not None:
        extra(case, accepted, stored, shown)


def check_server_owned_fields(
    case: dict[str, Any], accepted: list[Any], stored: list[Any], shown: str
) -> None:
    assert len(accepted) == 1, "the comment is accepted"
    _item, comment = accepted[0]
    (saved,) = stored
    assert isinstance(saved.id, int) and saved.id == comment["id"] >= 1
    assert comment["id"] != case["input"]["id"]
    created = datetime.fromisoformat(saved.created)
    assert abs(datetime.now(UTC) - created) < timedelta(hours=1)
    assert saved.status == PUBLISHED
    for name in ("approved", "official", "votes"):
        assert not hasattr(saved, name)
        assert name not in comment
    assert "1999" not in shown


def check_unicode_names(
    case: dict[str, Any], accepted: list[Any], stored: list[Any], shown: str
) -> None:
    assert [c["author"] for _i, c in accepted] == ["Иван Петров", "Mary Ann"]
    assert [c.author for c in stored] == ["Иван Петров", "Mary Ann"]
    assert '<span class="comment-author">Mary Ann</span>' in shown
    assert '<span class="comment-author">Иван Петров</span>' in shown


def check_exact_round_trip(
    case: dict[str, Any], accepted: list[Any], stored: list[Any], shown: str
) -> None:
    assert len(accepted) == 1, "the comment is accepted"
    (saved,) = stored
    assert saved.author == case["input"]["author"]
    assert saved.body == case["input"]["body"]
    assert f'<span class="comment-author">{saved.author}</span>' in shown


def check_control_characters(
    case: dict[str, Any], accepted: list[Any], stored: list[Any], shown: str
) -> None:
    if not accepted:
        return  # refused with a 4xx, which the case allows
    (saved,) = stored
    assert saved.author == "CaseTester"
    assert saved.body == "line one[31m red\nline two"
    assert "\x1b" not in shown and "\x00" not in shown


COMMENT_CHECKS: dict[str, Callable[..., None]] = {
    "server-owned-fields": check_server_owned_fields,
    "unicode-names": check_unicode_names,
    "emoji-round-trip": check_exact_round_trip,
    "control-characters": check_control_characters,
}


# --- kind "request" and "scenario": one function per case ----------------------


def forwarded_for_rotation(
    case: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    limit = 5
    make_app = request.getfixturevalue("make_app")
    client = make_app(RATE_LIMIT_WRITES=f"{limit} per minute").test_client()

    answers = [
        client.post(
            URL,
            json={"author": "Rotating", "body": f"Attempt {n}"},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
        )
        for n in range(1, 101)
    ]

    assert [a.status_code for a in answers[:limit]] == [201] * limit
    for answer in answers[limit:]:
        assert answer.status_code == 429
        error = answer.get_json()["error"]
        assert error["status"] == 429 and "wait" in error["message"]
    assert client.get(URL).get_json()["count"] == limit


WRITER = r"""
import json, sys, time
from pathlib import Path
from townsquare.app import create_app

settings, go = json.loads(sys.argv[1]), Path(sys.argv[2])
worker, count = sys.argv[3], int(sys.argv[4])
client = create_app(settings).test_client()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.005)
acknowledged = []
for n in range(count):
    body = {"author": f"Writer {worker}", "body": f"Comment {worker}-{n}"}
    answer = client.post("/api/pages/bike-lanes/comments", json=body)
    if answer.status_code == 201:
        acknowledged.append([answer.get_json()["comment"]["id"], body["body"]])
    else:
        print(answer.status_code, answer.get_data(as_text=True)[:200], file=sys.stderr)
print(json.dumps(acknowledged))
"""


def parallel_writers(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    workers, each = 4, 200
    built = request.getfixturevalue("built")
    settings = request.getfixturevalue("settings")
    tmp_path = request.getfixturevalue("tmp_path")
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    argv = [sys.executable, "-c", WRITER, json.dumps(settings), str(go)]
    writers = [
        subprocess.Popen(
            [*argv, str(n), str(each)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    time.sleep(0.5)  # let every writer import and open the store
    go.touch()
    acknowledged = []
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0, err[-2000:]
        acknowledged.extend(json.loads(out))

    assert len(acknowledged) == workers * each
    ids = [comment_id for comment_id, _body in acknowledged]
    assert len(set(ids)) == len(ids), "two comments got the same id"
    stored = assert_store_parses(Path(settings["DATA_DIR"]))
    assert sorted(c.id for c in stored) == sorted(ids)
    assert {c.id: c.body for c in stored} == dict(acknowledged)
    built.publish()
    shown = topic_page(built.output_dir)
    assert shown_comment_count(shown) == workers * each
    assert f"{workers * each} comments" in shown


def oversized_bodies(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    client = request.getfixturevalue("client")
    endless = request.getfixturevalue("api_endless_body")
    stored = request.getfixturevalue("api_stored_comments")
    form = "application/x-www-form-urlencoded"
    huge = endless(100 * MB)
    attempts = {
        "a comment body of 1 MB": lambda: client.post(
            URL, json={"author": "Big", "body": "x" * MB}
        ),
        "a request body of 100 MB": lambda: client.post(
            URL, input_stream=huge, content_length=100 * MB, content_type=form
        ),
        "a form with 10,000 fields (distinct names)": lambda: client.post(
            URL,
            data="author=A&body=B&" + "&".join(f"f{n}=1" for n in range(10_000)),
            content_type=form,
        ),
        "a form with 10,000 fields (short, under the byte limit)": lambda: client.post(
            URL, data="author=A&body=B&" + "x=1&" * 10_000, content_type=form
        ),
    }

    for name, attempt in attempts.items():
        response = attempt()
        assert response.status_code in (400, 413), f"{name}: {response.status_code}"
        assert_readable_error(response)
        assert stored() == [], f"{name}: something was stored"
        assert client.get("/api/health").status_code == 200, name
        assert client.get(URL).status_code == 200, name
    assert huge.bytes_read < MB


def counts_exclude_unpublished(
    case: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    client = request.getfixturevalue("client")
    built = request.getfixturevalue("built")
    store = request.getfixturevalue("store")
    make_app = request.getfixturevalue("make_app")
    ids = [
        client.post(
            URL, json={"author": "Reader", "body": f"Published {n}"}
        ).get_json()["comment"]["id"]
        for n in range(26)
    ]
    store.comments.set_status(PAGE, ids[-1], HIDDEN)
    moderated = make_app(MODERATION="pre").test_client()
    for n in range(2):
        answer = moderated.post(URL, json={"author": "Waiting", "body": f"Pending {n}"})
        assert answer.get_json()["comment"]["status"] == "pending"

    for full in (False, True):
        built.publish(full=full)
        listed = client.get(URL).get_json()
        assert listed["count"] == 25
        assert len(listed["comments"]) == 25
        shown = topic_page(built.output_dir)
        assert shown_comment_count(shown) == 25
        assert '<span class="comments-count">25 comments</span>' in shown
        assert "Pending 0" not in shown and "Published 25" not in shown
        counts = count_markers(built.output_dir, PAGE)
        assert "topics/index.html" in counts
        assert set(counts.values()) == {"25 comments"}, counts


def similar_page_slugs(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    client = request.getfixturevalue("client")
    built = request.getfixturevalue("built")
    texts = {"bike-lanes": "Only about the lanes", "bike-lanes-2": "Only about parking"}

    # Publish between the two, so the second publish splices next to the first.
    for slug, text in texts.items():
        answer = client.post(
            f"/api/pages/{slug}/comments", json={"author": "Neighbour", "body": text}
        )
        assert answer.status_code == 201
        built.publish()

    for full in (False, True):
        if full:
            built.publish(full=True)
        for slug, text in texts.items():
            other = next(t for s, t in texts.items() if s != slug)
            shown = topic_page(built.output_dir, slug)
            assert text in shown and other not in shown, slug
            assert shown_comment_count(shown) == 1, slug
            assert '<span class="comments-count">1 comment</span>' in shown
            assert client.get(f"/api/pages/{slug}/comments").get_json()["count"] == 1
            counts = count_markers(built.output_dir, slug)
            assert counts and set(counts.values()) == {"1 comment"}, (slug, counts)


SCENARIOS: dict[str, Callable[[dict[str, Any], pytest.FixtureRequest], None]] = {
    "forwarded-for-rotation": forwarded_for_rotation,
    "parallel-writers": parallel_writers,
    "oversized-bodies": oversized_bodies,
    "counts-exclude-unpublished": counts_exclude_unpublished,
    "similar-page-slugs": similar_page_slugs,
}


def run_scenario(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    scenario = SCENARIOS.get(case["id"])
    if scenario is None:
        pytest.fail(
            f"Case {case['id']!r} of kind {case['kind']!r} has no test yet: write a "
            "function for it and add it to SCENARIOS in tests/test_cases.py."
        )
    scenario(case, request)


def run_vote_case(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    pytest.skip("polls do not exist yet")


KINDS: dict[str, Callable[[dict[str, Any], pytest.FixtureRequest], None]] = {
    "comment": run_comment_case,
    "request": run_scenario,
    "scenario": run_scenario,
    "vote": run_vote_case,
}
