"""Abuse resistance: origins, CORS, headers, sizes and rate limits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from livesite import stop
from townsquare import config
from townsquare.security import API_POLICY, PAGE_POLICY

PAGE = "bike-lanes"
URL = f"/api/pages/{PAGE}/comments"
COMMENT = {"author": "Careful Resident", "body": "A safe comment"}
FORM_TYPE = "application/x-www-form-urlencoded"
HTML_ACCEPT = {"Accept": "text/html"}
MB = 1024 * 1024


def count(client: Any) -> int:
    found: int = client.get(URL).get_json()["count"]
    return found


def still_answers(client: Any) -> None:
    """The app reads and writes normally after whatever came before."""
    assert client.get("/api/health").status_code == 200
    assert client.get(URL).status_code == 200


# --- Cross-site writes ---------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example",
        "https://localhost",
        "http://localhost:8081",
        "null",
        "",
    ],
)
def test_post_from_another_origin_is_403(
    client, api_json_error, api_stored_comments, origin: str
) -> None:
    response = client.post(URL, json=COMMENT, headers={"Origin": origin})

    error = api_json_error(response, 403, "forbidden")
    assert "another website" in error["message"] or "other websites" in error["message"]
    assert api_stored_comments() == []


def test_form_from_another_origin_is_a_403_page(client, api_stored_comments) -> None:
    response = client.post(
        URL, data=COMMENT, headers={"Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "<title>Error:" in response.get_data(as_text=True)
    assert api_stored_comments() == []


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_cross_site_fetch_without_origin_is_403(
    client, api_json_error, api_stored_comments, site: str
) -> None:
    response = client.post(URL, json=COMMENT, headers={"Sec-Fetch-Site": site})

    api_json_error(response, 403, "forbidden")
    assert api_stored_comments() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},
        {"Origin": "HTTP://LOCALHOST"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
        {},
    ],
    ids=["origin", "origin-upper", "fetch-same", "fetch-none", "both", "no-headers"],
)
def test_same_origin_posts_are_accepted(client, headers: dict[str, str]) -> None:
    response = client.post(URL, json=COMMENT, headers=headers)

    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("setting", "value", "origin"),
    [
        ("ALLOWED_ORIGINS", ["https://partner.example"], "https://partner.example"),
        (
            "ALLOWED_ORIGINS",
            ["https://partner.example/path/"],
            "https://partner.example",
        ),
        ("SITE_URL", "https://talk.example/", "https://talk.example"),
    ],
)
def test_configured_origins_may_write(
    make_app, setting: str, value: Any, origin: str
) -> None:
    client = make_app(**{setting: value}).test_client()

    response = client.post(URL, json=COMMENT, headers={"Origin": origin})

    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response.headers["Vary"]
    listed = client.get(URL, headers={"Origin": origin})
    assert listed.headers["Access-Control-Allow-Origin"] == origin


def test_other_origins_get_no_cors_on_reads(make_app) -> None:
    client = make_app(ALLOWED_ORIGINS=["https://partner.example"]).test_client()

    response = client.get(URL, headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def preflight(client: Any, origin: str) -> Any:
    return client.options(
        URL,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_preflight_from_an_allowed_origin(make_app) -> None:
    client = make_app(ALLOWED_ORIGINS=["https://partner.example"]).test_client()

    response = preflight(client, "https://partner.example")

    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Set-Cookie" not in response.headers


def test_preflight_from_another_origin_gets_no_cors(make_app) -> None:
    client = make_app(ALLOWED_ORIGINS=["https://partner.example"]).test_client()

    response = preflight(client, "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


# --- Headers on every kind of response -----------------------------------------


def _responses(client: Any, post_comment: Any) -> dict[str, tuple[Any, str]]:
    """One response of each kind, with the policy it should carry."""
    created = post_comment()
    comment_id = created.get_json()["comment"]["id"]
    return {
        "created": (created, API_POLICY),
        "list": (client.get(URL), API_POLICY),
        "health": (client.get("/api/health"), API_POLICY),
        "json-400": (post_comment(body=""), API_POLICY),
        "json-403": (
            client.post(URL, json=COMMENT, headers={"Origin": "null"}),
            API_POLICY,
        ),
        "json-404": (client.get("/api/pages/nope/comments"), API_POLICY),
        "json-405": (client.put(URL), API_POLICY),
        "json-415": (client.post(URL, data="x", content_type="text/plain"), API_POLICY),
        "form-303": (client.post(URL, data=COMMENT), None),
        "form-400": (client.post(URL, data={"author": "", "body": ""}), PAGE_POLICY),
        "form-409": (
            client.post("/api/pages/old-library-hours/comments", data=COMMENT),
            PAGE_POLICY,
        ),
        "reply-form": (
            client.get(f"{URL}/{comment_id}/reply", headers=HTML_ACCEPT),
            PAGE_POLICY,
        ),
        "html-404": (client.get("/nothing-here", headers=HTML_ACCEPT), PAGE_POLICY),
    }


def test_every_response_has_security_headers(client, post_comment) -> None:
    for name, (response, policy) in _responses(client, post_comment).items():
        headers = response.headers
        assert response.status_code < 500, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert "Content-Security-Policy" in headers, name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        if policy is not None:
            assert headers["Content-Security-Policy"] == policy, name
        if response.mimetype == "text/html":
            assert "script-src 'self'" in headers["Content-Security-Policy"], name


def test_html_pages_are_pages_and_json_is_json(client, post_comment) -> None:
    for name, (response, policy) in _responses(client, post_comment).items():
        if policy == PAGE_POLICY:
            assert response.mimetype == "text/html", name
        elif policy == API_POLICY:
            assert response.mimetype == "application/json", name


def test_no_cookies_anywhere(client, post_comment) -> None:
    for name, (response, _policy) in _responses(client, post_comment).items():
        assert "Set-Cookie" not in response.headers, name


# --- Sizes ---------------------------------------------------------------------


def test_one_megabyte_comment_is_413(
    client, api_json_error, api_stored_comments
) -> None:
    response = client.post(URL, json={"author": "Big", "body": "x" * MB})

    error = api_json_error(response, 413)
    assert "too large" in error["message"]
    assert api_stored_comments() == []
    still_answers(client)
    assert client.post(URL, json=COMMENT).status_code == 201


def test_one_megabyte_form_is_a_413_page(client, api_stored_comments) -> None:
    response = client.post(URL, data={"author": "Big", "body": "x" * MB})

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "<title>Error:" in response.get_data(as_text=True)
    assert api_stored_comments() == []
    still_answers(client)


@pytest.mark.parametrize("content_type", ["application/json", FORM_TYPE])
def test_hundred_megabyte_request_is_413_unread(
    client, api_stored_comments, api_endless_body, content_type: str
) -> None:
    body = api_endless_body(100 * MB)

    response = client.post(
        URL, input_stream=body, content_length=100 * MB, content_type=content_type
    )

    assert response.status_code == 413
    assert body.bytes_read < MB
    assert api_stored_comments() == []
    still_answers(client)


@pytest.mark.parametrize(
    ("content_type", "prefix"),
    [
        ("application/json", b'{"author": "A", "body": "B", "pad": "'),
        (FORM_TYPE, b"author=A&body=B&pad="),
    ],
    ids=["json", "form"],
)
def test_hundred_megabyte_stream_without_length_is_refused(
    client, api_stored_comments, api_endless_body, content_type: str, prefix: bytes
) -> None:
    """A chunked upload has no length up front: it is refused, never stored cut.

    WSGI servers that stream such a body mark it ``wsgi.input_terminated``.
    """
    body = api_endless_body(100 * MB, prefix=prefix)

    response = client.post(
        URL,
        input_stream=body,
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert response.status_code in (400, 413)
    assert body.bytes_read <= 2 * MB
    assert api_stored_comments() == []
    still_answers(client)


def test_ten_thousand_form_fields_are_refused(client, api_stored_comments) -> None:
    fields = "&".join(f"f{n}=1" for n in range(10_000))

    response = client.post(
        URL, data=f"author=A&body=B&{fields}", content_type=FORM_TYPE
    )

    assert response.status_code in (400, 413)
    assert response.mimetype == "text/html"
    assert api_stored_comments() == []
    still_answers(client)


def test_ten_thousand_short_form_fields_are_refused(
    client, api_stored_comments
) -> None:
    """10,000 fields that fit under the byte limit still exceed MAX_FORM_FIELDS."""
    body = "author=A&body=B&" + "x=1&" * 10_000

    response = client.post(URL, data=body, content_type=FORM_TYPE)

    assert response.status_code in (400, 413)
    assert api_stored_comments() == []
    still_answers(client)


def test_multipart_form_with_too_many_parts_is_refused(
    client, api_stored_comments
) -> None:
    fields = {f"f{n}": "1" for n in range(60)}

    response = client.post(
        URL, data={**COMMENT, **fields}, content_type="multipart/form-data"
    )

    assert response.status_code in (400, 413)
    assert response.mimetype == "text/html"
    assert api_stored_comments() == []
    still_answers(client)


def test_multipart_comment_within_limits_is_taken(client) -> None:
    response = client.post(URL, data=COMMENT, content_type="multipart/form-data")

    assert response.status_code == 303
    assert count(client) == 1


def test_configured_request_limit_applies(make_app, api_json_error) -> None:
    client = make_app(MAX_REQUEST_BYTES=1024).test_client()

    response = client.post(URL, json={"author": "A", "body": "x" * 2000})

    api_json_error(response, 413)


# --- Rate limits ---------------------------------------------------------------


@pytest.fixture
def limited(make_app) -> Any:
    return make_app(RATE_LIMIT_WRITES="5 per minute").test_client()


def test_sixth_write_is_429(limited, api_json_error) -> None:
    for _ in range(5):
        assert limited.post(URL, json=COMMENT).status_code == 201

    response = limited.post(URL, json=COMMENT)

    error = api_json_error(response, 429, "too_many_requests")
    assert "wait" in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert count(limited) == 5


def test_rate_limited_form_gets_a_page(limited) -> None:
    for _ in range(5):
        limited.post(URL, json=COMMENT)

    response = limited.post(URL, data=COMMENT)

    assert response.status_code == 429
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<title>Error:" in html
    assert "wait" in html
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY


def test_refused_writes_count_too(limited) -> None:
    """Invalid posts cost the same: a flood of junk cannot dodge the limit."""
    for _ in range(5):
        limited.post(URL, json={"author": "", "body": ""})

    assert limited.post(URL, json=COMMENT).status_code == 429


def test_forwarded_for_does_not_pick_the_key(limited) -> None:
    statuses = [
        limited.post(
            URL, json=COMMENT, headers={"X-Forwarded-For": f"10.0.0.{n}"}
        ).status_code
        for n in range(1, 101)
    ]

    assert statuses[:5] == [201] * 5
    assert set(statuses[5:]) == {429}
    assert count(limited) == 5


def test_with_a_trusted_proxy_each_client_counts_alone(make_app) -> None:
    client = make_app(RATE_LIMIT_WRITES="5 per minute", PROXY_HOPS=1).test_client()

    for n in range(1, 11):
        headers = {"X-Forwarded-For": f"10.0.0.{n}"}
        assert client.post(URL, json=COMMENT, headers=headers).status_code == 201
    same = {"X-Forwarded-For": "10.0.0.200"}
    statuses = [
        client.post(URL, json=COMMENT, headers=same).status_code for _ in range(6)
    ]

    assert statuses == [201] * 5 + [429]


def test_with_a_trusted_proxy_only_its_hop_counts(make_app) -> None:
    """A client's own X-Forwarded-For entries come before the proxy's."""
    client = make_app(RATE_LIMIT_WRITES="5 per minute", PROXY_HOPS=1).test_client()

    statuses = [
        client.post(
            URL, json=COMMENT, headers={"X-Forwarded-For": f"10.9.9.{n}, 10.0.0.7"}
        ).status_code
        for n in range(8)
    ]

    assert statuses == [201] * 5 + [429] * 3


def test_reads_are_not_limited(limited) -> None:
    for _ in range(6):
        limited.post(URL, json=COMMENT)

    for _ in range(30):
        assert limited.get(URL).status_code == 200
    assert limited.get("/api/health").status_code == 200


def test_default_limit_is_ten_a_minute(make_app) -> None:
    client = make_app(
        RATE_LIMIT_WRITES=config.DEFAULTS["RATE_LIMIT_WRITES"]
    ).test_client()

    statuses = [client.post(URL, json=COMMENT).status_code for _ in range(11)]

    assert statuses == [201] * 10 + [429]


# --- The real server (waitress), on 127.0.0.1 only -----------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def live_server(built, settings: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """``townsquare serve`` on a free loopback port; stopped after the test."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    env["TOWNSQUARE_SEGMENT_SIZE"] = "8"
    command = [
        sys.executable, "-c", "from townsquare.cli import main; main()",
        "--site", settings["SITE_DIR"], "--data", settings["DATA_DIR"],
        "--output", settings["OUTPUT_DIR"],
        "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "2",
    ]  # fmt: skip
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base
    finally:
        stop(server)
        log.close()


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server stopped while starting"
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer /api/health within 20 s")


def _raw_post(base: str, length: int, chunks: int, timeout: float) -> bytes:
    """POST a claimed ``length`` bytes, sending ``chunks`` MB; return the answer."""
    port = int(base.rsplit(":", 1)[1])
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head)
        try:
            for _ in range(chunks):
                conn.sendall(b"x" * MB)
        except OSError:
            pass  # the server may refuse and close before the body is sent
        answer = b""
        try:
            while len(answer) < 64:
                data = conn.recv(4096)
                if not data:
                    break
                answer += data
        except TimeoutError:
            pass
    return answer


def test_live_server_answers_a_hundred_megabyte_body_with_413(live_server) -> None:
    answer = _raw_post(live_server, 100 * MB, chunks=100, timeout=30)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    with urllib.request.urlopen(f"{live_server}/api/health", timeout=5) as health:
        assert health.status == 200


def test_live_server_refuses_a_huge_claim_before_the_body(live_server) -> None:
    """A server that waits for 100 MB it will refuse can be held up for free."""
    answer = _raw_post(live_server, 100 * MB, chunks=0, timeout=5)

    assert answer.startswith(b"HTTP/1.1 413"), (
        "the server waited for a 100 MB body instead of refusing the "
        "Content-Length at once"
    )
