"""Questions someone leaving Flickr asks of their catalog, as read-only SQL for Datasette's
canned queries (gallery/datasette.py writes them into DEST/metadata.yml). They live here,
beside the schema, because they are SQL over it: a change of schema changes them too.

Only SELECT (or WITH ... SELECT); Datasette runs canned queries on a read-only connection
unless told they write, and these never say so.
"""

from __future__ import annotations

from typing import NamedTuple

from .items import has_file

# Flickr's licence ids (flickr.photos.licenses.getInfo) -> a short name, here and on the gallery's pages. Creative Commons:
# the six 2.0 licences, CC0 and the six 4.0 ones; the Public Domain Mark is a label, not a
# licence, and 7 and 8 are not Creative Commons.
LICENCES = {
    0: "All Rights Reserved", 1: "CC BY-NC-SA 2.0", 2: "CC BY-NC 2.0", 3: "CC BY-NC-ND 2.0",
    4: "CC BY 2.0", 5: "CC BY-SA 2.0", 6: "CC BY-ND 2.0", 7: "No known copyright restrictions",
    8: "United States Government Work", 9: "Public Domain Dedication (CC0 1.0)", 10: "Public Domain Mark 1.0",
    11: "CC BY 4.0", 12: "CC BY-SA 4.0", 13: "CC BY-ND 4.0", 14: "CC BY-NC 4.0", 15: "CC BY-NC-SA 4.0",
    16: "CC BY-NC-ND 4.0",
}
CREATIVE_COMMONS = (1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16)
LICENCE_NAME = ("CASE p.license " + " ".join(f"WHEN {k} THEN '{v}'" for k, v in LICENCES.items())
                + " ELSE 'licence ' || p.license END")
PROVEN = "p.verified_sha256 IS NOT NULL AND p.verified_sha256 = p.sha256"


class Canned(NamedTuple):
    name: str
    title: str
    description: str
    sql: str


QUERIES = (
    Canned("public_creative_commons", "Public photos under a Creative-Commons licence",
           "What you shared for others to reuse: ready to publish again elsewhere under the same licence.",
           f"SELECT p.id, p.title, {LICENCE_NAME} AS licence, p.date_taken, p.path\n"
           f"FROM photos p\nWHERE p.is_public = 1 AND p.license IN ({', '.join(map(str, CREATIVE_COMMONS))})\n"
           "ORDER BY p.date_taken, p.id"),
    Canned("most_commented", "The most commented items",
           "Items by the number of comments the backup holds for them.",
           "SELECT p.id, p.title, count(*) AS comments, max(c.date_create) AS last_comment\n"
           "FROM photos p JOIN comments c ON c.photo_id = p.id\n"
           "GROUP BY p.id ORDER BY comments DESC, p.id LIMIT 100"),
    Canned("not_verified", "Saved items not yet verified",
           "Items with a file whose bytes no full 'exodus verify' has proven: run it before "
           "'exodus delete-remote', which refuses them.",
           f"SELECT p.id, p.title, p.state, p.path, p.verified_at\nFROM photos p\n"
           f"WHERE {has_file('p')} AND NOT ({PROVEN})\nORDER BY p.id"),
    Canned("people_tagged", "Photos with people tagged",
           "Who was tagged in which photo: mind them before you publish.",
           "SELECT p.id, p.title, count(*) AS people,\n"
           "  group_concat(coalesce(nullif(pe.realname, ''), nullif(pe.username, ''), pe.nsid), ', ') AS who\n"
           "FROM photos p JOIN people pe ON pe.photo_id = p.id\nGROUP BY p.id ORDER BY p.id"),
    Canned("not_saved", "Items without a file, and why",
           "What the backup could not save yet (pending, failed, needing you), with the reason.",
           "SELECT p.id, p.title, p.media, p.state, p.reason\nFROM photos p\n"
           "WHERE p.path IS NULL OR p.sha256 IS NULL OR p.state IN ('pending', 'failed', 'needs_manual')\n"
           "ORDER BY p.state, p.id"),
    Canned("gone_from_flickr", "Items no longer on Flickr",
           "Deleted there, by you through exodus or by anyone else: this backup may be their only copy.",
           "SELECT p.id, p.title, p.state, p.gone_at, p.path\nFROM photos p\n"
           "WHERE p.state IN ('remote_gone', 'deleted_remote')\nORDER BY p.id"),
    Canned("private_items", "Items only you could see",
           "Neither public nor shared with friends or family: keep them out of anything you publish.",
           "SELECT p.id, p.title, p.media, p.date_taken, p.path\nFROM photos p\n"
           "WHERE coalesce(p.is_public, 0) = 0 AND coalesce(p.is_friend, 0) = 0 AND coalesce(p.is_family, 0) = 0\n"
           "ORDER BY p.id"),
    Canned("geotagged", "Where they were taken",
           "Items with coordinates; a link to the place on OpenStreetMap.",
           "SELECT p.id, p.title, p.latitude, p.longitude,\n"
           "  'https://www.openstreetmap.org/?mlat=' || p.latitude || '&mlon=' || p.longitude || '#map=16/'\n"
           "    || p.latitude || '/' || p.longitude AS map\n"
           "FROM photos p\nWHERE p.latitude IS NOT NULL AND p.longitude IS NOT NULL\nORDER BY p.id"),
    Canned("album_in_order", "An album, in Flickr's order",
           "The items of one album (its id: see the albums table), as Flickr ordered them.",
           "SELECT ap.position, p.id, p.title, p.path\nFROM album_photos ap JOIN photos p ON p.id = ap.photo_id\n"
           "WHERE ap.album_id = :album\nORDER BY ap.position"),
    Canned("search_everything", "Search titles, descriptions, tags and comments",
           "Items whose title and description, one of whose tags or one of whose comments hold the "
           "words (SQLite FTS5 syntax: all the words, \"a quoted phrase\", a prefix*).",
           "WITH found AS (\n"
           "  SELECT p.id FROM photos p WHERE p.rowid IN (SELECT rowid FROM photos_fts WHERE photos_fts MATCH :q)\n"
           "  UNION SELECT t.photo_id FROM tags t WHERE t.rowid IN (SELECT rowid FROM tags_fts WHERE tags_fts MATCH :q)\n"
           "  UNION SELECT c.photo_id FROM comments c\n"
           "    WHERE c.rowid IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH :q) AND c.photo_id IS NOT NULL\n"
           ")\nSELECT p.id, p.title, p.date_taken, p.path\nFROM photos p JOIN found f ON f.id = p.id\n"
           "ORDER BY p.date_taken, p.id"),
)
