"""What the gallery shows, read in a few passes over whole tables (one statement per table,
not one per item: a gallery of 100,000 items is read in seconds). Named statements; none
writes. `rows` gives dicts, `tuples` plain tuples (the long lists of pairs).

SQLite keeps whatever a writer put in a column (a catalog edited by hand or by another tool
may hold 'big' as a size, a blob as a path): every value is checked against the type its
column holds (catalog/schema.py) and one of another type is read as NULL, so that the
gallery shows "unknown" instead of failing on it."""

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

READS = {
    # every item, `saved` when its file is on disk
    "items": f"SELECT {', '.join(ITEM_COLUMNS)}, ({has_file()}) AS saved FROM photos ORDER BY id",
    # comments on items (not on albums), oldest first per item
    "comments": "SELECT photo_id, id, author, authorname, realname, date_create, text FROM comments "
                "WHERE photo_id IS NOT NULL ORDER BY photo_id, date_create, id",
    "notes": "SELECT photo_id, id, authorname, x, y, w, h, text FROM notes ORDER BY photo_id, id",
    "people": "SELECT photo_id, nsid, username, realname FROM people ORDER BY photo_id, nsid",
    "versions": "SELECT photo_id, path, size, sha256, replaced_at FROM versions WHERE sha256 IS NOT NULL "
                "ORDER BY photo_id, replaced_at",
    # albums still on Flickr
    "albums": "SELECT id, title, description, primary_id, date_create, date_update FROM albums WHERE gone = 0 "
              "ORDER BY id",
    "collections": "SELECT id, parent_id, position, title, description FROM collections ORDER BY position, id",
    # (photo id, tag, machine) in the order Flickr listed each item's tags
    "tags": "SELECT photo_id, tag, machine FROM tags ORDER BY photo_id, rowid",
    # (album id, photo id) in each album's order on Flickr
    "album_members": "SELECT album_id, photo_id FROM album_photos ORDER BY album_id, position, photo_id",
    # (collection id, album id) in each collection's order
    "collection_members": "SELECT collection_id, album_id FROM collection_albums ORDER BY collection_id, position",
}


# The table each read's columns are typed by (a column of another table is named there).
TYPED_BY = {"items": "photos", "album_members": "album_photos", "collection_members": "collection_albums"}
EXTRA_TYPES = {"saved": int}


def rows(cat: "Catalog", name: str) -> list[dict]:
    cursor = cat.db.execute(_every_row(name))
    columns = [d[0] for d in cursor.description]
    check = _checks(name, columns)
    return [dict(zip(columns, map(_typed, check, row))) for row in cursor]


def tuples(cat: "Catalog", name: str) -> list[tuple]:
    cursor = cat.db.execute(_every_row(name))
    check = _checks(name, [d[0] for d in cursor.description])
    return [tuple(map(_typed, check, row)) for row in cursor]


def _checks(name: str, columns: list[str]) -> list[type | None]:
    types = TABLES[TYPED_BY.get(name, name)][0]
    return [EXTRA_TYPES.get(column) or types.get(column) for column in columns]


def _typed(kind: type | None, value):
    """value when it is of the column's type (an integer counts as a float), else None."""
    if value is None or kind is None:
        return value
    if kind is float:
        return value if isinstance(value, (int, float)) else None
    return value if type(value) is kind else None


def _every_row(name: str) -> str:
    return READS[name].replace("SELECT", f"SELECT {EVERY_ROW}", 1)
