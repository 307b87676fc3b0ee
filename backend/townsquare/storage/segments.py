"""An append-mostly series of small TinyDB files, one series per key.

A single TinyDB file is rewritten whole on every write, so its write cost
grows with everything it holds. A :class:`SegmentedSeries` keeps the records
of one key (a page's comments, say) in segment files of at most
``segment_size`` records: a write rewrites only the newest segment, so its
cost stays flat however large the community grows.

Layout of one series::

    <folder>/.lock              lock held by every writer
    <folder>/seg-000001.json    records 1..N   (TinyDB file, table "records")
    <folder>/seg-000257.json    records 257..  (the number is its first id)

A record's id is the segment's first id plus its TinyDB document id minus
one, so ids are stable, ordered and never stored twice.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from ..errors import StoreError
from .jsonfile import AtomicJSONStorage, ParsedFileCache
from .locks import file_lock

Record = dict[str, Any]

_TABLE = "records"
_SEGMENT = re.compile(r"^seg-(\d{6,})\.json$")


class SegmentedSeries:
    """The records of one key, in segment files under ``folder``."""

    def __init__(self, folder: Path, segment_size: int, cache: ParsedFileCache):
        self.folder = folder
        self._folder_name = str(folder)
        self._segment_size = segment_size
        self._cache = cache

    def append(self, records: Sequence[Mapping[str, Any]]) -> list[int]:
        """Store ``records`` in order and return their new ids."""
        ids: list[int] = []
        with self._locked():
            pending = list(records)
            while pending:
                first_id, table = self._open_writable_segment()
                room = self._segment_size - len(table)
                doc_ids = table.insert_multiple(pending[:room])
                ids.extend(first_id + doc_id - 1 for doc_id in doc_ids)
                pending = pending[room:]
        return ids

    def update(self, record_id: int, fields: Mapping[str, Any]) -> Record | None:
        """Change fields of one record; return it, or None if it is unknown."""
        if not self.folder.is_dir():
            return None
        with self._locked():
            found = self._locate(record_id)
            if found is None:
                return None
            first_id, path = found
            table = self._table(path, for_update=True)
            doc_id = record_id - first_id + 1
            if not table.contains(doc_id=doc_id):
                return None
            table.update(dict(fields), doc_ids=[doc_id])
            doc = table.get(doc_id=doc_id)
        return None if doc is None else {**doc, "id": record_id}

    def get(self, record_id: int) -> Record | None:
        found = self._locate(record_id)
        if found is None:
            return None
        first_id, path = found
        doc = self._table(path).get(doc_id=record_id - first_id + 1)
        return None if doc is None else {**doc, "id": record_id}

    def records(self, after: int = 0) -> Iterator[Record]:
        """Yield records with an id above ``after``, in id order."""
        segments = self._segments()
        for index, (first_id, path) in enumerate(segments):
            following = segments[index + 1][0] if index + 1 < len(segments) else None
            if following is not None and following - 1 <= after:
                continue
            for doc in self._table(path).all():
                record_id = first_id + doc.doc_id - 1
                if record_id > after:
                    yield {**doc, "id": record_id}

    def revision(self) -> str:
        """A token that changes whenever any record of the series changes."""
        digest = hashlib.blake2b(digest_size=12)
        for first_id, path in self._segments():
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            digest.update(f"{first_id}:{stat.st_ino}:{stat.st_size}:".encode())
            digest.update(str(stat.st_mtime_ns).encode())
        return digest.hexdigest()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with file_lock(self.folder / ".lock"):
                yield
        except OSError as exc:
            raise StoreError(
                f"Could not write to {self.folder}: {exc.strerror or exc}. Check the "
                "free disk space and the permissions of the data folder."
            ) from exc

    def _segments(self) -> list[tuple[int, str]]:
        # Plain strings: this runs on every read and write, and pathlib
        # objects cost more than the listing itself.
        try:
            names = os.listdir(self._folder_name)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            match = _SEGMENT.match(name)
            if match:
                found.append((int(match.group(1)), f"{self._folder_name}/{name}"))
        found.sort()
        return found

    def _locate(self, record_id: int) -> tuple[int, str] | None:
        candidate = None
        for first_id, path in self._segments():
            if first_id > record_id:
                break
            candidate = (first_id, path)
        return candidate

    def _open_writable_segment(self) -> tuple[int, Table]:
        segments = self._segments()
        if not segments:
            return 1, self._table(self._segment_path(1))
        first_id, path = segments[-1]
        table = self._table(path)
        size = len(table)
        if size < self._segment_size:
            return first_id, table
        # The next segment starts where this one's ids end.
        last_doc_id = max((doc.doc_id for doc in table.all()), default=0)
        next_first = first_id + last_doc_id
        return next_first, self._table(self._segment_path(next_first))

    def _segment_path(self, first_id: int) -> str:
        return f"{self._folder_name}/seg-{first_id:06d}.json"

    def _table(self, path: str, for_update: bool = False) -> Table:
        # A fresh TinyDB per operation: TinyDB caches next ids and query
        # results per instance, which another process's writes would stale.
        db = TinyDB(
            path, storage=AtomicJSONStorage, cache=self._cache, for_update=for_update
        )
        return db.table(_TABLE, cache_size=0)
