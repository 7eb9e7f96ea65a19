"""What the gallery shows, read in a few passes over whole tables (one statement per table,
not one per item: a gallery of 100,000 items is read in seconds). Named statements; none
writes. `rows` gives dicts, `tuples` plain tuples (the long lists of pairs).

SQLite keeps whatever a writer put in a column (a catalog edited by hand or by another tool
may hold 'big' as a size, a blob as a path): every value is checked against the type its
column holds (catalog/schema.py) and one of another type is read as NULL, so that the
gallery shows "unknown" instead of failing on it. SQLite checks them (typeof() in each
statement), not Python: a value at a time in Python was a third of a rerun's reading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .items import has_file
from .queries import EVERY_ROW
from .schema import TABLES

if TYPE_CHECKING:
    from .store import Catalog

ITEM_COLUMNS = ("id", "media", "title", "description", "date_taken", "date_upload", "license", "is_public",
                "is_friend", "is_family", "latitude", "longitude", "accuracy", "original_format", "path", "size",
                "sha256", "state", "views", "rotation", "o_width", "o_height", "taken_granularity",
                "taken_unknown", "geo_perms")

# name: (the columns read, the rest of the statement). A column is a name of the table, or
# (name, SQL) for a value computed from the row.
READS = {
    # every item, `saved` when its file is on disk
    "items": ((*ITEM_COLUMNS, ("saved", f"({has_file()})")), "FROM photos ORDER BY id"),
    # comments on items (not on albums), oldest first per item
    "comments": (("photo_id", "id", "author", "authorname", "realname", "date_create", "text"),
                 "FROM comments WHERE photo_id IS NOT NULL ORDER BY photo_id, date_create, id"),
    "notes": (("photo_id", "id", "authorname", "x", "y", "w", "h", "text"), "FROM notes ORDER BY photo_id, id"),
    "people": (("photo_id", "nsid", "username", "realname"), "FROM people ORDER BY photo_id, nsid"),
    "versions": (("photo_id", "path", "size", "sha256", "replaced_at"),
                 "FROM versions WHERE sha256 IS NOT NULL ORDER BY photo_id, replaced_at"),
    # albums still on Flickr
    "albums": (("id", "title", "description", "primary_id", "date_create", "date_update"),
               "FROM albums WHERE gone = 0 ORDER BY id"),
    "collections": (("id", "parent_id", "position", "title", "description"),
                    "FROM collections ORDER BY position, id"),
    # (photo id, tag, machine) in the order Flickr listed each item's tags
    "tags": (("photo_id", "tag", "machine"), "FROM tags ORDER BY photo_id, rowid"),
    # (album id, photo id) in each album's order on Flickr
    "album_members": (("album_id", "photo_id"), "FROM album_photos ORDER BY album_id, position, photo_id"),
    # (collection id, album id) in each collection's order
    "collection_members": (("collection_id", "album_id"), "FROM collection_albums ORDER BY collection_id, position"),
}


# The table each read's columns are typed by (a column of another table is named there).
TYPED_BY = {"items": "photos", "album_members": "album_photos", "collection_members": "collection_albums"}
EXTRA_TYPES = {"saved": int}
# SQLite's typeof() of the values Python reads as each type (an integer counts as a float).
_TYPEOF = {str: ("text",), int: ("integer",), float: ("integer", "real"), bytes: ("blob",)}


def rows(cat: "Catalog", name: str) -> list[dict]:
    columns = [column if isinstance(column, str) else column[0] for column in READS[name][0]]
    return [dict(zip(columns, row)) for row in cat.db.execute(_every_row(name))]


def tuples(cat: "Catalog", name: str) -> list[tuple]:
    return cat.db.execute(_every_row(name)).fetchall()


def _every_row(name: str) -> str:
    """The statement, each value checked: the expression is not named after its column, so
    that ORDER BY still names the table's column (and its index), never the checked value."""
    columns, rest = READS[name]
    types = TABLES[TYPED_BY.get(name, name)][0]
    values = []
    for column in columns:
        label, sql = (column, column) if isinstance(column, str) else column
        kind = EXTRA_TYPES.get(label) or types.get(label)
        values.append(_typed(sql, kind) if kind else sql)
    return f"SELECT {EVERY_ROW} {', '.join(values)} {rest}"


def _typed(sql: str, kind: type) -> str:
    """SQL: the value when it is of the column's type, else NULL."""
    accepted = " OR ".join(f"typeof({sql}) = '{name}'" for name in _TYPEOF[kind])
    return f"CASE WHEN {accepted} THEN {sql} END"
