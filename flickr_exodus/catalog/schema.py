"""Tables of the catalog (design.md contract: these names; more columns are welcome).

Every table keeps what Flickr sent (`raw`, JSON) beside the parsed columns, so nothing
Flickr said is lost to a parsing decision made today.
"""

from __future__ import annotations

import sqlite_utils

from . import fts

# Catalogs remember the version that last wrote them; a newer one is never touched.
# 4: full-text indexes (fts.py), filled once when a catalog is first opened for writing.
# 5: exodus audit's tables (face_cache, audit), made by create() when an older catalog is
# first opened for writing; nothing else changes, so the older rows stay as they are.
SCHEMA_VERSION = 5

TABLES: dict[str, tuple[dict, dict]] = {
    # name: (columns, options)
    "photos": ({
        "id": str, "media": str, "title": str, "description": str, "date_taken": str,
        "date_upload": int, "last_update": int, "license": int, "is_public": int,
        "is_friend": int, "is_family": int, "latitude": float, "longitude": float,
        "original_format": str, "path": str, "size": int, "sha256": str, "state": str,
        "verified_at": str, "raw": str,
        "verified": str,           # what `exodus verify` checked last time (JSON)
        # The proof delete-remote relies on, bound to the bytes it is about: the sha256 and
        # size a full verify read and found whole, and the facts Flickr stated that agreed
        # (JSON list). Set together by verify; cleared by any new bytes (PROOF_TRIGGER).
        "verified_sha256": str, "verified_size": int, "verified_facts": str,
        "source": str,             # where the file came from: api | export
        # beyond the contract
        "secret": str, "original_secret": str, "server": str, "accuracy": int,
        "taken_granularity": int, "taken_unknown": int, "safety_level": int, "views": int,
        "o_width": int, "o_height": int, "url_o": str, "source_url": str,
        "video_source": str,       # getSizes "Video Original" (videos)
        "etag": str,               # of the download in progress, for If-Range
        "expected_size": int,      # the Content-Length Flickr sent for the whole file
        "reason": str,             # why failed / needs_manual / unavailable
        "attempts": int, "downloaded_at": str, "first_seen": str,
        "count_comments": int, "comments_synced": int,  # comment count when last fetched
        "listed_pass": int,        # the last listing pass that saw the item
        "sidecar_dirty": int,
        "deep_done": int,          # getInfo (and people) fetched for the current last_update
        "info_raw": str,           # what getInfo sent
        "rotation": int, "perm_comment": int, "perm_addmeta": int, "has_people": int,
        "photopage": str, "duration": int, "places": str, "geo_perms": str,
        "kept_size": str,          # the size kept when Flickr withholds the original
        "fallback_url": str,       # the largest size the listing offers
        "gone_at": str,            # when a listing first missed it (remote_gone)
        "replaced": int,           # Flickr's original changed: keep the old file first
        "prior_secret": str,       # the original secret of the file on disk when replaced
    }, {"pk": "id", "not_null": {"state"}, "defaults": {"state": "pending", "sidecar_dirty": 1,
                                                       "deep_done": 0, "attempts": 0}}),
    "albums": ({
        "id": str, "title": str, "description": str, "primary_id": str, "count_photos": int,
        "count_videos": int, "count_comments": int, "comments_synced": int, "count_views": int,
        "date_create": int, "date_update": int, "synced_update": str, "gone": int, "raw": str,
    }, {"pk": "id", "defaults": {"gone": 0}}),
    "album_photos": ({"album_id": str, "photo_id": str, "position": int},
                     {"pk": ("album_id", "photo_id")}),
    "collections": ({"id": str, "parent_id": str, "position": int, "title": str,
                     "description": str, "raw": str}, {"pk": "id"}),
    "collection_albums": ({"collection_id": str, "album_id": str, "position": int},
                          {"pk": ("collection_id", "album_id")}),
    "comments": ({"id": str, "photo_id": str, "album_id": str, "author": str, "authorname": str,
                  "realname": str, "date_create": int, "permalink": str, "text": str, "raw": str},
                 {"pk": "id"}),
    "tags": ({"photo_id": str, "tag": str, "machine": int, "raw": str},
             {"pk": ("photo_id", "tag")}),
    "notes": ({"id": str, "photo_id": str, "author": str, "authorname": str, "x": int, "y": int,
               "w": int, "h": int, "text": str, "raw": str}, {"pk": "id"}),
    "people": ({"photo_id": str, "nsid": str, "username": str, "realname": str, "added_by": str,
                "box": str, "raw": str},
               {"pk": ("photo_id", "nsid")}),
    "favorites": ({"id": str, "owner": str, "title": str, "date_faved": int, "url": str, "raw": str},
                  {"pk": "id"}),
    # Earlier originals of replaced photos, kept under their dated names.
    "versions": ({"photo_id": str, "path": str, "size": int, "sha256": str, "original_secret": str,
                  "replaced_at": str}, {"pk": ("photo_id", "path")}),
    "galleries": ({"id": str, "title": str, "description": str, "url": str, "count": int,
                   "raw": str}, {"pk": "id"}),
    "gallery_photos": ({"gallery_id": str, "photo_id": str, "position": int, "owner": str,
                        "title": str, "url": str, "raw": str}, {"pk": ("gallery_id", "photo_id")}),
    "contacts": ({"nsid": str, "username": str, "realname": str, "friend": int, "family": int,
                  "raw": str}, {"pk": "nsid"}),
    "groups": ({"nsid": str, "name": str, "members": int, "pool_count": int, "raw": str},
               {"pk": "nsid"}),
    "group_photos": ({"group_id": str, "photo_id": str}, {"pk": ("group_id", "photo_id")}),
    # What went where: one row per file and push target, written once the upload is checked.
    # Photo libraries (Immich) keep the asset id in etag and a hash of the metadata sent
    # in meta_sha256; albums and tags have rows too ("album:ID", "tag:NAME").
    "pushes": ({"target": str, "key": str, "item_id": str, "size": int, "sha256": str, "etag": str,
                "meta_sha256": str, "pushed_at": str,
                "checked": str,  # how the upload was found whole: "md5:etag", "size+content-md5"... (push/)
                }, {"pk": ("target", "key")}),
    "runs": ({"id": int, "command": str, "started_at": str, "finished_at": str, "status": str,
              "api_calls": int, "bytes": int, "summary": str}, {"pk": "id"}),
    # Journals of what exodus changed on Flickr: a row before the call (intent), its result
    # after, so that a kill at any instant leaves an exact record.
    "deletions": ({"id": int, "photo_id": str, "run_id": int, "intent_at": str, "result": str,
                   "result_at": str, "detail": str, "raw": str}, {"pk": "id"}),
    # before/after: JSON of visibility, license, geo perms (null: no location) and whether
    # the item has the tag no_cv; tag_id: the id Flickr gave the no_cv a lock added.
    "lockdowns": ({"id": int, "photo_id": str, "run_id": int, "action": str, "before": str, "after": str,
                   "intent_at": str, "result": str, "result_at": str, "detail": str, "undone": int,
                   "tag_id": str},
                  {"pk": "id", "defaults": {"undone": 0}}),
    # exodus audit: the faces a detector found in a file, by its bytes (sha256) and the
    # detector (name, version, downscale), so that a rerun looks only at new files; width
    # and height of the picture as displayed, boxes a JSON list of [x, y, w, h] in its
    # pixels. No width: the detector could not read the file.
    "face_cache": ({"sha256": str, "detector": str, "width": int, "height": int, "boxes": str},
                   {"pk": ("sha256", "detector")}),
    # Each item's risk level and its reasons (JSON [{"code", "text"}]) as the last audit
    # found them; replaced whole by each run. Read by the selections (`audit_ids`).
    "audit": ({"photo_id": str, "risk": str, "reasons": str, "faces": str, "audited_at": str},
              {"pk": "photo_id"}),
    "meta": ({"key": str, "value": str}, {"pk": "key"}),
}

