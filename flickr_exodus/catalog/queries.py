"""Named reads of the catalog, for the tree, the reports, verify and push. Each returns
plain values or row dicts; none writes."""

from __future__ import annotations

import json

from .items import STATES, TO_FETCH, WANTING_STATES, has_file

# Marks a statement that is a pass over every row of its table, made on purpose (a count, a
# total): benchmarks/scale.py lets such a statement scan without an index, and no other.
EVERY_ROW = "/* every row */"
# Where an item's file came from, as exodus writes it (schema.py); no source is 'api'.
SOURCES = ("api", "export", "adopted")


def _source_is(source: str) -> str:
    return "(source IS NULL OR source = 'api')" if source == "api" else f"source = '{source}'"


class Queries:
    """Mixed into Catalog: needs self.rows(), self.one(), self.db."""

    # --- counts for the reports ----------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in STATES}
        for state, n in self.db.execute(f"SELECT {EVERY_ROW} state, count(*) FROM photos GROUP BY state"):
            out[state] = n
        return out

    def count(self, what: str) -> int:
        """Rows of a table, by name: albums (not gone), collections, comments, photos."""
        sql = {"albums": "SELECT count(*) FROM albums WHERE gone = 0",
               "collections": "SELECT count(*) FROM collections",
               "comments": "SELECT count(*) FROM comments",
               "photos": "SELECT count(*) FROM photos",
               "with_files": f"SELECT count(*) FROM photos WHERE {has_file()}",
               "verified": f"SELECT count(*) FROM photos WHERE {has_file()} AND verified_sha256 = sha256",
               "deep_missing": f"SELECT count(*) FROM photos WHERE {has_file()} AND NOT deep_done",
               "kept_smaller": "SELECT count(*) FROM photos WHERE state = 'original_unavailable' "
                               "AND sha256 IS NOT NULL"}[what]
        return self.one(sql.replace("SELECT", f"SELECT {EVERY_ROW}", 1)) or 0

    def bytes_on_disk(self) -> int:
        return self.one(f"SELECT {EVERY_ROW} coalesce(sum(size), 0) FROM photos WHERE {has_file()}") or 0

    def file_totals(self) -> dict:
        """What status says of the files, in one pass over the items (a million take a
        second): those with a finished file, their bytes, those whose proof covers their
        bytes, those without deep metadata; and items with bytes by source (api, export).
        The sources exodus writes are counted in that pass: a GROUP BY would sort every
        row, which costs as much as the pass itself; a source no exodus writes (a newer
        or hostile catalog) is counted by sources() instead."""
        known = ", ".join(f"'{source}'" for source in SOURCES)
        by_source = ", ".join(f"count(CASE WHEN {_source_is(source)} THEN sha256 END)" for source in SOURCES)
        row = self.db.execute(
            f"SELECT {EVERY_ROW} count(CASE WHEN {has_file()} THEN 1 END), sum(CASE WHEN {has_file()} THEN size END), "
            f"count(CASE WHEN verified_sha256 = sha256 AND {has_file()} THEN 1 END), "
            f"count(CASE WHEN NOT deep_done AND {has_file()} THEN 1 END), "
            f"count(CASE WHEN source NOT IN ({known}) THEN sha256 END), {by_source} FROM photos").fetchone()
        totals = dict(zip(("with_files", "bytes", "verified", "deep_missing"), (n or 0 for n in row[:4])))
        if row[4]:
            sources = self.sources()
        else:
            sources = {source: n for source, n in zip(SOURCES, row[5:]) if n}
        return {**totals, "sources": sources}

    def sources(self) -> dict[str, int]:
        """Items with a file, by where it came from (api, export, adopted)."""
        return dict(self.db.execute(f"SELECT {EVERY_ROW} coalesce(source, 'api'), count(*) FROM photos "
                                    "WHERE sha256 IS NOT NULL GROUP BY 1").fetchall())

    def problems(self, states: tuple[str, ...] = WANTING_STATES, limit: int | None = None,
                 by_state: bool = True) -> list[dict]:
        """Items in these states (id, media, title, state, reason), by state then id (or by id)."""
        marks = ", ".join("?" * len(states))
        sql = (f"SELECT id, media, title, state, reason FROM photos WHERE state IN ({marks}) "
               f"ORDER BY {'state, ' if by_state else ''}id")
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.rows(sql, states)

    def last_run(self) -> dict | None:
        rows = self.rows("SELECT id, command, started_at, finished_at, status, api_calls, bytes FROM runs "
                         "WHERE id = (SELECT max(id) FROM runs)")
        return rows[0] if rows else None

    def hashes(self) -> dict[str, str | None]:
        """Every item's sha256, by id."""
        return dict(self.db.execute("SELECT id, sha256 FROM photos ORDER BY id").fetchall())

    def known_paths(self) -> list[str]:
        """The path of every item that has bytes, whatever its state."""
        return [r[0] for r in self.db.execute("SELECT path FROM photos WHERE path IS NOT NULL "
                                              "AND sha256 IS NOT NULL")]

    def fetch_totals(self) -> dict:
        marks = ", ".join("?" * len(TO_FETCH))
        row = self.db.execute(
            f"SELECT count(*), sum(media = 'video'), sum(coalesce(o_width, 0) * coalesce(o_height, 0)) "
            f"FROM photos WHERE state IN ({marks})", TO_FETCH).fetchone()
        return {"items": row[0] or 0, "videos": row[1] or 0, "pixels": row[2] or 0}

    def owner_of(self, path: str) -> dict | None:
        """The item whose file is at this path (id, state)."""
        rows = self.rows("SELECT id, state FROM photos WHERE path = ?", [path])
        return rows[0] if rows else None

    def names_in(self, folder: str) -> list[str]:
        """Names of the files of items and earlier versions right in folder/ (not in its
        subfolders), cut from their paths by SQLite: a tree of a million files is not
        cut name by name in Python."""
        low, high = folder + "/", folder + "0"  # '0' follows '/': the folder's whole range
        start = len(low) + 1  # substr counts from 1
        return [name for table in ("photos", "versions")
                for (name,) in self.db.execute(f"SELECT substr(path, ?1) FROM {table} WHERE path >= ?2 AND path < ?3 "
                                               "AND instr(substr(path, ?1), '/') = 0", [start, low, high]).fetchall()]

    # --- what a sidecar holds beside the item's own row ------------------------------------
    def item_extras(self, pid: str) -> dict[str, list[dict]]:
        """The albums, comments, tags, notes, people, collections, groups and earlier
        versions of one item."""
        extras = {
            "albums": self.rows("SELECT a.id, a.title, ap.position FROM album_photos ap JOIN albums a "
                                "ON a.id = ap.album_id WHERE ap.photo_id = ? ORDER BY a.id", [pid]),
            "comments": self.rows("SELECT id, author, authorname, realname, date_create, permalink, text "
                                  "FROM comments WHERE photo_id = ? ORDER BY date_create, id", [pid]),
            "tags": self.rows("SELECT tag, machine, raw FROM tags WHERE photo_id = ? ORDER BY rowid", [pid]),
            "notes": self.rows("SELECT id, author, authorname, x, y, w, h, text FROM notes WHERE photo_id = ? "
                               "ORDER BY id", [pid]),
            "people": self.rows("SELECT nsid, username, realname, added_by, box FROM people WHERE photo_id = ? "
                                "ORDER BY nsid", [pid]),
            "collections": self.rows("SELECT DISTINCT c.id, c.title FROM collection_albums ca JOIN collections c "
                                     "ON c.id = ca.collection_id JOIN album_photos ap ON ap.album_id = ca.album_id "
                                     "WHERE ap.photo_id = ? ORDER BY c.id", [pid]),
            "groups": self.rows("SELECT g.nsid, g.name FROM group_photos gp JOIN groups g ON g.nsid = gp.group_id "
                                "WHERE gp.photo_id = ? ORDER BY g.nsid", [pid]),
            "versions": self.rows("SELECT path, size, sha256, original_secret, replaced_at FROM versions "
                                  "WHERE photo_id = ? ORDER BY replaced_at", [pid]),
        }
        for person in extras["people"]:
            person["box"] = json.loads(person["box"]) if person["box"] else None
        return extras

    def in_album(self, photo_id: str) -> bool:
        return bool(self.one("SELECT count(*) FROM album_photos WHERE photo_id = ?", [photo_id]))

    # --- albums and collections --------------------------------------------------------
    def albums(self) -> list[dict]:
        """Albums still on Flickr, by id (id, title, description, counts, date_update, synced_update)."""
        return self.rows("SELECT id, title, description, date_update, count_photos, count_videos, synced_update "
                         "FROM albums WHERE gone = 0 ORDER BY id")

    def album_files(self, album_id: str) -> list[dict]:
        """The files of an album's items, in album order (path, position)."""
        return self.rows(f"SELECT p.path, ap.position FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
                         f"WHERE ap.album_id = ? AND {has_file('p')} ORDER BY ap.position", [album_id])

    def album_comment_count(self, album_id: str) -> int | None:
        return self.one("SELECT count_comments FROM albums WHERE id = ?", [album_id])

    def comment_counts(self, photo_ids: list[str]) -> dict[str, int | None]:
        return dict(self.db.execute("SELECT id, count_comments FROM photos WHERE id IN "
                                    "(SELECT value FROM json_each(?))", [json.dumps(photo_ids)]).fetchall())

    def collections(self) -> list[dict]:
        return self.rows("SELECT id, parent_id, title FROM collections")

    def collection_albums(self, collection_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT album_id FROM collection_albums WHERE collection_id = ? "
                                              "ORDER BY position", [collection_id])]

    def collection_links(self) -> list[tuple[str, str]]:
        """(collection id, album id) in each collection's order."""
        return self.db.execute("SELECT collection_id, album_id FROM collection_albums "
                               "ORDER BY collection_id, position").fetchall()

    def favorites(self, with_url: bool = False) -> list[dict]:
        where = "WHERE url IS NOT NULL " if with_url else ""
        return self.rows(f"SELECT id, owner, title, date_faved, url FROM favorites {where}ORDER BY id")

    def versions(self) -> list[dict]:
        """Every earlier file kept (photo_id, path, sha256)."""
        return self.rows("SELECT photo_id, path, sha256 FROM versions ORDER BY photo_id, path")
