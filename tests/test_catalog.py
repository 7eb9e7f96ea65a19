"""The catalog's own contract: typed items, named transitions, one batched walk. A real
SQLite file in a temporary DEST; no sandbox needed."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from flickr_exodus.catalog import Catalog, Item, State
from flickr_exodus.catalog.items import EVERY, FETCHABLE, WITH_FILE
from flickr_exodus.catalog.schema import TABLES


def _listed(n: int, **extra) -> list[dict]:
    return [{"id": f"{i:011d}", "media": "photo", "title": f"item {i}", "raw": "{}", **extra}
            for i in range(1, n + 1)]


@pytest.fixture
def cat(tmp_path):
    catalog = Catalog.open(tmp_path)
    yield catalog
    catalog.close()


def _column(cat: Catalog, item_id: str, column: str):
    return sqlite3.connect(cat.path).execute(f"SELECT {column} FROM photos WHERE id = ?", [item_id]).fetchone()[0]


def test_item_has_every_photos_column_and_a_state_enum():
    assert {f.name for f in dataclasses.fields(Item)} == set(TABLES["photos"][0])
    # Stored, compared and printed as the same strings as before.
    assert State.REMOTE_GONE == "remote_gone" and f"{State.PENDING}" == "pending"
    item = Item.from_row({"id": "1", "state": "downloaded", "not_a_column": 5})
    assert item.state is State.DOWNLOADED and item["state"] == "downloaded"
    assert Item.from_row({"id": "1", "state": "made_up"}).state == "made_up"  # never taken for a known one


def test_items_walks_every_row_once_in_id_batches_across_a_boundary(cat):
    cat.record_listing(_listed(7), {}, {})
    seen = [item.id for item in cat.items(EVERY, batch=3)]
    assert seen == sorted(f"{i:011d}" for i in range(1, 8))
    # Rows changed while walking (here: each one fetched) are neither lost nor seen twice.
    walked = []
    for item in cat.items(FETCHABLE, batch=2):
        walked.append(item.id)
        cat.set_path(item, f"photos/{item.id}.jpg")
        cat.mark_downloaded(item, 10, "ab" * 32)
    assert walked == seen and not list(cat.items(FETCHABLE))
    assert [i.id for i in cat.items(WITH_FILE, batch=4)] == seen


def test_mark_downloaded_of_new_bytes_voids_the_proof(cat):
    cat.record_listing(_listed(1), {}, {})
    item = cat.item("00000000001")
    cat.set_path(item, "photos/a.jpg")
    cat.mark_downloaded(item, 100, "aa" * 32)
    cat.mark_verified(item.id, "aa" * 32, 100, ["content_length"], {"remote": False}, "2026-01-01T00:00:00Z")
    assert _column(cat, item.id, "verified_sha256") == "aa" * 32
    cat.mark_downloaded(item, 120, "bb" * 32)
    assert _column(cat, item.id, "verified_sha256") is None and _column(cat, item.id, "verified_facts") is None
    again = cat.item(item.id)
    assert (again.state, again.size, again.sha256, again.attempts) == (State.DOWNLOADED, 120, "bb" * 32, 2)


def test_record_version_then_release_sends_the_item_back_to_fetch(cat):
    cat.record_listing(_listed(1), {}, {})
    item = cat.item("00000000001")
    cat.set_path(item, "photos/a.jpg")
    cat.mark_downloaded(item, 100, "aa" * 32)
    cat.record_version(item.id, "photos/a.replaced-20260101.jpg", size=100, sha256="aa" * 32, secret="s1")
    assert cat.version_recorded(item.id, "aa" * 32) == "photos/a.replaced-20260101.jpg"
    cat.release_replaced(item.id)
    after = cat.item(item.id)
    assert after.state == State.PENDING and after.path is None and after.sha256 is None
    assert [i.id for i in cat.items(FETCHABLE)] == [item.id]


def test_mark_for_refetch_and_missing_leave_no_file_behind(cat):
    cat.record_listing(_listed(2), {}, {})
    first, second = cat.items(EVERY)
    for item in (first, second):
        cat.set_path(item, f"photos/{item.id}.jpg")
        cat.mark_downloaded(item, 1, "cc" * 32)
    cat.mark_for_refetch(first.id, "verify found it truncated; fetched again")
    cat.mark_missing(second.id)
    assert [i.id for i in cat.items(WITH_FILE)] == []
    assert cat.counts()["pending"] == 2
