"""Reads and writes of the catalog. Each method that changes something commits before it
returns, so a crash (even kill -9) loses at most the step in flight."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import sqlite_utils

from ..knobs import sql_trace_file
from . import schema

STATES = ("pending", "downloaded", "failed", "original_unavailable", "needs_manual",
          "remote_gone", "deleted_remote")
# States a backup run tries to (re)fetch.
TO_FETCH = ("pending", "failed", "needs_manual")
# States in which an item may have a finished file on disk (original_unavailable: a
# smaller size kept; remote_gone, deleted_remote: the copy outlives Flickr's).
FILE_STATES = ("downloaded", "original_unavailable", "remote_gone", "deleted_remote")
# Columns a listing sets; everything else (state, path, hashes...) belongs to exodus.
LISTED_COLUMNS = (
    "media", "title", "description", "date_taken", "date_upload", "last_update", "license",
    "is_public", "is_friend", "is_family", "latitude", "longitude", "accuracy", "original_format",
    "secret", "original_secret", "server", "taken_granularity", "taken_unknown", "safety_level",
    "views", "o_width", "o_height", "url_o", "source_url", "fallback_url", "kept_size", "count_comments",
    "listed_pass", "raw",
)


class CatalogError(Exception):
    pass


class DamagedCatalog(CatalogError):
    """The file is not a sound SQLite database (bytes, not access or version, are wrong):
    the one case `exodus backup --adopt` sets the catalog aside and rebuilds it."""


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def has_file(table: str = "") -> str:
    """SQL: the item has a finished file on disk (whatever happened on Flickr since)."""
    p = f"{table}." if table else ""
    states = ", ".join(f"'{s}'" for s in FILE_STATES)
    return f"{p}state IN ({states}) AND {p}path IS NOT NULL AND {p}sha256 IS NOT NULL"


def scalar(value):
    """A value SQLite can hold as it is (what a file says may be any JSON)."""
    return value if value is None or isinstance(value, (str, int, float)) else None


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# What a backup's tree holds besides its catalog: seen in DEST, a lost catalog is not a new backup.
TREE_MARKS = ("photos", "albums", "collections", "faves")


def holds_tree(dest: Path) -> bool:
    """Files of a backup in DEST (the first one found ends the look; empty folders are not)."""
    if (dest / "links.csv").is_file():
        return True
    for mark in TREE_MARKS:
        for _, _, files in os.walk(dest / mark):
            if files:
                return True
    return False


def damaged(path: Path, detail) -> str:
    return (f"{path} is damaged ({detail}); nothing was changed. Restore catalog.db from a copy (each "
            f"'exodus push' to a file store keeps one), or rebuild it from the files with "
            f"'exodus backup {path.parent} --adopt'")


def truncated(path: Path) -> None:
    """A catalog cut short (an interrupted copy) reads well until a query reaches the pages
    it lacks: its header says how long it should be. Not while a -wal holds pages: a
    checkpoint that a kill interrupted may leave the file short, and the -wal whole."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        return
    except OSError as error:
        raise sqlite3.DatabaseError(error.strerror or str(error)) from None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return  # SQLite itself says "file is not a database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96] and pages > 0
    if size % page_size or (counted and pages * page_size > size):
        raise sqlite3.DatabaseError(f"truncated: {size} bytes, its header says {pages * page_size}")


