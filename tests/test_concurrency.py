"""Several processes writing and publishing at once lose and repeat nothing.

Every child is a separate Python process started with ``python -c``. They
wait at a gate (a file the test creates) so that they really start together.
Servers listen on 127.0.0.1 only and are stopped by their PID.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from livesite import stop
from townsquare.publish.publisher import Publisher
from townsquare.storage import open_store
from townsquare.storage.comments import STATUSES

PAGE = "bike-lanes"
TOPIC = "topics/bike-lanes/index.html"
WORKERS = 4
PER_WORKER = 200
HOST = "127.0.0.1"

# Shared by every child: wait for the gate to open, at most 20 seconds.
GATE = """
import json, sys, time
from pathlib import Path

def wait_at_gate(gate, worker):
    (gate / f"ready-{worker}").touch()
    deadline = time.monotonic() + 20
    while not (gate / "go").exists():
        if time.monotonic() > deadline:
            sys.exit("the gate never opened")
        time.sleep(0.005)
"""

STORE_WRITER = (
    GATE
    + """
from townsquare.storage import open_store
from townsquare.storage.comments import NewComment

data, gate = Path(sys.argv[1]), Path(sys.argv[2])
worker, count = int(sys.argv[3]), int(sys.argv[4])
store = open_store(data, segment_size=8)
wait_at_gate(gate, worker)
added = {}
for number in range(count):
    key = f"{worker}-{number}"
    comment = store.comments.add(
        "bike-lanes",
        NewComment(
            author=f"Worker {worker}",
            body=key,
            html=f"<p>Load comment {key}</p>",
            status="published",
        ),
    )
    added[key] = comment.id
print(json.dumps(added))
"""
)

HTTP_POSTER = (
    GATE
    + """
import http.client

host, port, gate = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
worker, count = int(sys.argv[4]), int(sys.argv[5])
wait_at_gate(gate, worker)
connection = http.client.HTTPConnection(host, port, timeout=30)
acknowledged, refused = {}, []
for number in range(count):
    key = f"{worker}-{number}"
    body = json.dumps({"author": f"Worker {worker}", "body": f"Load comment {key}"})
    try:
        connection.request(
            "POST",
            "/api/pages/bike-lanes/comments",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException) as error:
        # Never re-sent: a retry could store a comment twice.
        refused.append(f"{key}: {error!r}")
        connection.close()
        connection = http.client.HTTPConnection(host, port, timeout=30)
        continue
    if response.status == 201:
        acknowledged[key] = json.loads(answer)["comment"]["id"]
    else:
        refused.append(f"{key}: {response.status} {answer[:200]!r}")
connection.close()
print(json.dumps({"acknowledged": acknowledged, "refused": refused}))
"""
)

PUBLISH_LOOP = (
    GATE
    + """
import os
from townsquare.publish.publisher import Publisher
from townsquare.storage import open_store

data, site, out, gate = (Path(arg) for arg in sys.argv[1:5])
publisher = Publisher(
    store=open_store(data, segment_size=8), site_dir=site, output_dir=out
)
runs = exporting = full = 0
(gate / "ready-0").touch()
deadline = time.monotonic() + 30
while not (gate / "stop").exists() and time.monotonic() < deadline:
    report = publisher.publish()
    runs += 1
    exporting += bool(report.exported)
    full += report.full_build
    (gate / "progress.tmp").write_text(str(exporting))
    os.replace(gate / "progress.tmp", gate / "progress")
