"""TinyDB storage that replaces its file atomically and caches parsed data.

TinyDB's own JSON storage rewrites the file in place: a crash or a reader in
another process can see half a file. :class:`AtomicJSONStorage` writes a
temporary file, fsyncs it, renames it over the old one and fsyncs the folder,
so every reader sees either the old file or the new one.

Parsed files are shared through a :class:`ParsedFileCache` keyed on the
file's identity (inode, size, modification time). A rename by any process
gives the file a new identity, so a cached copy can never be stale.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

Tables = dict[str, dict[str, dict[str, Any]]]
_FileKey = tuple[int, int, int]


class ParsedFileCache:
    """A thread-safe LRU of parsed JSON files, keyed by path and identity.

    Bounded by the total size of the cached files on disk, so memory stays
    flat however many pages a community has.
    """

    def __init__(self, max_bytes: int) -> None:
        self._entries: OrderedDict[str, tuple[_FileKey, Tables]] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, path: str, key: _FileKey) -> Tables | None:
        with self._lock:
            entry = self._entries.get(path)
            if entry is None or entry[0] != key:
                return None
            self._entries.move_to_end(path)
            return entry[1]

    def put(self, path: str, key: _FileKey, data: Tables) -> None:
        with self._lock:
            self._pop(path)
            self._entries[path] = (key, data)
            self._bytes += key[1]
            while self._bytes > self._max_bytes and len(self._entries) > 1:
                self._pop(next(iter(self._entries)))

    def discard(self, path: str) -> None:
        with self._lock:
            self._pop(path)

    def _pop(self, path: str) -> None:
        entry = self._entries.pop(path, None)
        if entry is not None:
            self._bytes -= entry[0][1]


def _file_key(stat: os.stat_result) -> _FileKey:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _copy(data: Tables, documents: bool) -> Tables:
    # TinyDB replaces tables in what read() returns, and its update() changes
    # documents in place: hand out copies so the cache only holds what is on
    # disk. Documents are copied only for updates, the one place they change.
    if documents:
        return {
            name: {k: dict(v) for k, v in docs.items()} for name, docs in data.items()
        }
    return {name: dict(docs) for name, docs in data.items()}


class AtomicJSONStorage(Storage):
    """A TinyDB storage for one file: atomic replacement, shared parse cache.

    Writers must hold the file's lock (see :mod:`.locks`); readers need none.
    Open with ``for_update=True`` to change existing documents.
    """

    def __init__(
        self, path: str | Path, cache: ParsedFileCache, for_update: bool = False
    ) -> None:
        self._path = str(path)
        self._cache = cache
        self._for_update = for_update

    def read(self) -> Tables | None:
        try:
            with open(self._path, "rb") as handle:
                key = _file_key(os.fstat(handle.fileno()))
                cached = self._cache.get(self._path, key)
                if cached is None:
                    cached = json.loads(handle.read())
                    self._cache.put(self._path, key, cached)
        except FileNotFoundError:
            return None
        return _copy(cached, self._for_update)

    def write(self, data: Tables) -> None:
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            replace_file(Path(self._path), encoded.encode("utf-8"))
        except BaseException:
            self._cache.discard(self._path)
            raise
        self._cache.put(self._path, _file_key(os.stat(self._path)), _copy(data, False))

    def close(self) -> None:
        """Nothing stays open between operations."""


def replace_file(path: Path, content: bytes, *, durable: bool = True) -> None:
    """Write ``content`` to ``path`` atomically, and durably unless told not.

    Files that can be made again from the store (exports, built pages) skip
    the fsyncs: after a crash they are rebuilt, never half-read.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(content)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the folder's entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
