"""Full-text search over what people wrote: titles, descriptions, tags and comments, in
FTS5 tables named `{table}_fts` that Datasette finds by themselves (`?_search=`).

Each is an external-content index (sqlite-utils' `enable_fts`: the text stays in its own
table, the index points at its rowid), kept current by triggers of our own rather than
sqlite-utils': its update trigger fires on every UPDATE of the table, and `photos` is
updated all the time (states, verify marks, sidecar flags) at up to a million rows. Ours
fire only on the columns indexed, and only when their text changed (a listing names
title and description in every upsert, mostly unchanged).

The statements that replace rows (INSERT OR REPLACE) delete the old row without firing
delete triggers unless recursive_triggers is on: sqlite_utils.Database turns it on for
every connection it wraps (its default), as store.py's are; without it the index would
keep the replaced text (tests/test_datasette.py checks).

Rowids: `photos` and the others have no INTEGER PRIMARY KEY, so a VACUUM may renumber
their rows; exodus never runs one. After one made by hand, `rebuild` puts the indexes
right.
"""

from __future__ import annotations

import sqlite_utils

# table: the columns searched. Comments by their author's name too.
SEARCHED: dict[str, tuple[str, ...]] = {
    "photos": ("title", "description"),
    "albums": ("title", "description"),
    "tags": ("tag",),
    "comments": ("text", "authorname"),
}
SUFFIXES = ("_fts_insert", "_fts_delete", "_fts_update")


def fts_table(table: str) -> str:
    return f"{table}_fts"


def _triggers(table: str, columns: tuple[str, ...]) -> list[str]:
    fts = fts_table(table)
    names = ", ".join(columns)
    old = ", ".join(f"old.{c}" for c in columns)
    new = ", ".join(f"new.{c}" for c in columns)
    forget = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.rowid, {old});"
    learn = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.rowid, {new});"
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    insert, delete, update = (table + suffix for suffix in SUFFIXES)
    return [
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {table} BEGIN {learn} END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON {table} BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF {names} ON {table} WHEN {changed} "
        f"BEGIN {forget} {learn} END",
    ]


def missing(db: sqlite_utils.Database) -> bool:
    """Whether an index or one of its triggers is not there (ensure would add it)."""
    present = {row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE '%fts%'")}
    wanted = {fts_table(t) for t in SEARCHED} | {t + s for t in SEARCHED for s in SUFFIXES}
    return not wanted <= present


def ensure(db: sqlite_utils.Database) -> None:
    """The indexes and their triggers; an index made here is filled from its table once
    (the only time the whole table is read: afterwards the triggers keep it)."""
    for table, columns in SEARCHED.items():
        if not db[fts_table(table)].exists():
            db[table].enable_fts(list(columns), fts_version="FTS5", create_triggers=False)
        for statement in _triggers(table, columns):
            db.execute(statement)


def rebuild(db: sqlite_utils.Database) -> None:
    """Every index made again from its table (after a VACUUM made by hand)."""
    for table in SEARCHED:
        fts = fts_table(table)
        db.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