print(json.dumps({"runs": runs, "exporting": exporting, "full": full}))
"""
)


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Townsquare setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    env.update(extra)
    return env


def start_python(
    script: str, *args: object, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=cwd,
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def open_gate(gate: Path, children: list[subprocess.Popen[str]]) -> None:
    """Wait until every child is ready, then let them all go at once."""
    deadline = time.monotonic() + 30
    while len(list(gate.glob("ready-*"))) < len(children):
        for child in children:
            assert child.poll() is None, child.communicate()[1]
        assert time.monotonic() < deadline, "the children never got ready"
        time.sleep(0.01)
    (gate / "go").touch()


def finish(child: subprocess.Popen[str], timeout: float = 90) -> Any:
    """Wait for a child and return the JSON it printed."""
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    assert child.returncode == 0, err
    return json.loads(out)


def stop_all(children: list[subprocess.Popen[str]]) -> None:
    """Kill, by PID, any child still running after a failure."""
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


def townsquare(
    *args: str, site: Path, data: Path, output: Path
) -> list[str | os.PathLike[str]]:
    command: list[str | os.PathLike[str]] = [
        sys.executable,
        "-c",
        "from townsquare.cli import main; main()",
    ]
    return [*command, "--site", site, "--data", data, "--output", output, *args]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def get_json(port: int, path: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body)


def comments_region(html: str) -> str:
    found = re.findall(
        rf"<!--ts:comments:{PAGE}-->.*?<!--/ts:comments:{PAGE}-->", html, re.S
    )
    assert len(found) == 1
    return found[0]


def shown_ids(output_dir: Path) -> list[int]:
    html = (output_dir / TOPIC).read_text(encoding="utf-8")
    return [int(n) for n in re.findall(r'id="comment-(\d+)"', comments_region(html))]


def exported_comments(site_dir: Path) -> list[dict[str, Any]]:
    path = site_dir / "data" / "comments" / f"{PAGE}.json"
    found: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))["comments"]
    return found


# The store, from several processes


def test_processes_writing_one_page_lose_nothing(tmp_path: Path) -> None:
    data, gate = tmp_path / "data", tmp_path / "gate"
    gate.mkdir()
    open_store(data, segment_size=8)
    children = [
        start_python(STORE_WRITER, data, gate, worker, PER_WORKER, cwd=tmp_path)
        for worker in range(WORKERS)
    ]
    try:
        open_gate(gate, children)
        results = [finish(child) for child in children]
    finally:
        stop_all(children)

    given = {key: id_ for result in results for key, id_ in result.items()}
    assert len(given) == WORKERS * PER_WORKER
    assert sorted(given.values()) == list(range(1, WORKERS * PER_WORKER + 1))
    for result in results:
        ids = list(result.values())
        assert ids == sorted(ids), "a worker's ids went backwards"

    stored = open_store(data, segment_size=8).comments.for_page(PAGE, statuses=STATUSES)
    assert [c.id for c in stored] == list(range(1, WORKERS * PER_WORKER + 1))
    assert {c.body: c.id for c in stored} == given
    assert {c.html for c in stored} == {f"<p>Load comment {k}</p>" for k in given}

    segments = sorted((data / "comments" / PAGE).glob("seg-*.json"))
    assert [p.name for p in segments] == [
        f"seg-{first:06d}.json" for first in range(1, WORKERS * PER_WORKER, 8)
    ]
    for path in segments:
        assert len(json.loads(path.read_text("utf-8"))["records"]) == 8, path.name
    assert [p for p in data.rglob("*") if p.name.endswith(".tmp")] == []


# The real server, from several processes


@pytest.fixture
def concurrency_server(
    built: Publisher, tmp_path: Path
) -> Iterator[tuple[int, Callable[..., list[Any]]]]:
    """The backend on waitress at 127.0.0.1 on a free port, and the command
    line that reaches the same site and store. Stopped by its PID."""
    port = free_port()
    env = child_env(
        TOWNSQUARE_RATE_LIMIT_WRITES="100000 per minute",
        TOWNSQUARE_SEGMENT_SIZE="8",
    )
    paths = {
        "site": built.site_dir,
        "data": built.store.root,
        "output": built.output_dir,
    }
    command = townsquare("serve", "--host", HOST, "--port", str(port), **paths)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_healthy(server, port, log_path)
            yield port, lambda *args: townsquare(*args, **paths)
        finally:
            stop(server)


def _wait_until_healthy(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            status, body = get_json(port, "/api/health")
        except OSError:
            time.sleep(0.05)
            continue
        assert (status, body) == (200, {"status": "ok"})
        return
    pytest.fail(f"The server did not answer: {log.read_text(errors='replace')}")


def test_concurrent_http_posts_are_all_published(
    concurrency_server: tuple[int, Callable[..., list[Any]]],
    built: Publisher,
    tmp_path: Path,
) -> None:
    port, command = concurrency_server
    gate = tmp_path / "gate"
    gate.mkdir()
    children = [
        start_python(HTTP_POSTER, HOST, port, gate, worker, PER_WORKER, cwd=tmp_path)
        for worker in range(WORKERS)
    ]
    try:
        open_gate(gate, children)
        results = [finish(child) for child in children]
    finally:
        stop_all(children)

    refused = [line for result in results for line in result["refused"]]
    acknowledged = {
        key: id_ for result in results for key, id_ in result["acknowledged"].items()
    }
    assert refused == []
    assert len(acknowledged) == WORKERS * PER_WORKER
    assert len(set(acknowledged.values())) == len(acknowledged)

    publish = subprocess.run(
        command("publish"),
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert publish.returncode == 0, publish.stderr

    records = exported_comments(built.site_dir)
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(acknowledged.values())
    by_html = {record["html"]: record["id"] for record in records}
    assert by_html == {f"<p>Load comment {k}</p>": i for k, i in acknowledged.items()}
    assert sorted(shown_ids(built.output_dir)) == sorted(acknowledged.values())
    topic = (built.output_dir / TOPIC).read_text("utf-8")
    assert f"{WORKERS * PER_WORKER} comments" in comments_region(topic)
    status, live = get_json(port, f"/api/pages/{PAGE}/comments")
    assert status == 200
    assert live["count"] == WORKERS * PER_WORKER


# Publishing while comments arrive


def test_publishing_in_another_process_while_posting_loses_nothing(
    built: Publisher, post_comment: Callable[..., Any], tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    publisher_process = start_python(
        PUBLISH_LOOP,
        built.store.root,
        built.site_dir,
        built.output_dir,
        gate,
        cwd=tmp_path,
    )
    posted: list[int] = []
    try:
        open_gate(gate, [publisher_process])
        deadline = time.monotonic() + 20
        # Post until the other process has published new comments a few
        # times, so that publishing and posting really overlap.
        while len(posted) < 400 and time.monotonic() < deadline:
            response = post_comment(body=f"Arriving comment {len(posted)}")
            assert response.status_code == 201
            posted.append(response.get_json()["comment"]["id"])
            if len(posted) >= 60 and _progress(gate) >= 3:
                break
        (gate / "stop").touch()
        loop = finish(publisher_process)
    finally:
        stop_all([publisher_process])

    assert loop["exporting"] >= 3
    assert loop["full"] == 0

    built.publish()

    assert [record["id"] for record in exported_comments(built.site_dir)] == posted
    assert shown_ids(built.output_dir) == posted
    topic = (built.output_dir / TOPIC).read_text("utf-8")
    assert f"{len(posted)} comments" in comments_region(topic)
    rebuilt = Publisher(
        store=built.store, site_dir=built.site_dir, output_dir=tmp_path / "rebuilt"
    )
    rebuilt.publish(full=True)
    assert (tmp_path / "rebuilt" / TOPIC).read_bytes() == (
        built.output_dir / TOPIC
    ).read_bytes()


def _progress(gate: Path) -> int:
    try:
        return int((gate / "progress").read_text())
    except FileNotFoundError:
        return 0