def _close(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except sqlite3.Error:
            pass


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


def _writable(path: Path) -> bool:
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _connect(path: Path, read_only: bool) -> tuple[sqlite3.Connection, bool]:
    # A session that writes nothing uses a normal connection (closing it removes the -wal
    # and -shm it made) unless a -wal is already there (a killed run's, or a running
    # one's): closing would checkpoint it into the file, so it reads with mode=ro instead.
    if _writable(path) and not (read_only and path.with_name(path.name + "-wal").exists()):
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        if not read_only:
            conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a killed process (not a power cut), at a fraction
        # of the fsyncs; the files themselves are fsynced before they count.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        return conn, False
    # mode=ro reads the -wal too where it can; immutable=1 where SQLite cannot even set up
    # the shared memory beside the file (a read-only disk). Either way nothing can be
    # written: the caller learns so (True), whatever it asked for.
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    conn = sqlite3.connect(uri + "?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn, True
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None), True


def _in_memory(conn: sqlite3.Connection) -> sqlite3.Connection:
    """A copy of the catalog in memory, for a session that writes nothing to the file but
    must bring an older catalog's tables up to date to read it."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(copy)
    conn.close()
    return copy


class Catalog:
    def __init__(self, path: Path, read_only: bool = False):
        """read_only: this session writes nothing (a dry run, a read-only command). On a disk
        that cannot be written (a mounted archive, a snapshot) SQLite opens the file with
        mode=ro, else immutable=1; elsewhere a normal connection with query_only, so that
        closing it leaves no -wal or -shm behind."""
        self.path = path
        self.read_only = read_only
        self.my_runs: list[int] = []  # rows in `runs` this process opened
        conn = None
        try:
            truncated(path)
            conn, cannot_write = _connect(path, read_only)
            self.read_only = read_only or cannot_write
            self.db = sqlite_utils.Database(conn)
            found = schema.version_of(self.db)
            if found is not None and found > schema.SCHEMA_VERSION:
                conn.close()
                raise CatalogError(f"{path} was written by a newer exodus (catalog version {found}; this one "
                                   f"knows up to {schema.SCHEMA_VERSION}): upgrade exodus; nothing was changed")
            if schema.needs_update(self.db):
                if self.read_only:  # brought up to date in memory: the file stays as it is
                    conn = _in_memory(conn)
                    self.db = sqlite_utils.Database(conn)
                with self.tx():
                    schema.create(self.db)
            trace = sql_trace_file()
            if trace:
                sink = open(trace, "a", encoding="utf-8", buffering=1)
                conn.set_trace_callback(lambda statement: sink.write(" ".join(statement.split()) + "\n"))
            if self.read_only:
                conn.execute("PRAGMA query_only=ON")
        except sqlite3.OperationalError as error:
            _close(conn)
            if "full" in str(error) or _nearly_full(path):
                raise  # the disk, not the catalog: the command says so
            raise CatalogError(f"{path} cannot be opened ({error}); nothing was changed") from None
        except sqlite3.DatabaseError as error:
            _close(conn)
            raise DamagedCatalog(damaged(path, error)) from None

    @classmethod
    def open(cls, dest: Path, must_exist: bool = False, read_only: bool = False) -> "Catalog":
        """DEST's catalog; created when missing unless must_exist (then a CatalogError). A
        missing or empty catalog next to a backup's files is never taken for a new backup."""
        path = dest / "catalog.db"
        present = path.is_file() and path.stat().st_size > 0
        if not present:
            what = "is empty (0 bytes)" if path.is_file() else "is missing"
            if holds_tree(dest):
                raise CatalogError(
                    f"{dest} holds a backup's files but its catalog.db {what}, so it is not taken for a new "
                    f"backup and nothing was changed: run 'exodus backup {dest} --adopt' to rebuild it from the "
                    f"files (those already there are not downloaded again), or restore catalog.db from a copy "
                    f"(each 'exodus push' to a file store keeps one)")
            if must_exist:
                raise CatalogError(f"{dest} holds no exodus backup (its catalog.db {what}); "
                                   f"run 'exodus backup {dest}' first")
        return cls(path, read_only)

    def check(self) -> None:
        """PRAGMA quick_check: run before any command that changes Flickr or a target, so
        that a damaged catalog never decides what to delete, change or send."""
        try:
            found = [row[0] for row in self.db.execute("PRAGMA quick_check(1)")]
        except sqlite3.DatabaseError as error:
            raise DamagedCatalog(damaged(self.path, error)) from None
        if found != ["ok"]:
            raise DamagedCatalog(damaged(self.path, "; ".join(found)))

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def tx(self):
        """One transaction: all or nothing, committed on exit."""
        conn = self.db.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def one(self, sql: str, params: Iterable = ()):
        row = self.db.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        return list(self.db.query(sql, tuple(params)))

    # --- meta ----------------------------------------------------------------------
    def get(self, key: str, default=None):
        value = self.one("SELECT value FROM meta WHERE key = ?", [key])
        return json.loads(value) if value is not None else default

    def put(self, key: str, value) -> None:
        with self.tx() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                         "SET value = excluded.value", (key, dumps(value)))

    # --- runs ----------------------------------------------------------------------
    def start_run(self, command: str) -> int:
        """A row for this command. Called only under DEST's lock, so any other row still
        'running' is of a process that can no longer be running (killed, power lost): it
        is marked 'died' here, by the next command that records something."""
        log = logging.getLogger("exodus")
        with self.tx() as conn:
            mine = ",".join(str(int(i)) for i in self.my_runs) or "0"
            died = conn.execute(f"UPDATE runs SET status = 'died' WHERE status = 'running' AND id NOT IN ({mine})")
            cursor = conn.execute("INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')",
                                  (command, now_iso()))
            run_id = cursor.lastrowid
        if died.rowcount:
            log.info("%d earlier run(s) never finished (killed or cut off): marked died", died.rowcount)
        log.info("run %d: recorded in catalog.db (table runs)", run_id)
        self.my_runs.append(run_id)
        return run_id

    def close_run(self, run_id: int, status: str, summary: dict) -> None:
        """A command's last word on its row: its summary; the status only if the row is
        still open (a status set on the way, such as 'unreachable', stays)."""
        with self.tx() as conn:
            conn.execute("UPDATE runs SET finished_at = coalesce(finished_at, ?), summary = ?, "
                         "status = CASE WHEN status = 'running' THEN ? ELSE status END WHERE id = ?",
                         (now_iso(), dumps(summary), status, run_id))

    def finish_run(self, run_id: int, status: str, api_calls: int, nbytes: int, summary: dict) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE runs SET finished_at = ?, status = ?, api_calls = ?, bytes = ?, "
                         "summary = ? WHERE id = ?",
                         (now_iso(), status, api_calls, nbytes, dumps(summary), run_id))

    # --- listing -------------------------------------------------------------------
    def record_listing(self, items: list[dict], tags: dict[str, list[tuple[str, int]]],
                       checkpoint: dict) -> None:
        """One listing page: its items (listing columns only; exodus's own columns of
        known items are left alone), their tags, and the checkpoint, in one commit."""
        cols = ("id",) + LISTED_COLUMNS
        # A video's fallback (its largest rendition) comes from getSizes, and its format
        # from the download, not from the listing (which describes the poster still).
        # A listing without the original secret (a free account) does not forget it.
        special = {c: f"CASE WHEN excluded.media = 'video' THEN photos.{c} ELSE excluded.{c} END"
                   for c in ("fallback_url", "kept_size", "original_format")}
        special["original_secret"] = "coalesce(excluded.original_secret, photos.original_secret)"
        updates = ", ".join(f"{c} = {special.get(c, f'excluded.{c}')}" for c in LISTED_COLUMNS)
        # Flickr's original changed under the same id (a replaced photo): the file on disk
        # is kept as an earlier version before the new one is fetched (keep_replaced).
        secret_changed = ("(photos.original_secret IS NOT NULL AND excluded.original_secret IS NOT NULL "
                          "AND photos.original_secret != excluded.original_secret)")
        replaced = f"(photos.sha256 IS NOT NULL AND {secret_changed})"
        sql = (f"INSERT INTO photos ({', '.join(cols)}, state, first_seen, sidecar_dirty) "
               f"VALUES ({', '.join('?' * len(cols))}, 'pending', ?, 1) ON CONFLICT(id) DO UPDATE SET "
               f"{updates}, "
               # A changed item needs its sidecar rewritten, and its deep metadata again.
               f"sidecar_dirty = CASE WHEN photos.raw IS excluded.raw THEN photos.sidecar_dirty ELSE 1 END, "
               f"deep_done = CASE WHEN photos.last_update IS excluded.last_update THEN photos.deep_done ELSE 0 END, "
               f"replaced = CASE WHEN {replaced} THEN 1 ELSE photos.replaced END, "
               f"prior_secret = CASE WHEN {replaced} AND NOT coalesce(photos.replaced, 0) "
               f"THEN photos.original_secret ELSE photos.prior_secret END, "
               # A video's Video Original URL carries the original secret.
               f"video_source = CASE WHEN {secret_changed} THEN NULL ELSE photos.video_source END, "
               f"gone_at = NULL, "
               f"state = CASE "
               # Listed again after being taken for gone (a short listing): back it comes.
               f"WHEN photos.state = 'remote_gone' THEN "
               f"  CASE WHEN photos.sha256 IS NULL THEN 'pending' ELSE 'downloaded' END "
               # The account may hand out originals now (it went Pro).
               f"WHEN photos.state = 'original_unavailable' AND excluded.source_url IS NOT NULL THEN 'pending' "
               f"ELSE photos.state END")
        stamp = now_iso()
        with self.tx() as conn:
            conn.executemany(sql, [tuple(item.get(c) for c in cols) + (stamp,) for item in items])
            ids = [item["id"] for item in items]
            conn.executemany("DELETE FROM tags WHERE photo_id = ?", [(i,) for i in ids])
            conn.executemany("INSERT OR IGNORE INTO tags (photo_id, tag, machine, raw) VALUES (?, ?, ?, ?)",
                             [(pid, tag, machine, dumps(tag)) for pid, rows in tags.items()
                              for tag, machine in rows])
            conn.execute("INSERT INTO meta (key, value) VALUES ('listing', ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = excluded.value", (dumps(checkpoint),))

    def count_live(self) -> int:
        """Items the catalog believes are on Flickr now."""
        return self.one("SELECT count(*) FROM photos WHERE state NOT IN ('remote_gone', 'deleted_remote')")

    def known(self, ids: list[str]) -> set[str]:
        """Which of these ids the catalog holds."""
        return {r[0] for r in self.db.execute("SELECT id FROM photos WHERE id IN (SELECT value FROM json_each(?))",
                                              [dumps(ids)])}

    def count_listed(self, pass_no: int) -> int:
        return self.one("SELECT count(*) FROM photos WHERE listed_pass = ?", [pass_no])

    def mark_unlisted_gone(self, pass_no: int) -> int:
        """After a complete listing: items Flickr no longer lists were deleted there by
        someone else. Their local copies stay."""
        with self.tx() as conn:
            cursor = conn.execute(
                "UPDATE photos SET state = 'remote_gone', reason = 'no longer on Flickr', gone_at = ?, "
                "sidecar_dirty = 1 WHERE (listed_pass IS NULL OR listed_pass < ?) AND state NOT IN "
                "('remote_gone', 'deleted_remote')", (now_iso(), pass_no))
            return cursor.rowcount

    # --- albums and collections ------------------------------------------------------
    def upsert_albums(self, albums: list[dict]) -> None:
        cols = ("id", "title", "description", "primary_id", "count_photos", "count_videos",
                "count_comments", "count_views", "date_create", "date_update", "raw")
        sql = (f"INSERT INTO albums ({', '.join(cols)}, gone) VALUES ({', '.join('?' * len(cols))}, 0) "
               f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols[1:])}, gone = 0")
        with self.tx() as conn:
            conn.executemany(sql, [tuple(a.get(c) for c in cols) for a in albums])

    def mark_albums_gone(self, present: set[str]) -> None:
        with self.tx() as conn:
            for (album_id,) in conn.execute("SELECT id FROM albums WHERE gone = 0").fetchall():
                if album_id not in present:
                    conn.execute("UPDATE albums SET gone = 1 WHERE id = ?", (album_id,))

    def set_album_photos(self, album_id: str, photo_ids: list[str], version: str) -> None:
        with self.tx() as conn:
            old = [r[0] for r in conn.execute("SELECT photo_id FROM album_photos WHERE album_id = ?", (album_id,))]
            conn.execute("DELETE FROM album_photos WHERE album_id = ?", (album_id,))
            conn.executemany("INSERT OR IGNORE INTO album_photos (album_id, photo_id, position) VALUES (?, ?, ?)",
                             [(album_id, pid, n) for n, pid in enumerate(photo_ids, 1)])
            conn.executemany("UPDATE photos SET sidecar_dirty = 1 WHERE id = ?",
                             [(pid,) for pid in set(old) ^ set(photo_ids)])
            conn.execute("UPDATE albums SET synced_update = ? WHERE id = ?", (version, album_id))

    def replace_collections(self, nodes: list[dict]) -> None:
        with self.tx() as conn:
            conn.execute("DELETE FROM collections")
            conn.execute("DELETE FROM collection_albums")
            for node in nodes:
                conn.execute("INSERT OR REPLACE INTO collections (id, parent_id, position, title, description, raw) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (node["id"], node["parent_id"], node["position"],
                                                          node["title"], node["description"], dumps(node["raw"])))
                conn.executemany("INSERT OR IGNORE INTO collection_albums (collection_id, album_id, position) "
                                 "VALUES (?, ?, ?)", [(node["id"], a, n) for n, a in enumerate(node["album_ids"], 1)])

    # --- comments ---------------------------------------------------------------------------
    def photos_needing_comments(self) -> list[str]:
        """Items whose comments changed since fetched (all items when Flickr sent no count)."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM photos WHERE state NOT IN ('remote_gone', 'deleted_remote') AND "
            "((count_comments IS NULL AND comments_synced IS NULL) OR "
            "(count_comments > 0 AND (comments_synced IS NULL OR comments_synced != count_comments)) OR "
            "(count_comments = 0 AND comments_synced > 0)) ORDER BY id")]

    def albums_needing_comments(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM albums WHERE gone = 0 AND ((count_comments IS NULL AND comments_synced IS NULL) OR "
            "(count_comments > 0 AND (comments_synced IS NULL OR comments_synced != count_comments))) ORDER BY id")]

    def set_comments(self, owner_column: str, owner_id: str, comments: list[dict], count: int) -> None:
        assert owner_column in ("photo_id", "album_id")
        table = "photos" if owner_column == "photo_id" else "albums"
        with self.tx() as conn:
            conn.execute(f"DELETE FROM comments WHERE {owner_column} = ?", (owner_id,))
            conn.executemany(
                f"INSERT OR REPLACE INTO comments (id, {owner_column}, author, authorname, realname, "
                "date_create, permalink, text, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(c["id"], owner_id, c["author"], c["authorname"], c["realname"], c["date_create"],
                  c["permalink"], c["text"], dumps(c["raw"])) for c in comments])
            extra = ", sidecar_dirty = 1" if table == "photos" else ""
            conn.execute(f"UPDATE {table} SET comments_synced = ?{extra} WHERE id = ?", (count, owner_id))

    # --- downloads -------------------------------------------------------------------
    def to_fetch(self, batch: int = 500) -> Iterator[dict]:
        """Items to download, in id order, a batch at a time (memory stays flat)."""
        last = ""
        marks = ", ".join("?" * len(TO_FETCH))
        while True:
            rows = self.rows(f"SELECT id, media, title, date_taken, taken_unknown, original_format, "
                             f"path, url_o, source_url, fallback_url, kept_size, video_source, etag, expected_size, "
                             f"state, o_width, o_height, attempts FROM photos WHERE state IN ({marks}) AND id > ? "
                             f"ORDER BY id LIMIT ?", [*TO_FETCH, last, batch])
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def fetch_totals(self) -> dict:
        marks = ", ".join("?" * len(TO_FETCH))
        row = self.db.execute(
            f"SELECT count(*), sum(media = 'video'), sum(coalesce(o_width, 0) * coalesce(o_height, 0)) "
            f"FROM photos WHERE state IN ({marks})", TO_FETCH).fetchone()
        return {"items": row[0] or 0, "videos": row[1] or 0, "pixels": row[2] or 0}

    def update(self, item_id: str, **columns) -> None:
        sets = ", ".join(f"{c} = ?" for c in columns)
        with self.tx() as conn:
            conn.execute(f"UPDATE photos SET {sets} WHERE id = ?", (*columns.values(), item_id))

    def with_files(self, batch: int = 1000) -> Iterator[dict]:
        """Items whose finished file should be on disk, a batch at a time."""
        last = ""
        while True:
            rows = self.rows(f"SELECT id, path, size, sha256, state FROM photos WHERE {has_file()} "
                             "AND id > ? ORDER BY id LIMIT ?", [last, batch])
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    # --- replaced originals ----------------------------------------------------------
    def replaced(self) -> list[dict]:
        return self.rows("SELECT id, path, size, sha256, prior_secret, state FROM photos "
                         "WHERE replaced = 1 ORDER BY id")

    def record_version(self, row: dict, kept_path: str, replaced_at: str | None = None) -> None:
        """The file on disk before Flickr's replacement, under its dated name."""
        with self.tx() as conn:
            conn.execute("INSERT OR IGNORE INTO versions (photo_id, path, size, sha256, original_secret, "
                         "replaced_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (row["id"], kept_path, row["size"], row["sha256"], row["prior_secret"],
                          replaced_at or now_iso()))

    def add_known_item(self, row: dict, sidecar: dict) -> None:
        """An item known only from its file and sidecar (deleted on Flickr while the catalog
        was lost): its row, and the tags, comments, notes and people the sidecar kept."""
        def listed(key: str, fields: tuple[str, ...]) -> list[tuple]:
            found = sidecar.get(key)
            return [tuple(dumps(e.get(f)) if f == "box" and e.get(f) is not None else scalar(e.get(f))
                          for f in fields)
                    for e in (found if isinstance(found, list) else []) if isinstance(e, dict)
                    and e.get(fields[0]) is not None]

        pid = row["id"]
        with self.tx() as conn:
            conn.execute(f"INSERT OR IGNORE INTO photos ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         tuple(row.values()))
            for key, machine in (("tags", 0), ("machine_tags", 1)):
                tags = [t for t in (sidecar.get(key) or []) if isinstance(t, str)]
                conn.executemany("INSERT OR IGNORE INTO tags (photo_id, tag, machine, raw) VALUES (?, ?, ?, ?)",
                                 [(pid, t, machine, dumps(t)) for t in tags])
            conn.executemany("INSERT OR IGNORE INTO comments (photo_id, id, author, authorname, realname, "
                             "date_create, permalink, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [(pid, *c) for c in listed("comments", ("id", "author", "authorname", "realname",
                                                                     "date_create", "permalink", "text"))])
            conn.executemany("INSERT OR IGNORE INTO notes (photo_id, id, author, authorname, x, y, w, h, text) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(pid, *n) for n in listed("notes", ("id", "author", "authorname", "x", "y", "w", "h",
                                                                  "text"))])
            conn.executemany("INSERT OR IGNORE INTO people (photo_id, nsid, username, realname, added_by, box) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [(pid, *p) for p in listed("people", ("nsid", "username", "realname", "added_by",
                                                                   "box"))])

    def version_recorded(self, photo_id: str, sha256: str) -> str | None:
        return self.one("SELECT path FROM versions WHERE photo_id = ? AND sha256 = ?", [photo_id, sha256])

    def release_replaced(self, photo_id: str) -> None:
        """The old file is safe: fetch the new original (named afresh: its format, or a
        video's extension, may differ)."""
        with self.tx() as conn:
            conn.execute("UPDATE photos SET replaced = 0, prior_secret = NULL, state = 'pending', path = NULL, "
                         "sha256 = NULL, size = NULL, etag = NULL, expected_size = NULL, "
                         "reason = 'replaced on Flickr', sidecar_dirty = 1 WHERE id = ?", (photo_id,))

    # --- deep metadata ---------------------------------------------------------------
    def needing_deep(self, batch: int = 500) -> Iterator[str]:
        last = ""
        while True:
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM photos WHERE deep_done = 0 AND state NOT IN ('remote_gone', 'deleted_remote') "
                "AND id > ? ORDER BY id LIMIT ?", (last, batch))]
            if not ids:
                return
            yield from ids
            last = ids[-1]

    def count_needing_deep(self) -> int:
        return self.one("SELECT count(*) FROM photos WHERE deep_done = 0 AND "
                        "state NOT IN ('remote_gone', 'deleted_remote')")

    def set_deep(self, photo_id: str, info: dict, raw: dict, people: list[dict]) -> None:
        """getInfo's findings and the people in the photo, for one item."""
        with self.tx() as conn:
            conn.execute(
                "UPDATE photos SET deep_done = 1, sidecar_dirty = 1, info_raw = ?, rotation = ?, "
                "perm_comment = ?, perm_addmeta = ?, has_people = ?, photopage = ?, duration = ?, "
                "places = ?, geo_perms = ?, taken_granularity = coalesce(?, taken_granularity), "
                "safety_level = coalesce(?, safety_level) WHERE id = ?",
                (dumps(raw), info["rotation"], info["perm_comment"], info["perm_addmeta"],
                 info["has_people"], info["photopage"], info["duration"],
                 dumps(info["places"]) if info["places"] else None,
                 dumps(info["geo_perms"]) if info["geo_perms"] else None,
                 info["taken_granularity"], info["safety_level"], photo_id))
            conn.execute("DELETE FROM notes WHERE photo_id = ?", (photo_id,))
            conn.executemany("INSERT OR REPLACE INTO notes (id, photo_id, author, authorname, x, y, w, h, text, raw) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(n["id"], photo_id, n["author"], n["authorname"], n["x"], n["y"], n["w"], n["h"],
                               n["text"], dumps(n["raw"])) for n in info["notes"]])
            conn.execute("DELETE FROM people WHERE photo_id = ?", (photo_id,))
            conn.executemany("INSERT OR REPLACE INTO people (photo_id, nsid, username, realname, added_by, "
                             "box, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(photo_id, p["nsid"], p["username"], p["realname"], p["added_by"],
                               dumps(p["box"]) if p["box"] else None, dumps(p["raw"])) for p in people])

    # --- the rest of the account ---------------------------------------------------------
    def replace_rows(self, table: str, rows: list[dict], where: tuple[str, str] | None = None) -> None:
        """Replace a whole table (or the rows of one owner, `where` = (column, value)) with
        what Flickr says now; `raw` values are stored as JSON."""
        with self.tx() as conn:
            if where:
                conn.execute(f"DELETE FROM {table} WHERE {where[0]} = ?", (where[1],))
            else:
                conn.execute(f"DELETE FROM {table}")
            for row in rows:
                row = {k: dumps(v) if k == "raw" else v for k, v in row.items()}
                cols = ", ".join(row)
                conn.execute(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                             tuple(row.values()))

    # --- reports ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in STATES}
        for state, n in self.db.execute("SELECT state, count(*) FROM photos GROUP BY state"):
            out[state] = n
        return out

    def bytes_on_disk(self) -> int:
        return self.one(f"SELECT coalesce(sum(size), 0) FROM photos WHERE {has_file()}") or 0

    def problems(self, states: tuple[str, ...], limit: int | None = None) -> list[dict]:
        marks = ", ".join("?" * len(states))
        sql = (f"SELECT id, media, title, state, reason FROM photos WHERE state IN ({marks}) "
               f"ORDER BY state, id")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.rows(sql, states)
