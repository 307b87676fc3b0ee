"""A lock that holds across threads and processes, on a file.

``flock`` locks belong to an open file description, so opening the lock file
anew for every acquisition makes the same lock exclude both the server's
threads and a separate ``townsquare publish`` process. POSIX only.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        # Closing the descriptor releases the lock, even after an error.
        os.close(fd)
