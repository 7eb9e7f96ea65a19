"""Every change to an item, named: the one place an item's state, file or proof moves.
Each commits before it returns (or with the transaction its caller holds open), so a
kill loses at most the step in flight. New bytes (sha256 or size) void the proof by the
schema's trigger, whichever transition writes them."""

from __future__ import annotations

import json
import time
from typing import Iterable, Iterator

from .queries import EVERY_ROW
from .schema import PHOTOS_BY_ID, PHOTOS_BY_PATH
from .items import EVERY, ITEM_COLUMNS, REPLACED, Item, State, Where, has_file


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def scalar(value):
    """A value SQLite can hold as it is (what a file says may be any JSON)."""
    return value if value is None or isinstance(value, (str, int, float)) else None


class Transitions:
    """Mixed into Catalog: needs self.tx(), self.rows()."""

    # --- reading items -----------------------------------------------------------------
    def items(self, where: Where = EVERY, batch: int = 500) -> Iterator[Item]:
        """Every item the filter takes, in id order, a batch at a time (memory stays flat;
        rows changed while walking are neither seen twice nor skipped)."""
        last = ""
        while True:
            rows = self.rows(f"SELECT * FROM photos INDEXED BY {PHOTOS_BY_ID} WHERE ({where.sql}) AND id > ? "
                             f"ORDER BY id LIMIT ?", [*where.params, last, batch])
            if not rows:
                return
            yield from (Item.from_row(row) for row in rows)
            last = rows[-1]["id"]

    def by_folder(self, where: Where = EVERY, columns: tuple[str, ...] = (), batch: int = 5000,
                  shape: type[tuple] | None = None) -> Iterator[tuple[str, list]]:
        """The items the filter takes that have a path, a folder at a time (the folder of
        `a/b/c.jpg` is `a/b`), in path order: for checks that list each folder once. A
        folder comes twice when a subfolder's paths sort between its own, and in parts of
        `batch` items when it holds more (photos/undated may hold most of an account).
        Only `columns` are read (all if none), by the path index; memory stays flat.
        With `shape` (a named tuple whose fields are columns, path among them, and may be
        rowid), its fields are read and each row comes as one: no Item, no dict (a million
        of each cost more than the check that reads them)."""
        if shape is not None:
            columns = shape._fields
        unknown = set(columns) - ITEM_COLUMNS - ({"rowid"} if shape is not None else set())
        if unknown:
            raise ValueError(f"not columns of an item: {sorted(unknown)}")
        wanted = ", ".join(columns) if columns else "*"
        last: tuple = ("", -1 << 63)
        folder, members = None, []
        while True:
            cursor = self.db.execute(
                f"SELECT {wanted}, path, rowid FROM photos INDEXED BY {PHOTOS_BY_PATH} "
                f"WHERE ({where.sql}) AND (path, rowid) > (?, ?) ORDER BY path, rowid LIMIT ?",
                [*where.params, *last, batch])
            names = [d[0] for d in cursor.description][:-2]
            rows = cursor.fetchall()
            make = shape._make if shape is not None else (lambda row: Item.from_row(dict(zip(names, row))))
            for row in rows:
                here = row[-2].rpartition("/")[0]
                if members and (here != folder or len(members) >= batch):
                    yield folder, members
                    members = []
                folder = here
                members.append(make(row[:-2]))
            if len(rows) < batch:
                break
            last = rows[-1][-2:]
        if members:
            yield folder, members

    def ids(self, where: Where = EVERY) -> list[str]:
        """The ids the filter takes, in id order."""
        return [r[0] for r in self.db.execute(f"SELECT id FROM photos WHERE {where.sql} ORDER BY id", where.params)]

    def item(self, item_id: str) -> Item | None:
        rows = self.rows("SELECT * FROM photos WHERE id = ?", [item_id])
        return Item.from_row(rows[0]) if rows else None

    def replaced(self) -> list[Item]:
        return list(self.items(REPLACED))

    def _set(self, item_id: str, **columns) -> None:
        sets = ", ".join(f"{c} = ?" for c in columns)
        with self.tx() as conn:
            conn.execute(f"UPDATE photos SET {sets} WHERE id = ?", (*columns.values(), item_id))

    def update(self, item_id: str, **columns) -> None:
        """Any columns of one item (kept for changes/, until its journal names them)."""
        self._set(item_id, **columns)

    # --- a download --------------------------------------------------------------------
    def set_path(self, item: Item, relative: str) -> None:
        """Where the item's file will be, chosen before its first byte is written."""
        self._set(item.id, path=relative)
        item.path = relative

    def supersede_kept(self, item: Item, relative: str) -> None:
        """The original of an item that held a smaller size (the account turned Pro) gets an
        original's name; the kept file stays where it is, recorded as an earlier version."""
        with self.tx():
            if item.sha256 and item.path:
                self.record_version(item.id, item.path, size=item.size, sha256=item.sha256, secret=None)
            self.set_path(item, relative)

    def set_video_path(self, item: Item, relative: str, ext: str) -> None:
        """A video's name and format, known once Flickr's response says which it sends."""
        self._set(item.id, path=relative, original_format=ext)
        item.path, item.original_format = relative, ext

    def set_video_sources(self, item: Item, original: str | None, rendition: str | None,
                          kept_size: str | None) -> None:
        self._set(item.id, video_source=original, fallback_url=rendition, kept_size=kept_size)
        item.video_source, item.fallback_url, item.kept_size = original, rendition, kept_size

    def note_transfer(self, item: Item, etag: str | None, expected_size: int | None) -> None:
        """What the CDN says of the whole file, for a resumed download (If-Range)."""
        self._set(item.id, etag=etag, expected_size=expected_size)
        item.etag, item.expected_size = etag, expected_size

    def mark_downloaded(self, item: Item, size: int, sha256: str, state: State = State.DOWNLOADED,
                        reason: str | None = None) -> None:
        """The file is whole on disk (or about to be renamed there): new bytes, so any
        proof of the old ones is void (the trigger), and the sidecar is rewritten."""
        attempts = (item.attempts or 0) + 1
        self._set(item.id, state=state, size=size, sha256=sha256, reason=reason, source="api",
                  downloaded_at=now_iso(), sidecar_dirty=1, etag=None, attempts=attempts)
        item.state, item.size, item.sha256, item.reason, item.attempts = state, size, sha256, reason, attempts
        item.etag, item.source, item.sidecar_dirty = None, "api", 1

    def mark_failed(self, item_id: str, reason: str, state: State = State.FAILED) -> None:
        """Not fetched this time: failed, needs_manual, original_unavailable or remote_gone."""
        self._set(item_id, state=state, reason=reason)

    def mark_missing(self, item_id: str) -> None:
        """Its file vanished while Flickr still has it: the next download fetches it again."""
        self._set(item_id, state=State.PENDING, reason="file was missing; fetched again")

    def mark_adopted(self, item_id: str, columns: dict) -> None:
        """A file already in the tree taken for the item's (backup --adopt)."""
        self._set(item_id, **columns)

    def mark_imported(self, item: Item, relative: str, size: int, sha256: str, ext: str) -> None:
        """The original from Flickr's account export, in the tree; a smaller size kept
        earlier under another name is recorded as an earlier version and left in place."""
        with self.tx() as conn:
            if item.sha256 and item.path and item.path != relative:
                self.record_version(item.id, item.path, size=item.size, sha256=item.sha256, secret=None)
            conn.execute("UPDATE photos SET state = CASE WHEN state IN ('remote_gone', 'deleted_remote') THEN state "
                         "ELSE 'downloaded' END, path = ?, size = ?, sha256 = ?, expected_size = ?, "
                         "original_format = ?, source = 'export', reason = NULL, downloaded_at = ?, "
                         "sidecar_dirty = 1, kept_size = NULL WHERE id = ?",
                         # No expected_size: the zip's own size of an entry is no fact Flickr
                         # stated apart from these bytes, so it must not confirm them.
                         (relative, size, sha256, None, ext, now_iso(), item.id))

    # --- replaced originals ------------------------------------------------------------
    def record_version(self, photo_id: str, path: str, *, size: int | None, sha256: str | None,
                       secret: str | None, replaced_at: str | None = None) -> None:
        """An earlier file of the item, kept under its dated name."""
        with self.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO versions (photo_id, path, size, sha256, original_secret, "
                         "replaced_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (photo_id, path, size, sha256, secret, replaced_at or now_iso()))

    def version_recorded(self, photo_id: str, sha256: str) -> str | None:
        return self.one("SELECT path FROM versions WHERE photo_id = ? AND sha256 = ?", [photo_id, sha256])

    def release_replaced(self, photo_id: str) -> None:
        """The old file is safe: fetch the new original (named afresh: its format, or a
        video's extension, may differ)."""
        with self.tx() as conn:
            conn.execute("UPDATE photos SET replaced = 0, prior_secret = NULL, state = 'pending', path = NULL, "
                         "sha256 = NULL, size = NULL, etag = NULL, expected_size = NULL, "
                         "reason = 'replaced on Flickr', sidecar_dirty = 1 WHERE id = ?", (photo_id,))

    # --- verify ------------------------------------------------------------------------
    def mark_verified(self, item_id: str, sha256: str, size: int, facts: list[str], record: dict,
                      at: str) -> None:
        """The proof delete-remote relies on: these bytes, read whole, and the facts Flickr
        stated that agree with them."""
        self._set(item_id, verified_at=at, verified=dumps(record), verified_sha256=sha256,
                  verified_size=size, verified_facts=dumps(facts))

    def mark_unproven(self, item_id: str, record: dict) -> None:
        """verify found the file damaged or missing: no proof stands."""
        self._set(item_id, verified_at=None, verified=dumps(record), verified_sha256=None, verified_size=None,
                  verified_facts=None)

    def stage_checked(self, rowids: Iterable[int], record: int) -> None:
        """Items (by rowid, as the walk read them: no lookup by id) a check that proves
        nothing (--fast) found as record number `record` says, set aside in a temporary
        table (not the catalog file) until note_checked. A caller holds the catalog's lock
        from walk to note_checked, so no rowid changes between."""
        with self.tx() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS fast_checked (item INTEGER, record INTEGER)")
            conn.executemany("INSERT INTO temp.fast_checked (item, record) VALUES (?, ?)",
                             [(i, record) for i in rowids])

    def note_checked(self, records: list[dict]) -> None:
        """What a check that proves nothing (--fast) found, for the items staged under each
        record's number: an earlier proof stands. Written at the end in the table's order,
        one pass: a million items checked folder by folder would otherwise rewrite pages all
        over the table for each batch (gigabytes through the -wal)."""
        with self.tx() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS fast_checked (item INTEGER, record INTEGER)")
            for number, record in enumerate(records):
                conn.execute(f"UPDATE {EVERY_ROW} photos SET verified = ? WHERE rowid IN (SELECT item FROM "
                             "temp.fast_checked WHERE record = ?)", [dumps(record), number])
            conn.execute("DELETE FROM temp.fast_checked")

    def void_proofs(self, item_ids: Iterable[str]) -> None:
        """A copy of an item Flickr changed since is not proof of what Flickr has."""
        with self.tx() as conn:
            conn.executemany("UPDATE photos SET verified_at = NULL, verified_sha256 = NULL, verified_size = NULL, "
                             "verified_facts = NULL WHERE id = ?", [(i,) for i in item_ids])

    def mark_checked_remotely(self, at: str) -> None:
        """The items verified at `at` were also compared with Flickr's listing."""
        with self.tx() as conn:
            conn.execute(f"UPDATE photos SET verified = json_set(verified, '$.remote', json('true')) "
                         f"WHERE verified_at = ? AND {has_file()}", [at])

    def mark_for_refetch(self, item_id: str, reason: str) -> None:
        """verify --repair: the file is bad; the next backup fetches it again."""
        self._set(item_id, state=State.PENDING, sha256=None, size=None, etag=None, expected_size=None,
                  verified_at=None, sidecar_dirty=1, reason=reason)

    def mark_deep_stale(self, item_id: str) -> None:
        """Flickr changed the item: its getInfo is fetched again."""
        self._set(item_id, deep_done=0)

    def forget_album_sync(self, album_id: str) -> None:
        """Flickr changed the album: the next backup fetches its members again."""
        with self.tx() as conn:
            conn.execute("UPDATE albums SET synced_update = NULL WHERE id = ?", (album_id,))

    # --- sidecars ----------------------------------------------------------------------
    def mark_sidecar_dirty(self, item_id: str) -> None:
        self._set(item_id, sidecar_dirty=1)

    def mark_sidecars_written(self, item_ids: Iterable[str]) -> None:
        with self.tx() as conn:
            conn.executemany("UPDATE photos SET sidecar_dirty = 0 WHERE id = ?", [(i,) for i in item_ids])
