"""The catalog file: opening it (damaged, truncated, read-only, newer), transactions, meta
and snapshots. `Catalog` gathers the statements of the other modules of this package;
each method that changes something commits before it returns, so a crash (even kill -9)
loses at most the step in flight."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable


def _sqlite_utils():
    """sqlite-utils, imported without numpy or pandas unless something loaded them already: it
    imports them (when installed) only to store their numbers and timestamps, which exodus
    never has, and numpy alone was a tenth of a command that has little to do (a rerun of
    `exodus gallery` with nothing changed). A None in sys.modules makes their import fail
    while sqlite-utils is loaded (it reads that as "not installed"); they import as usual after."""
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    sys.modules.update(dict.fromkeys(blocked))
    try:
        import sqlite_utils
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = _sqlite_utils()

from ..knobs import sql_trace_file
from . import schema
from .account import LISTED_COLUMNS, Account
from .audits import Audits
from .items import FILE_STATES, STATES, TO_FETCH, State, has_file
from .pushes import Pushes
from .queries import Queries
from .runs import Runs
from .transitions import Transitions, dumps, now_iso, scalar

# Importable from here as before (changes/ and others read them from catalog.store).
__all__ = ["Catalog", "CatalogError", "DamagedCatalog", "FILE_STATES", "LISTED_COLUMNS", "STATES", "State",
           "TO_FETCH", "TREE_MARKS", "dumps", "has_file", "holds_tree", "now_iso", "scalar"]


class CatalogError(Exception):
    pass


class DamagedCatalog(CatalogError):
    """The file is not a sound SQLite database (bytes, not access or version, are wrong):
    the one case `exodus backup --adopt` sets the catalog aside and rebuilds it."""


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


class Catalog(Transitions, Account, Queries, Pushes, Runs, Audits):
    """One DEST's catalog.db: the connection here; items and their transitions, what Flickr
    said, named reads, pushes, runs and the audit's tables in the mixins (one file each)."""

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
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            found = schema.version_of(self.db)
            if found is not None and found > schema.SCHEMA_VERSION:
                conn.close()
                raise CatalogError(f"{path} was written by a newer exodus (catalog version {found}; this one "
                                   f"knows up to {schema.SCHEMA_VERSION}): upgrade exodus; nothing was changed")
            if schema.needs_update(self.db):
                if self.read_only:  # brought up to date in memory: the file stays as it is
                    conn = _in_memory(conn)
                    self.db = sqlite_utils.Database(conn, execute_plugins=False)
                with self.tx():
                    schema.create(self.db, search=not self.read_only)
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

    def snapshot(self, path: Path, leave_out: tuple[str, ...] = ()) -> str:
        """A consistent copy of the catalog at path (SQLite's backup API), and a sha256 of
        what it holds, the rows of the tables left out aside."""
        copy = sqlite3.connect(path)
        try:
            self.db.conn.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            digest = hashlib.sha256()
            for line in copy.iterdump():
                if not any(line.startswith(f'INSERT INTO "{t}"') for t in leave_out):
                    digest.update(line.encode())
        finally:
            copy.close()
        return digest.hexdigest()

    # --- meta ----------------------------------------------------------------------
    def get(self, key: str, default=None):
        value = self.one("SELECT value FROM meta WHERE key = ?", [key])
        return json.loads(value) if value is not None else default

    def put(self, key: str, value) -> None:
        with self.tx() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                         "SET value = excluded.value", (key, dumps(value)))
