"""DEST/metadata.yml: the catalog explained to Datasette (`pip install flickr-exodus[browse]`,
then `datasette DEST/catalog.db -m DEST/metadata.yml`): a title, what each table and
column holds, and canned queries (catalog/canned.py). Datasette finds the full-text
indexes (catalog/fts.py) by itself: `?_search=` on photos, albums, tags and comments.

Written by `exodus gallery` (`write_metadata`); Datasette stays an optional extra, and so
does PyYAML: the file is written by the small emitter below, JSON-quoted scalars and
literal blocks only, which every YAML parser reads the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..catalog import canned

METADATA = "metadata.yml"
DATABASE = "catalog"  # Datasette names a database after its file: catalog.db
# What YAML would take for a line break or refuse outright, in a one-line string from Flickr.
_NOT_YAML = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")

TABLES = {
    "photos": ("Every photo and video of the account, one row each: what Flickr said of it "
               "(raw: its JSON), where the file is (path, relative to the backup folder) and "
               "what exodus did with it (state).", {
                   "id": "Flickr's photo id: flickr.com/photos/<you>/<id>",
                   "media": "photo or video",
                   "title": "The title on Flickr", "description": "The description on Flickr (may hold HTML)",
                   "date_taken": "When it was taken, as Flickr says (local time of the camera)",
                   "date_upload": "When it was uploaded (Unix time)",
                   "license": "Flickr's licence id: 0 All Rights Reserved; 1-6, 9, 11-16 Creative Commons",
                   "is_public": "1: anyone could see it on Flickr",
                   "is_friend": "1: your friends could see it", "is_family": "1: your family could see it",
                   "latitude": "Where it was taken", "longitude": "Where it was taken",
                   "path": "The saved file, relative to the backup folder",
                   "size": "Bytes of the saved file", "sha256": "SHA-256 of the saved file",
                   "state": "downloaded, pending, failed, needs_manual, original_unavailable, remote_gone "
                            "(deleted on Flickr by someone else) or deleted_remote (by exodus delete-remote)",
                   "verified_at": "When exodus verify last proved the file whole",
                   "verified_sha256": "The SHA-256 that verify proved (equal to sha256 when the proof stands)",
                   "views": "Views on Flickr", "count_comments": "Comments on Flickr",
                   "reason": "Why it is failed, needs_manual or original_unavailable",
                   "raw": "What Flickr's listing sent, as JSON",
               }),
    "albums": ("Albums (Flickr's photosets); their items in album_photos, in order.", {
        "id": "Flickr's album id", "primary_id": "The cover photo's id", "gone": "1: no longer on Flickr"}),
    "album_photos": ("Which item is in which album, at which position (Flickr's order).", {}),
    "collections": ("Collections: a tree of albums (parent_id) in Flickr's order.", {}),
    "comments": ("Comments on photos (photo_id) and on albums (album_id), with their authors.", {
        "author": "The commenter's Flickr id (NSID)", "date_create": "When it was written (Unix time)",
        "text": "The comment (may hold HTML)"}),
    "tags": ("Tags of each item; machine = 1 for machine tags (namespace:predicate=value).", {}),
    "notes": ("Notes drawn on photos: a box (x, y, w, h in the 500-pixel Medium size) and its text.", {}),
    "people": ("People tagged in photos.", {"box": "Where in the photo, when one was drawn (JSON)"}),
    "versions": ("Earlier originals of replaced photos, kept under their dated names.", {}),
    "favorites": ("Other people's photos you marked as favourites.", {}),
    "runs": ("Every exodus command run on this backup, with its summary.", {}),
    "deletions": ("What exodus delete-remote deleted on Flickr, and when.", {}),
    "pushes": ("What exodus push sent where.", {}),
}


def metadata(username: str | None = None) -> dict:
    """The document Datasette reads (`-m`), for the account of `username` when known."""
    tables = {}
    for name, (description, columns) in TABLES.items():
        table = {"description": description}
        if columns:
            table["columns"] = dict(columns)
        # No fts_table here: Datasette finds the indexes by themselves (content=TABLE), and
        # a catalog that has none yet (never opened for writing since exodus 3) still opens.
        tables[name] = table
    queries = {q.name: {"title": q.title, "description": q.description, "sql": q.sql} for q in canned.QUERIES}
    return {
        "title": f"Flickr backup of {username}" if username else "Flickr backup",
        "description": "The catalog of a backup made by exodus (flickr-exodus): every item, album, comment, "
                       "tag, note and person tagged, and what happened to each. Search with the box on the "
                       "photos, albums, tags and comments tables, or try the queries below.",
        "databases": {DATABASE: {"tables": tables, "queries": queries}},
    }


def _scalar(value) -> str:
    if isinstance(value, str):
        value = _NOT_YAML.sub("", value)
    return json.dumps(value, ensure_ascii=False)


def to_yaml(value, indent: int = 0) -> str:
    """A document of dicts, strings, numbers and booleans as YAML: keys and one-line strings
    JSON-quoted (which YAML reads as they are), multi-line strings (our SQL) as literal
    blocks with their indentation stated, so that a line may start with spaces."""
    pad = " " * indent
    if not isinstance(value, dict):
        return pad + _scalar(value)
    lines = []
    for key, item in value.items():
        head = f"{pad}{_scalar(str(key))}:"
        if isinstance(item, dict):
            lines.append(head + (("\n" + to_yaml(item, indent + 2)) if item else " {}"))
        elif isinstance(item, str) and "\n" in item.rstrip("\n"):
            block = "\n".join(f"{pad}  {line}" if line else "" for line in item.rstrip("\n").split("\n"))
            lines.append(f"{head} |2-\n{block}")
        else:
            lines.append(f"{head} {_scalar(item)}")
    return "\n".join(lines)


def text(username: str | None = None) -> str:
    """What DEST/metadata.yml holds."""
    head = "# Datasette's metadata for catalog.db, written by exodus gallery: datasette catalog.db -m metadata.yml\n"
    return head + to_yaml(metadata(username)) + "\n"


def write_metadata(dest: Path, username: str | None = None) -> Path:
    """DEST/metadata.yml, through the gallery's one write (whole, only when it changed)."""
    from .pages import write_if_changed  # pages imports Pillow through exif: not for a caller of text()

    write_if_changed(dest, METADATA, text(username).encode())
    return dest / METADATA
