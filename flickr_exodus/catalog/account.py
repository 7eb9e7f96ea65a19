"""What Flickr said of the account, as the crawl, the deep pass and the account export
record it: listing pages, albums, collections, comments, getInfo, the other tables, and
items known only from a sidecar or an export."""

from __future__ import annotations

from typing import Iterator

from .items import NEEDS_DEEP, State
from .transitions import dumps, now_iso, scalar

# Columns a listing sets; everything else (state, path, hashes...) belongs to exodus.
LISTED_COLUMNS = (
    "media", "title", "description", "date_taken", "date_upload", "last_update", "license",
    "is_public", "is_friend", "is_family", "latitude", "longitude", "accuracy", "original_format",
    "secret", "original_secret", "server", "taken_granularity", "taken_unknown", "safety_level",
    "views", "o_width", "o_height", "url_o", "source_url", "fallback_url", "kept_size", "count_comments",
    "listed_pass", "raw",
)


class Account:
    """Mixed into Catalog: needs self.tx(), self.rows(), self.one(), self.items()."""

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
            # Only the tags that changed are deleted or added: each row written costs its
            # full-text index (fts.py) a write too, and most items come back unchanged.
            conn.executemany("DELETE FROM tags WHERE photo_id = ? AND tag NOT IN (SELECT value FROM json_each(?))",
                             [(item["id"], dumps([tag for tag, _ in tags.get(item["id"], ())])) for item in items])
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

    # --- deep metadata ---------------------------------------------------------------
    def needing_deep(self, batch: int = 500) -> Iterator[str]:
        """Ids of items still on Flickr whose getInfo is not fetched for their last update."""
        return (item.id for item in self.items(NEEDS_DEEP, batch))

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

    # --- Flickr's account export ------------------------------------------------------------
    def add_exported_item(self, row: dict, raw: dict, tags: list[tuple[str, int, str]], comments: list[dict],
                          notes: list[dict], people: list[dict]) -> None:
        """An item only the export knows: every field it holds (tags as (tag, machine, raw))."""
        pid = row["id"]
        cols = list(row) + ["state", "raw", "first_seen", "deep_done", "sidecar_dirty"]
        values = list(row.values()) + [State.PENDING, dumps(raw), now_iso(), 1, 1]
        with self.tx() as conn:
            conn.execute(f"INSERT OR IGNORE INTO photos ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                         values)
            conn.executemany("INSERT OR IGNORE INTO tags (photo_id, tag, machine, raw) VALUES (?, ?, ?, ?)",
                             [(pid, *tag) for tag in tags])
            conn.executemany("INSERT OR REPLACE INTO comments (id, photo_id, author, date_create, text, raw) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             [(c["id"], pid, c["author"], c["date_create"], c["text"], dumps(c["raw"]))
                              for c in comments])
            conn.executemany("INSERT OR REPLACE INTO notes (id, photo_id, x, y, w, h, text, raw) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [(n["id"], pid, n["x"], n["y"], n["w"], n["h"], n["text"], dumps(n["raw"]))
                              for n in notes])
            conn.executemany("INSERT OR REPLACE INTO people (photo_id, nsid, username, raw) VALUES (?, ?, ?, ?)",
                             [(pid, p["nsid"], p["username"], dumps(p["raw"])) for p in people if p["nsid"]])
            conn.execute("UPDATE photos SET comments_synced = ? WHERE id = ?", (len(comments), pid))

    def add_favorites(self, faves: list[tuple[str, str | None, str]]) -> None:
        """(id, url, raw JSON) of favourites the export lists; those known stay as they are."""
        with self.tx() as conn:
            conn.executemany("INSERT OR IGNORE INTO favorites (id, url, raw) VALUES (?, ?, ?)", faves)

    def add_album_comments(self, comments: list[tuple]) -> None:
        """(id, album_id, date_create, text, raw JSON) of album comments the export lists."""
        with self.tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO comments (id, album_id, date_create, text, raw) "
                             "VALUES (?, ?, ?, ?, ?)", comments)
