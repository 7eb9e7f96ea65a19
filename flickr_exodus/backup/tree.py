"""The folder tree around the files: a JSON sidecar beside each file, and albums and
collections as views (relative symlinks in album order, or a manifest.txt where the
filesystem cannot link). Never a second copy of a photo."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..catalog.store import Catalog
from . import names

SIDECAR_VERSION = 1
MANIFEST = "manifest.txt"


def has_file(table: str = "") -> str:
    """SQL: the item has a finished file on disk (whatever happened on Flickr since)."""
    p = f"{table}." if table else ""
    return (f"{p}state IN ('downloaded', 'remote_gone', 'deleted_remote') AND {p}path IS NOT NULL "
            f"AND {p}sha256 IS NOT NULL")


def sidecar_path(dest: Path, relative: str) -> Path:
    return dest / (relative + ".json")


def sidecar(cat: Catalog, row: dict) -> dict:
    """Everything the catalog knows of one item, in one document."""
    pid = row["id"]
    raw = json.loads(row["raw"]) if row["raw"] else {}
    albums = cat.rows("SELECT a.id, a.title, ap.position FROM album_photos ap JOIN albums a "
                      "ON a.id = ap.album_id WHERE ap.photo_id = ? ORDER BY a.id", [pid])
    comments = cat.rows("SELECT id, author, authorname, realname, date_create, permalink, text "
                        "FROM comments WHERE photo_id = ? ORDER BY date_create, id", [pid])
    tags = cat.rows("SELECT tag, machine, raw FROM tags WHERE photo_id = ? ORDER BY rowid", [pid])
    notes = cat.rows("SELECT id, author, authorname, x, y, w, h, text FROM notes WHERE photo_id = ?", [pid])
    people = cat.rows("SELECT nsid, username, realname FROM people WHERE photo_id = ?", [pid])
    geo = None
    if row["latitude"] is not None:
        geo = {"latitude": row["latitude"], "longitude": row["longitude"], "accuracy": row["accuracy"]}
    return {
        "exodus_sidecar": SIDECAR_VERSION,
        "id": pid, "media": row["media"], "title": row["title"], "description": row["description"],
        "date_taken": row["date_taken"], "date_taken_granularity": row["taken_granularity"],
        "date_taken_unknown": bool(row["taken_unknown"]), "date_upload": row["date_upload"],
        "last_update": row["last_update"], "license": row["license"],
        "visibility": {"public": row["is_public"], "friend": row["is_friend"], "family": row["is_family"]},
        "safety_level": row["safety_level"], "views": row["views"], "geo": geo,
        "tags": [t["tag"] for t in tags if not t["machine"]],
        "machine_tags": [t["tag"] for t in tags if t["machine"]],
        "albums": albums, "comments": comments, "notes": notes, "people": people,
        "original": {"format": row["original_format"], "width": row["o_width"], "height": row["o_height"],
                     "size": row["size"], "sha256": row["sha256"], "path": row["path"]},
        "flickr": raw,
    }


def write_sidecars(cat: Catalog, dest: Path) -> int:
    """Rewrite the sidecar of every item whose metadata changed since it was written."""
    written = 0
    while True:
        rows = cat.rows(f"SELECT * FROM photos WHERE sidecar_dirty = 1 AND {has_file()} ORDER BY id LIMIT 500")
        if not rows:
            return written
        for row in rows:
            target = sidecar_path(dest, row["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(json.dumps(sidecar(cat, row), ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, target)
        with cat.tx() as conn:
            conn.executemany("UPDATE photos SET sidecar_dirty = 0 WHERE id = ?", [(r["id"],) for r in rows])
        written += len(rows)


# --- views ------------------------------------------------------------------------------

def can_symlink(dest: Path) -> bool:
    probe = dest / ".exodus-link-probe"
    try:
        if probe.is_symlink():
            probe.unlink()
        os.symlink("catalog.db", probe)
        probe.unlink()
        return True
    except (OSError, NotImplementedError):
        return False


def desired_views(cat: Catalog) -> dict[str, list[tuple[str, str]]]:
    """{folder relative to DEST: [(entry name, DEST-relative target), ...] in order}."""
    views: dict[str, list[tuple[str, str]]] = {}
    album_dirs: dict[str, str] = {}
    for album in cat.rows("SELECT id, title FROM albums WHERE gone = 0 ORDER BY id"):
        folder = f"albums/{names.view_name(album['title'], album['id'])}"
        album_dirs[album["id"]] = folder
        members = cat.rows(f"SELECT p.path, ap.position FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
                           f"WHERE ap.album_id = ? AND {has_file('p')} "
                           f"ORDER BY ap.position", [album["id"]])
        width = max(4, len(str(len(members))))
        views[folder] = [(f"{m['position']:0{width}d}_{m['path'].rsplit('/', 1)[-1]}", m["path"]) for m in members]
    nodes = {n["id"]: n for n in cat.rows("SELECT id, parent_id, title FROM collections")}

    def folder_of(node_id: str) -> str:
        node = nodes[node_id]
        own = names.view_name(node["title"], node["id"].rsplit("-", 1)[-1])
        parent = node["parent_id"]
        return f"{folder_of(parent)}/{own}" if parent in nodes else f"collections/{own}"

    for node_id in nodes:
        folder = folder_of(node_id)
        entries = []
        for link in cat.rows("SELECT album_id FROM collection_albums WHERE collection_id = ? ORDER BY position",
                             [node_id]):
            if link["album_id"] in album_dirs:
                target = album_dirs[link["album_id"]]
                entries.append((target.rsplit("/", 1)[-1], target))
        views[folder] = entries
    return views


def build_views(cat: Catalog, dest: Path, links: bool | None = None) -> dict:
    """Make albums/ and collections/ match the catalog: add what is missing, remove only
    what exodus made (symlinks and manifests) and is no longer wanted."""
    if links is None:
        links = can_symlink(dest)
    views = desired_views(cat)
    made = removed = 0
    wanted_entries: set[Path] = set()
    for folder, entries in views.items():
        directory = dest / folder
        directory.mkdir(parents=True, exist_ok=True)
        up = "../" * folder.count("/") + "../"
        if links:
            for name, target in entries:
                path = directory / name
                wanted_entries.add(path)
                relative = up + target
                if path.is_symlink() and os.readlink(path) == relative:
                    continue
                if path.is_symlink():
                    path.unlink()
                os.symlink(relative, path)
                made += 1
        else:
            manifest = directory / MANIFEST
            wanted_entries.add(manifest)
            body = "".join(f"{name}\t{target}\n" for name, target in entries)
            if not manifest.exists() or manifest.read_text(encoding="utf-8") != body:
                manifest.write_text(body, encoding="utf-8")
                made += 1
    for top in ("albums", "collections"):
        root = dest / top
        if not root.exists():
            continue
        for path in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
            ours = path.is_symlink() or path.name == MANIFEST
            if ours and path not in wanted_entries:
                path.unlink()
                removed += 1
            elif path.is_dir() and not path.is_symlink() and not any(path.iterdir()) \
                    and str(path.relative_to(dest)) not in views:
                path.rmdir()
    return {"folders": len(views), "made": made, "removed": removed, "links": links}
