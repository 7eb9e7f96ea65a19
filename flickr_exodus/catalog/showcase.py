"""What the gallery shows, read in a few passes over whole tables (one statement per table,
not one per item: a gallery of 100,000 items is read in seconds). Each returns plain dicts
or tuples; none writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .items import has_file
from .queries import EVERY_ROW

if TYPE_CHECKING:
    from .store import Catalog

ITEM_COLUMNS = ("id", "media", "title", "description", "date_taken", "date_upload", "license", "is_public",
                "is_friend", "is_family", "latitude", "longitude", "accuracy", "original_format", "path", "size",
                "sha256", "state", "views", "rotation", "o_width", "o_height", "taken_granularity",
                "taken_unknown")


def items(cat: "Catalog") -> list[dict]:
    """Every item, with `saved` true when its file is on disk (by id)."""
    columns = ", ".join(ITEM_COLUMNS)
    return cat.rows(f"SELECT {EVERY_ROW} {columns}, ({has_file()}) AS saved FROM photos ORDER BY id")


def secrets(cat: "Catalog") -> list[tuple[str, str | None, str | None]]:
    """(id, secret, original_secret) of every item: for tests that prove a subset leaks none."""
    return cat.db.execute(f"SELECT {EVERY_ROW} id, secret, original_secret FROM photos").fetchall()


def tags(cat: "Catalog") -> list[tuple[str, str, int]]:
    """(photo id, tag, machine) in the order Flickr listed each item's tags."""
    return cat.db.execute(f"SELECT {EVERY_ROW} photo_id, tag, machine FROM tags ORDER BY photo_id, rowid").fetchall()


def comments(cat: "Catalog") -> list[dict]:
    """Comments on items (not on albums), oldest first per item."""
    return cat.rows(f"SELECT {EVERY_ROW} photo_id, id, author, authorname, realname, date_create, text "
                    "FROM comments WHERE photo_id IS NOT NULL ORDER BY photo_id, date_create, id")


def notes(cat: "Catalog") -> list[dict]:
    return cat.rows(f"SELECT {EVERY_ROW} photo_id, id, authorname, x, y, w, h, text FROM notes "
                    "ORDER BY photo_id, id")


def people(cat: "Catalog") -> list[dict]:
    return cat.rows(f"SELECT {EVERY_ROW} photo_id, nsid, username, realname FROM people ORDER BY photo_id, nsid")


def versions(cat: "Catalog") -> list[dict]:
    return cat.rows(f"SELECT {EVERY_ROW} photo_id, path, size, sha256, replaced_at FROM versions "
                    "WHERE sha256 IS NOT NULL ORDER BY photo_id, replaced_at")


def albums(cat: "Catalog") -> list[dict]:
    """Albums still on Flickr, by id."""
    return cat.rows(f"SELECT {EVERY_ROW} id, title, description, primary_id, date_create, date_update "
                    "FROM albums WHERE gone = 0 ORDER BY id")


def album_members(cat: "Catalog") -> list[tuple[str, str]]:
    """(album id, photo id) in each album's order on Flickr (album_photos.position)."""
    return cat.db.execute(f"SELECT {EVERY_ROW} album_id, photo_id FROM album_photos "
                          "ORDER BY album_id, position, photo_id").fetchall()


def collections(cat: "Catalog") -> list[dict]:
    return cat.rows(f"SELECT {EVERY_ROW} id, parent_id, position, title, description FROM collections "
                    "ORDER BY position, id")


def collection_members(cat: "Catalog") -> list[tuple[str, str]]:
    """(collection id, album id) in each collection's order."""
    return cat.db.execute(f"SELECT {EVERY_ROW} collection_id, album_id FROM collection_albums "
                          "ORDER BY collection_id, position").fetchall()
