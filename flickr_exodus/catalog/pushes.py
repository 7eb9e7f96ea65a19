"""What went where: the `pushes` rows of each push target, read and written."""

from __future__ import annotations

PUSH_COLUMNS = ("target", "key", "item_id", "size", "sha256", "etag", "meta_sha256", "checked", "pushed_at")


class Pushes:
    """Mixed into Catalog: needs self.tx(), self.rows(), self.one(), self.db."""

    def pushed(self, target: str, key: str) -> dict | None:
        """What was sent to a target under a key (size, sha256, etag, meta_sha256, pushed_at), if anything."""
        rows = self.rows("SELECT size, sha256, etag, meta_sha256, pushed_at FROM pushes WHERE target = ? AND key = ?",
                         [target, key])
        return rows[0] if rows else None

    def record_pushes(self, rows: list[tuple]) -> None:
        """Rows of PUSH_COLUMNS, each replacing what the target had under its key."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in PUSH_COLUMNS[2:])
        with self.tx() as conn:
            conn.executemany(f"INSERT INTO pushes ({', '.join(PUSH_COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(PUSH_COLUMNS))}) ON CONFLICT(target, key) DO UPDATE SET "
                             f"{updates}", rows)

    def set_pushed_sha256(self, target: str, key: str, sha256: str) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE pushes SET sha256 = ? WHERE target = ? AND key = ?", (sha256, target, key))

    def count_pushed_files(self, target: str) -> int:
        """Files on a target (albums and tags of libraries have rows without a size)."""
        return self.one("SELECT count(*) FROM pushes WHERE target = ? AND size IS NOT NULL", [target])

    def pushed_items(self) -> dict[str, int]:
        """Per target, the items whose current bytes it holds."""
        return dict(self.db.execute(
            "SELECT p.target, count(DISTINCT p.item_id) FROM pushes p JOIN photos ph ON ph.id = p.item_id "
            "AND ph.sha256 = p.sha256 GROUP BY p.target ORDER BY p.target").fetchall())

    def pushed_albums(self, target: str) -> set[str]:
        """The library's album ids already matched to a Flickr album."""
        return {r[0] for r in self.db.execute("SELECT etag FROM pushes WHERE target = ? AND key LIKE 'album:%'",
                                              [target])}

    def album_assets(self, target: str, album_id: str) -> list[str]:
        """The library's asset ids of an album's pushed items, in Flickr's order."""
        return [r[0] for r in self.db.execute(
            "SELECT x.etag FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
            "JOIN pushes x ON x.target = ? AND x.key = p.path WHERE ap.album_id = ? "
            "ORDER BY ap.position, p.id", [target, album_id])]

    def pushed_with_info(self, target: str) -> list[dict]:
        """Items pushed to a library: id, info_raw (getInfo's tags), and the asset id (etag)."""
        return self.rows("SELECT p.id, p.info_raw, x.etag FROM photos p JOIN pushes x ON x.target = ? "
                         "AND x.key = p.path ORDER BY p.id", [target])

    def plain_tags(self) -> list[dict]:
        """Every tag that is not a machine tag (photo_id, tag), in the order Flickr gave them."""
        return self.rows("SELECT photo_id, tag FROM tags WHERE machine = 0 ORDER BY rowid")