INDEXES = [
    ("photos", ["state"]), ("photos", ["listed_pass"]), ("album_photos", ["photo_id"]),
    ("comments", ["photo_id"]), ("comments", ["album_id"]), ("deletions", ["photo_id"]),
    ("notes", ["photo_id"]), ("people", ["photo_id"]), ("group_photos", ["photo_id"]),
    ("photos", ["path"]), ("versions", ["path"]), ("lockdowns", ["photo_id"]), ("pushes", ["item_id"]),
    ("audit", ["risk"]),
]



def index_name(table: str, columns: list[str]) -> str:
    """The name create() gives an index of INDEXES (sqlite_utils' own)."""
    return f"idx_{table}_{'_'.join(columns)}"


# The walks over items name the index they page through (INDEXED BY): without statistics
# SQLite takes the state index for a filter on states and sorts every matching row again
# for each page, which at a million items turns one walk into thousands of seconds.
PHOTOS_BY_ID = "sqlite_autoindex_photos_1"  # the primary key's own index
PHOTOS_BY_PATH = index_name("photos", ["path"])

# Any statement that writes an item's bytes (a download, an import, a repair, a release of a
# replaced file) voids its proof, whoever runs it: a newer download always needs a new verify.
PROOF_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS photos_new_bytes_void_proof AFTER UPDATE OF sha256, size ON photos
BEGIN
    UPDATE photos SET verified_sha256 = NULL, verified_size = NULL, verified_facts = NULL WHERE id = NEW.id;
END
"""


def version_of(db: sqlite_utils.Database) -> int | None:
    if not db["meta"].exists():
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def needs_update(db: sqlite_utils.Database) -> bool:
    """Anything create() would add: opening a current catalog writes nothing (a dry run stays dry)."""
    if version_of(db) != SCHEMA_VERSION:
        return True
    tables = set(db.table_names())
    for name, (columns, _) in TABLES.items():
        if name not in tables or set(columns) - set(db[name].columns_dict):
            return True
    indexed = {(name, tuple(i.columns)) for name in {n for n, _ in INDEXES} for i in db[name].indexes}
    return any((name, tuple(columns)) not in indexed for name, columns in INDEXES) or fts.missing(db)


def create(db: sqlite_utils.Database, search: bool = True) -> None:
    """search: make the full-text indexes too. A session that brings an older catalog up
    to date in memory (read-only) has no use for them: filling them reads every row."""
    for name, (columns, options) in TABLES.items():
        table = db[name]
        if not table.exists():
            table.create(columns, **options)
        else:  # a newer exodus may add columns; never drop any
            missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
            for column, kind in missing.items():
                table.add_column(column, kind)
    for name, columns in INDEXES:
        db[name].create_index(columns, index_name=index_name(name, columns), if_not_exists=True)
    db.execute(PROOF_TRIGGER)
    if search:
        fts.ensure(db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) "
               "DO UPDATE SET value = excluded.value", [str(SCHEMA_VERSION)])
