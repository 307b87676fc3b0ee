"""Helpers for the real-browser tests: Chromium, and a live site on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from waitress.server import create_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium; the tests need it and say how to get it."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        raise RuntimeError(
            "The browser tests need Chromium: run `sudo apt install chromium` "
            "(or .ci/run, which installs it)."
        )
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` with waitress on a free loopback port; yield its URL."""
    server = create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this test started, by its handle: politely, then firmly."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
