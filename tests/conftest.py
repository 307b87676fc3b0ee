"""Shared fixtures: a sample site in a temporary folder, a store, an app."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from townsquare.app import create_app
from townsquare.publish.publisher import Publisher
from townsquare.storage import Store, open_store

TESTS = Path(__file__).parent
PROJECT = TESTS.parent
SAMPLE_SITE = TESTS / "sample_site"
# Shared cases live beside the project (../shared from its root); point
# TOWNSQUARE_CASES at another copy when the project is checked out alone.
CASES_FILE = Path(
    os.environ.get(
        "TOWNSQUARE_CASES", PROJECT.parent / "shared" / "cases" / "cases.jsonl"
    )
)


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """The sample content with the real site's settings and theme, in tmp."""
    target = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, target)
    shutil.copy(PROJECT / "site" / "pelicanconf.py", target)
    shutil.copytree(PROJECT / "site" / "theme", target / "theme")
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    return tmp_path / "output"


@pytest.fixture
def store(data_dir: Path) -> Store:
    return open_store(data_dir, segment_size=8)


@pytest.fixture
def publisher(store: Store, site_dir: Path, output_dir: Path) -> Publisher:
    return Publisher(store=store, site_dir=site_dir, output_dir=output_dir)


@pytest.fixture
def built(publisher: Publisher) -> Publisher:
    """The sample site, built once so the backend knows its pages."""
    publisher.publish()
    return publisher


@pytest.fixture
def settings(site_dir: Path, data_dir: Path, output_dir: Path) -> dict[str, Any]:
    return {
        "SITE_DIR": str(site_dir),
        "DATA_DIR": str(data_dir),
        "OUTPUT_DIR": str(output_dir),
        "SEGMENT_SIZE": 8,
        "RATE_LIMIT_WRITES": "1000 per minute",
        "TESTING": True,
    }


@pytest.fixture
def make_app(built: Publisher, settings: dict[str, Any]) -> Callable[..., Flask]:
    """Build an app on the sample site, with extra settings if given."""

    def make(**extra: Any) -> Flask:
        return create_app({**settings, **extra})

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def post_comment(client: FlaskClient) -> Callable[..., Any]:
    """POST a JSON comment to a sample page and return the response."""

    def post(page: str = "bike-lanes", **fields: Any) -> Any:
        body = {"author": "Test Resident", "body": "A test comment", **fields}
        return client.post(f"/api/pages/{page}/comments", json=body)

    return post


# --- Shared by the API, security and case tests (test_api.py and friends) ---


@pytest.fixture
def api_json_error() -> Callable[..., dict[str, Any]]:
    """Check a response has the one JSON error shape; return its error object."""

    def check(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
        assert response.status_code == status, response.get_data(as_text=True)[:500]
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert set(error) <= {"status", "code", "message", "fields"}
        assert {"status", "code", "message"} <= set(error)
        assert error["status"] == status
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"].strip()
        if code is not None:
            assert error["code"] == code
        return error

    return check


@pytest.fixture
def api_post_form(client: FlaskClient) -> Callable[..., Any]:
    """POST an ordinary HTML form (urlencoded) to a sample page."""

    def post(page: str = "bike-lanes", **fields: str) -> Any:
        body = {"author": "Form Resident", "body": "A comment from a form", **fields}
        return client.post(f"/api/pages/{page}/comments", data=body)

    return post


@pytest.fixture
def api_stored_comments(store: Store) -> Callable[..., list[Any]]:
    """Every stored comment of a page, whatever its status, oldest first."""
    from townsquare.storage.comments import STATUSES

    def stored(page: str = "bike-lanes", statuses: Any = STATUSES) -> list[Any]:
        return list(store.comments.for_page(page, statuses=statuses))

    return stored


import io  # noqa: E402  (kept next to the only code that uses it)


class ApiEndlessBody(io.RawIOBase):
    """A request body of ``size`` bytes, made up as it is read, counting reads.

    It starts with ``prefix`` and goes on with ``x`` to the end.

    Lets a test claim a 100 MB upload without holding 100 MB in memory.
    """

    def __init__(self, size: int, prefix: bytes = b"") -> None:
        super().__init__()
        self.size = size
        self.prefix = prefix
        self.position = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}
        self.position = base[whence] + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        start = self.position
        head = self.prefix[start : start + n]
        buffer[:n] = head + b"x" * (n - len(head))
        self.position += n
        self.bytes_read += n
        return n


@pytest.fixture
def api_endless_body() -> type[ApiEndlessBody]:
    """The class of made-up request bodies (see :class:`ApiEndlessBody`)."""
    return ApiEndlessBody
