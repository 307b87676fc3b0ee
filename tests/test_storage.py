"""The comment store: ids, statuses, segments, atomic files and the schema."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from townsquare.errors import NotFound, StoreError
from townsquare.storage import Store, open_store, schema
from townsquare.storage.comments import (
    HIDDEN,
    PENDING,
    PUBLISHED,
    Comment,
    NewComment,
)

PAGE = "bike-lanes"


def new_comment(
    number: int = 1, status: str = PUBLISHED, parent: int | None = None
) -> NewComment:
    """An invented comment whose text says which one it is."""
    return NewComment(
        author=f"Resident {number}",
        body=f"Comment number {number}",
        html=f"<p>Comment number {number}</p>",
        status=status,
        parent=parent,
        email=f"resident{number}@example.org",
        client="192.0.2.0",
    )


def add_comments(store: Store, count: int, page: str = PAGE) -> list[Comment]:
    return [store.comments.add(page, new_comment(n)) for n in range(1, count + 1)]


def segment_files(data_dir: Path, page: str = PAGE) -> list[Path]:
    return sorted((data_dir / "comments" / page).glob("seg-*.json"))


def segment_records(path: Path) -> dict[str, dict[str, object]]:
    """The records of one segment file, parsed as plain JSON."""
    return json.loads(path.read_text(encoding="utf-8"))["records"]


def temp_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.name.endswith(".tmp")]


# Adding, reading, listing


def test_add_then_get_returns_every_field(store: Store) -> None:
    added = store.comments.add(PAGE, new_comment(1))

    found = store.comments.get(PAGE, added.id)

    assert found == added
    assert found is not None
    assert found.page == PAGE
    assert found.author == "Resident 1"
    assert found.html == "<p>Comment number 1</p>"
    assert found.email == "resident1@example.org"
    assert found.status == PUBLISHED


def test_ids_are_made_by_the_server_and_increase(store: Store) -> None:
    comments = add_comments(store, 5)

    assert [c.id for c in comments] == [1, 2, 3, 4, 5]
    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 2, 3, 4, 5]


def test_each_page_counts_its_own_ids(store: Store) -> None:
    add_comments(store, 3, page="bike-lanes")
    other = store.comments.add("bike-lanes-2", new_comment(9))

    assert other.id == 1
    assert [c.author for c in store.comments.for_page("bike-lanes-2")] == ["Resident 9"]
    assert store.comments.pages() == ["bike-lanes", "bike-lanes-2"]


def test_add_many_returns_consecutive_ids_in_order(store: Store) -> None:
    add_comments(store, 2)

    added = store.comments.add_many(PAGE, [new_comment(n) for n in (3, 4, 5)])

    assert [c.id for c in added] == [3, 4, 5]
    assert [c.author for c in added] == ["Resident 3", "Resident 4", "Resident 5"]


def test_get_unknown_id_returns_none(store: Store) -> None:
    add_comments(store, 2)

    assert store.comments.get(PAGE, 3) is None
    assert store.comments.get(PAGE, 0) is None
    assert store.comments.get("bike-lanes-2", 1) is None


def test_list_after_returns_only_newer_comments(store: Store) -> None:
    add_comments(store, 5)

    assert [c.id for c in store.comments.for_page(PAGE, after=3)] == [4, 5]
    assert store.comments.for_page(PAGE, after=5) == []
    assert [c.id for c in store.comments.for_page(PAGE, after=0)] == [1, 2, 3, 4, 5]


def test_list_of_an_empty_page_is_empty(store: Store) -> None:
    assert store.comments.for_page(PAGE) == []
    assert store.comments.pages() == []


# Statuses


def test_list_filters_by_status(store: Store) -> None:
    for number, status in enumerate((PUBLISHED, PENDING, HIDDEN, PUBLISHED), 1):
        store.comments.add(PAGE, new_comment(number, status=status))

    def ids(*statuses: str) -> list[int]:
        return [c.id for c in store.comments.for_page(PAGE, statuses=statuses)]

    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 4]
    assert ids(PENDING) == [2]
    assert ids(HIDDEN) == [3]
    assert ids(PUBLISHED, PENDING, HIDDEN) == [1, 2, 3, 4]


def test_set_status_changes_what_is_listed(store: Store) -> None:
    add_comments(store, 3)

    changed = store.comments.set_status(PAGE, 2, HIDDEN)

    assert changed.id == 2
    assert changed.status == HIDDEN
    assert changed.author == "Resident 2"
    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 3]
    stored = store.comments.get(PAGE, 2)
    assert stored is not None
    assert stored.status == HIDDEN

    store.comments.set_status(PAGE, 2, PUBLISHED)
    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 2, 3]


def test_set_status_of_unknown_comment_is_not_found(store: Store) -> None:
    add_comments(store, 2)

    with pytest.raises(NotFound):
        store.comments.set_status(PAGE, 3, HIDDEN)
    with pytest.raises(NotFound):
        store.comments.set_status(PAGE, 999, HIDDEN)
    assert [c.status for c in store.comments.for_page(PAGE)] == [PUBLISHED, PUBLISHED]


def test_refused_set_status_on_an_unknown_page_leaves_no_trace(
    store: Store, data_dir: Path
) -> None:
    add_comments(store, 1)

    with pytest.raises(NotFound):
        store.comments.set_status("no-such-page", 1, HIDDEN)

    assert store.comments.pages() == [PAGE]
    assert not (data_dir / "comments" / "no-such-page").exists()


def test_set_status_refuses_an_invalid_status(store: Store) -> None:
    add_comments(store, 1)

    with pytest.raises(ValueError, match="deleted"):
        store.comments.set_status(PAGE, 1, "deleted")
    stored = store.comments.get(PAGE, 1)
    assert stored is not None
    assert stored.status == PUBLISHED


# Segments


def test_segments_roll_over_at_segment_size(store: Store, data_dir: Path) -> None:
    comments = add_comments(store, 9)

    names = [p.name for p in segment_files(data_dir)]
    assert names == ["seg-000001.json", "seg-000009.json"]
    assert len(segment_records(data_dir / "comments" / PAGE / names[0])) == 8
    assert len(segment_records(data_dir / "comments" / PAGE / names[1])) == 1
    assert [c.id for c in comments] == list(range(1, 10))


def test_ids_continue_across_segments(store: Store, data_dir: Path) -> None:
    add_comments(store, 6)
    added = store.comments.add_many(PAGE, [new_comment(n) for n in range(7, 21)])

    assert [c.id for c in added] == list(range(7, 21))
    assert [p.name for p in segment_files(data_dir)] == [
        "seg-000001.json",
        "seg-000009.json",
        "seg-000017.json",
    ]
    listed = store.comments.for_page(PAGE)
    assert [c.id for c in listed] == list(range(1, 21))
    assert [c.author for c in listed] == [f"Resident {n}" for n in range(1, 21)]
    for number in (1, 8, 9, 16, 17, 20):
        found = store.comments.get(PAGE, number)
        assert found is not None
        assert found.author == f"Resident {number}"


@pytest.mark.parametrize("after", [0, 1, 7, 8, 9, 15, 16, 17, 19, 20, 25])
def test_after_skips_earlier_segments_correctly(store: Store, after: int) -> None:
    add_comments(store, 20)

    ids = [c.id for c in store.comments.for_page(PAGE, after=after)]

    assert ids == list(range(after + 1, 21))


def test_after_does_not_read_skipped_segments(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_comments(store, 20)
    first_segment = str(data_dir / "comments" / PAGE / "seg-000001.json")
    opened: list[str] = []
    real_open = open

    def spying_open(file: object, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", spying_open)
    ids = [c.id for c in store.comments.for_page(PAGE, after=10)]

    assert ids == list(range(11, 21))
    assert first_segment not in opened
    assert any(name.endswith("seg-000009.json") for name in opened)


def test_updates_land_in_the_right_segment(store: Store, data_dir: Path) -> None:
    add_comments(store, 20)

    store.comments.set_status(PAGE, 9, HIDDEN)
    store.comments.set_status(PAGE, 20, PENDING)

    second = segment_records(data_dir / "comments" / PAGE / "seg-000009.json")
    third = segment_records(data_dir / "comments" / PAGE / "seg-000017.json")
    assert second["1"]["status"] == HIDDEN
    assert third["4"]["status"] == PENDING
    assert [c.id for c in store.comments.for_page(PAGE)] == [
        n for n in range(1, 20) if n != 9
    ]


def test_write_cost_is_bounded_by_the_newest_segment(
    store: Store, data_dir: Path
) -> None:
    add_comments(store, 100)
    segments = segment_files(data_dir)
    older = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in segments[:-1]}

    store.comments.add(PAGE, new_comment(101))

    segments = segment_files(data_dir)
    assert len(segments) == 13
    assert all(len(segment_records(p)) == 8 for p in segments[:-1])
    assert len(segment_records(segments[-1])) <= 8
    # Only the newest segment is rewritten: older files keep their identity.
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in older} == older


# Revision


def test_revision_changes_on_every_write(store: Store) -> None:
    seen = [store.comments.revision(PAGE)]
    for number in range(1, 11):
        store.comments.add(PAGE, new_comment(number))
        seen.append(store.comments.revision(PAGE))
    store.comments.set_status(PAGE, 3, HIDDEN)
    seen.append(store.comments.revision(PAGE))
    store.comments.set_status(PAGE, 3, PUBLISHED)
    seen.append(store.comments.revision(PAGE))

    assert len(set(seen)) == len(seen)


def test_revision_does_not_change_on_reads(store: Store) -> None:
    add_comments(store, 10)
    before = store.comments.revision(PAGE)

    store.comments.for_page(PAGE)
    store.comments.for_page(PAGE, after=9, statuses=(PUBLISHED, HIDDEN))
    store.comments.get(PAGE, 4)
    store.comments.get(PAGE, 99)
    store.comments.pages()
    open_store(store.root, segment_size=8).comments.for_page(PAGE)

    assert store.comments.revision(PAGE) == before


def test_revision_is_per_page(store: Store) -> None:
    add_comments(store, 2)
    other = store.comments.revision("bike-lanes-2")

    store.comments.add(PAGE, new_comment(3))

    assert store.comments.revision("bike-lanes-2") == other


# Files on disk


def test_segment_files_are_valid_json_and_no_temp_files_remain(
    store: Store, data_dir: Path
) -> None:
    add_comments(store, 30)
    for number in (2, 12, 29):
        store.comments.set_status(PAGE, number, HIDDEN)

    segments = segment_files(data_dir)
    assert len(segments) == 4
    total = 0
    for path in segments:
        records = segment_records(path)
        total += len(records)
        assert all(
            record["author"].startswith("Resident ") for record in records.values()
        )
    assert total == 30
    assert temp_files(data_dir) == []
    assert json.loads((data_dir / "meta.json").read_text()) == {"schema_version": 1}


def _failing_replace_for_segments(
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """Make ``os.replace`` fail for segment files; return the attempts."""
    attempts: list[str] = []
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name.startswith("seg-"):
            attempts.append(str(dst))
            raise OSError(28, "No space left on device (simulated)")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return attempts


def test_failed_replace_leaves_the_old_file_and_a_clean_cache(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_comments(store, 3)
    path = segment_files(data_dir)[0]
    old_bytes = path.read_bytes()
    old_revision = store.comments.revision(PAGE)
    assert len(store.comments.for_page(PAGE)) == 3  # warm the parse cache
    attempts = _failing_replace_for_segments(monkeypatch)

    with pytest.raises(StoreError, match="simulated"):
        store.comments.add(PAGE, new_comment(4))
    with pytest.raises(StoreError, match="simulated"):
        store.comments.set_status(PAGE, 1, HIDDEN)

    assert len(attempts) == 2
    assert path.read_bytes() == old_bytes
    assert temp_files(data_dir) == []
    assert store.comments.revision(PAGE) == old_revision
    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 2, 3]
    first = store.comments.get(PAGE, 1)
    assert first is not None
    assert first.status == PUBLISHED
    assert store.comments.get(PAGE, 4) is None

    monkeypatch.undo()
    assert store.comments.add(PAGE, new_comment(4)).id == 4
    assert [c.id for c in store.comments.for_page(PAGE)] == [1, 2, 3, 4]


def test_failed_first_write_creates_no_segment(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _failing_replace_for_segments(monkeypatch)

    with pytest.raises(StoreError, match="simulated"):
        store.comments.add(PAGE, new_comment(1))

    assert segment_files(data_dir) == []
    assert temp_files(data_dir) == []
    assert store.comments.for_page(PAGE) == []


def test_second_store_sees_writes_of_the_first(data_dir: Path) -> None:
    first = open_store(data_dir, segment_size=8)
    second = open_store(data_dir, segment_size=8)
    add_comments(first, 3)
    assert [c.id for c in second.comments.for_page(PAGE)] == [1, 2, 3]

    added = second.comments.add(PAGE, new_comment(4))
    second.comments.set_status(PAGE, 2, HIDDEN)

    assert added.id == 4
    assert [c.id for c in first.comments.for_page(PAGE)] == [1, 3, 4]
    seen = first.comments.get(PAGE, 2)
    assert seen is not None
    assert seen.status == HIDDEN
    assert first.comments.add(PAGE, new_comment(5)).id == 5
    assert first.comments.revision(PAGE) == second.comments.revision(PAGE)


def test_store_reopened_later_reads_everything(data_dir: Path) -> None:
    add_comments(open_store(data_dir, segment_size=8), 12)

    reopened = open_store(data_dir, segment_size=8)

    assert [c.author for c in reopened.comments.for_page(PAGE)] == [
        f"Resident {n}" for n in range(1, 13)
    ]


def test_returned_comments_do_not_alias_the_cache(store: Store) -> None:
    add_comments(store, 2)
    listed = store.comments.for_page(PAGE)

    store.comments.set_status(PAGE, 1, HIDDEN)

    assert listed[0].status == PUBLISHED
    assert [c.id for c in store.comments.for_page(PAGE)] == [2]


# Page keys


BAD_PAGE_KEYS = [
    pytest.param("../x", id="parent-folder"),
    pytest.param("..", id="dot-dot"),
    pytest.param(".hidden", id="hidden-folder"),
    pytest.param("a/b", id="slash"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("", id="empty"),
    pytest.param("-dash-first", id="dash-first"),
    pytest.param("x" * 121, id="too-long"),
    pytest.param("bike lanes", id="space"),
    pytest.param("bike-lanes\n", id="trailing-newline"),
]


@pytest.mark.parametrize("page", BAD_PAGE_KEYS)
def test_bad_page_keys_are_refused(store: Store, data_dir: Path, page: str) -> None:
    operations: list[Callable[[], object]] = [
        lambda: store.comments.add(page, new_comment(1)),
        lambda: store.comments.add_many(page, [new_comment(1)]),
        lambda: store.comments.get(page, 1),
        lambda: store.comments.for_page(page),
        lambda: store.comments.set_status(page, 1, HIDDEN),
        lambda: store.comments.revision(page),
    ]
    for operation in operations:
        with pytest.raises(NotFound):
            operation()

    assert store.comments.pages() == []
    assert sorted(p.name for p in data_dir.iterdir()) == [".lock", "meta.json"]
    assert not (data_dir.parent / "x").exists()


@pytest.mark.parametrize("page", ["a", "bike-lanes", "Topic_2.v1", "x" * 120])
def test_good_page_keys_are_accepted(store: Store, page: str) -> None:
    assert store.comments.add(page, new_comment(1)).id == 1
    assert store.comments.pages() == [page]


# Schema


def test_new_store_records_schema_version_one(tmp_path: Path) -> None:
    root = tmp_path / "fresh"

    open_store(root)

    assert json.loads((root / "meta.json").read_text()) == {"schema_version": 1}
    assert schema.CURRENT_VERSION == 1


def test_opening_a_current_store_does_not_rewrite_meta(data_dir: Path) -> None:
    open_store(data_dir)
    meta = data_dir / "meta.json"
    identity = (meta.stat().st_ino, meta.stat().st_mtime_ns)

    open_store(data_dir)

    assert (meta.stat().st_ino, meta.stat().st_mtime_ns) == identity


def test_store_of_a_newer_version_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "meta.json").write_text('{"schema_version": 2}')

    with pytest.raises(StoreError, match="Upgrade Townsquare") as caught:
        open_store(data_dir)

    assert "2" in caught.value.message
    assert json.loads((data_dir / "meta.json").read_text()) == {"schema_version": 2}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"schema_version": 1', id="truncated"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1]", id="not-an-object"),
        pytest.param(b'{"schema_version": "1"}', id="version-not-a-number"),
        pytest.param(b'{"version": 1}', id="no-version"),
    ],
)
def test_damaged_meta_is_a_store_error(data_dir: Path, content: bytes) -> None:
    data_dir.mkdir()
    (data_dir / "meta.json").write_bytes(content)

    with pytest.raises(StoreError, match="meta.json"):
        open_store(data_dir)

    assert (data_dir / "meta.json").read_bytes() == content


def test_migrations_run_in_order(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir()
    (data_dir / "meta.json").write_text('{"schema_version": 1}')
    calls: list[tuple[int, int | None]] = []

    def step(version: int) -> Callable[[Path], None]:
        def migrate(root: Path) -> None:
            calls.append((version, schema.read_version(root)))

        return migrate

    # Declared out of order on purpose: the order comes from the versions.
    monkeypatch.setattr(schema, "MIGRATIONS", {3: step(3), 1: step(1), 2: step(2)})
    monkeypatch.setattr(schema, "CURRENT_VERSION", 4)

    found = schema.ensure_current(data_dir)

    assert found == 1
    assert calls == [(1, 1), (2, 2), (3, 3)]
    assert json.loads((data_dir / "meta.json").read_text()) == {"schema_version": 4}

    calls.clear()
    open_store(data_dir)
    assert calls == []


def test_failed_migration_keeps_the_last_good_version(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir()
    (data_dir / "meta.json").write_text('{"schema_version": 1}')

    def broken(root: Path) -> None:
        raise RuntimeError("migration 2 failed")

    monkeypatch.setattr(schema, "MIGRATIONS", {1: lambda root: None, 2: broken})
    monkeypatch.setattr(schema, "CURRENT_VERSION", 3)

    with pytest.raises(RuntimeError, match="migration 2 failed"):
        open_store(data_dir)

    assert json.loads((data_dir / "meta.json").read_text()) == {"schema_version": 2}


def test_missing_migration_is_a_store_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir()
    (data_dir / "meta.json").write_text('{"schema_version": 1}')
    monkeypatch.setattr(schema, "MIGRATIONS", {})
    monkeypatch.setattr(schema, "CURRENT_VERSION", 2)

    with pytest.raises(StoreError, match="migration"):
        open_store(data_dir)

    assert json.loads((data_dir / "meta.json").read_text()) == {"schema_version": 1}
