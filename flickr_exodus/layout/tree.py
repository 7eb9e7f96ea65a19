"""The folder tree around the files: a JSON sidecar beside each file (and an XMP one with
--xmp), albums and collections as views (relative symlinks in album order, or a
manifest.txt where the filesystem cannot link), and links.csv. Never a second copy of a
photo."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from pathlib import Path

from ..catalog import Catalog, Item, State
from ..catalog.items import SIDECAR_DIRTY, WITH_FILE
from ..flickr import ids
from . import names, paths, xmp
from .writer import replace_text, replacing

log = logging.getLogger("exodus.backup")

SIDECAR_VERSION = 2
MANIFEST = "manifest.txt"


def sidecar_path(dest: Path, relative: str) -> Path:
    return paths.sibling(dest, relative, ".json", mkdir=False)


def sidecar(cat: Catalog, row: Item) -> dict:
    """Everything the catalog knows of one item, in one document."""
    pid = row.id
    raw = json.loads(row.raw) if row.raw else {}
    extras = cat.item_extras(pid)
    albums, comments, tags, notes = extras["albums"], extras["comments"], extras["tags"], extras["notes"]
    people, collections, groups, versions = (extras["people"], extras["collections"], extras["groups"],
                                             extras["versions"])
    geo = None
    if row["latitude"] is not None:
        geo = {"latitude": row["latitude"], "longitude": row["longitude"], "accuracy": row["accuracy"],
               "places": json.loads(row["places"]) if row["places"] else None,
               "permissions": json.loads(row["geo_perms"]) if row["geo_perms"] else None}
    document = {
        "exodus_sidecar": SIDECAR_VERSION,
        "id": pid, "media": row["media"], "title": row["title"], "description": row["description"],
        "date_taken": row["date_taken"], "date_taken_granularity": row["taken_granularity"],
        "date_taken_unknown": bool(row["taken_unknown"]), "date_upload": row["date_upload"],
        "last_update": row["last_update"], "license": row["license"],
        "visibility": {"public": row["is_public"], "friend": row["is_friend"], "family": row["is_family"]},
        "permissions": {"comment": row["perm_comment"], "add_meta": row["perm_addmeta"]},
        "safety_level": row["safety_level"], "rotation": row["rotation"], "views": row["views"],
        "duration": row["duration"], "geo": geo, "url": row["photopage"] or photo_page(raw, pid),
        "tags": [t["tag"] for t in tags if not t["machine"]],
        "machine_tags": [t["tag"] for t in tags if t["machine"]],
        "tags_raw": raw_tags(row),
        "albums": albums, "collections": collections, "groups": groups, "comments": comments,
        "notes": notes, "people": people,
        "state": row["state"], "gone_at": row["gone_at"], "deep": bool(row["deep_done"]),
        "original": {"format": row["original_format"], "width": row["o_width"], "height": row["o_height"],
                     "size": row["size"], "sha256": row["sha256"], "path": row["path"],
                     "kept_instead": row["kept_size"] if row["state"] == State.ORIGINAL_UNAVAILABLE else None},
        "earlier_versions": versions,
        "flickr": raw,
        "flickr_info": json.loads(row["info_raw"]) if row["info_raw"] else None,
    }
    # Sidecars travel with every push. The secrets in an item's image URLs open it to anyone
    # who holds them, so those of items not public stay in the catalog only.
    return document if row["is_public"] == 1 else _secretless(document)


SECRET_KEYS = {"secret", "originalsecret", "original_secret"}


def _secretless(value):
    """The document without Flickr's URL secrets and image URLs (keys url_*, source)."""
    if isinstance(value, dict):
        return {k: _secretless(v) for k, v in value.items()
                if k not in SECRET_KEYS and not k.startswith("url_") and k != "source"}
    if isinstance(value, list):
        return [_secretless(v) for v in value]
    return value


def raw_tags(row: dict) -> list[dict] | None:
    """Tags as the owner typed them, from getInfo (the listing has the clean forms only)."""
    if not row["info_raw"]:
        return None
    info = json.loads(row["info_raw"])
    return [{"raw": t.get("raw"), "clean": t.get("_content"), "machine": str(t.get("machine_tag")) in ("1", "True")}
            for t in ((info.get("tags") or {}).get("tag") or []) if isinstance(t, dict)]


def photo_page(raw: dict, item_id: str) -> str | None:
    """The item's page on Flickr, from what the listing said about its owner."""
    who = owner_in_url(raw.get("pathalias") or raw.get("path_alias"), raw.get("owner"))
    return f"https://www.flickr.com/photos/{who}/{item_id}/" if who and ids.is_photo_id(item_id) else None


def owner_in_url(alias, nsid) -> str | None:
    """Who, in a flickr.com URL exodus writes: the path alias or the NSID, if Flickr's shape."""
    if ids.is_path_alias(alias):
        return alias
    return nsid if ids.is_nsid(nsid) else None


def write_sidecars(cat: Catalog, dest: Path, xmp_too: bool = False) -> int:
    """Rewrite the sidecars of every item whose metadata changed since they were written
    (and, with xmp_too, write the XMP sidecars that are missing)."""
    written = 0
    dirty: list[str] = []
    for row in cat.items(WITH_FILE if xmp_too else SIDECAR_DIRTY & WITH_FILE):
        try:
            if _write_sidecar(cat, dest, row, xmp_too):
                written += 1
                dirty.append(row.id)
        except paths.OutsideDest as error:  # a catalog from before ids were checked, a planted link
            log.warning("%s: no sidecars: %s", row.id, error)
        if len(dirty) >= 500:  # one commit per batch, as many as a kill may make write again
            cat.mark_sidecars_written(dirty)
            dirty = []
    cat.mark_sidecars_written(dirty)
    return written


def _write_sidecar(cat: Catalog, dest: Path, row: Item, xmp_too: bool) -> bool:
    """The JSON sidecar of one item if its metadata changed, its XMP one if asked for and
    missing; whether anything was written."""
    stale_xmp = xmp_too and not paths.sibling(dest, row["path"], ".xmp", mkdir=False).exists()
    if not row["sidecar_dirty"] and not stale_xmp:
        return False
    document = sidecar(cat, row)
    if row["sidecar_dirty"]:
        replace_text(dest, row["path"] + ".json", json.dumps(document, ensure_ascii=False, indent=1))
    if xmp_too:
        replace_text(dest, row["path"] + ".xmp", xmp.render(document))
    return True


# --- views ------------------------------------------------------------------------------

def can_symlink(dest: Path) -> bool:
    probe = paths.inside(dest, ".exodus-link-probe", link_ok=True)
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
    for album in cat.albums():
        if not ids.is_album_id(album["id"]):
            log.warning("album %s: not one of Flickr's album ids; no view", ids.shown(album["id"]))
            continue
        folder = f"albums/{names.view_name(album['title'], album['id'])}"
        album_dirs[album["id"]] = folder
        members = cat.album_files(album["id"])
        width = max(4, len(str(len(members))))
        views[folder] = [(f"{m['position']:0{width}d}_{m['path'].rsplit('/', 1)[-1]}", m["path"]) for m in members]
    nodes = {n["id"]: n for n in cat.collections()
             if ids.is_collection_id(n["id"])}

    def folder_of(node_id: str) -> str:
        node = nodes[node_id]
        own = names.view_name(node["title"], node["id"].rsplit("-", 1)[-1])
        parent = node["parent_id"]
        return f"{folder_of(parent)}/{own}" if parent in nodes else f"collections/{own}"

    for node_id in nodes:
        folder = folder_of(node_id)
        entries = []
        for album_id in cat.collection_albums(node_id):
            if album_id in album_dirs:
                target = album_dirs[album_id]
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
    refused: list[str] = []
    for folder, entries in views.items():
        try:
            paths.inside(dest, f"{folder}/{MANIFEST}", link_ok=True)
            paths.link_text(dest, folder, MANIFEST)
        except paths.OutsideDest as error:
            refused.append(str(error))
            continue
        if links:
            for name, target in entries:
                try:
                    path = paths.inside(dest, f"{folder}/{name}", mkdir=False, link_ok=True)
                    relative = paths.link_text(dest, folder, target)
                except paths.OutsideDest as error:
                    refused.append(str(error))
                    continue
                wanted_entries.add(path)
                if path.is_symlink() and os.readlink(path) == relative:
                    continue
                if path.is_symlink():
                    path.unlink()
                os.symlink(relative, path)
                made += 1
        else:
            manifest = paths.inside(dest, f"{folder}/{MANIFEST}")
            wanted_entries.add(manifest)
            body = "".join(f"{name}\t{target}\n" for name, target in entries)
            if not manifest.exists() or manifest.read_text(encoding="utf-8") != body:
                manifest.write_text(body, encoding="utf-8")
                made += 1
    for error in refused[:20]:
        log.warning("views: %s", error)
    for top in ("albums", "collections"):
        root = dest / top
        try:
            paths.link_text(dest, top, MANIFEST)  # a real folder of DEST, not a link elsewhere
        except paths.OutsideDest:
            continue
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
    return {"folders": len(views), "made": made, "removed": removed, "links": links, "refused": len(refused)}


# --- links.csv ----------------------------------------------------------------------------

LINKS = "links.csv"
_BASE58 = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
# Sizes that share the item's `secret` (reference §5.1): suffix -> Flickr's size code.
# The parts of a static URL exodus builds itself, as Flickr shapes them.
_SERVER = re.compile(r"[0-9]{1,10}")
_SECRET = re.compile(r"[0-9a-f]{1,40}")
_PLAIN = re.compile(r"[\x21-\x7e]{1,2048}")  # one printable URL: no spaces, controls, newlines
SHARED_SECRET_SIZES = {"s": "sq", "q": "q", "t": "t", "m": "s", "n": "n", "w": "w", "": "m",
                       "z": "z", "c": "c", "b": "l"}


def short_url(item_id: str) -> str:
    """flic.kr/p/ + the id in Flickr's base58."""
    n, out = int(item_id), ""
    while n:
        n, r = divmod(n, 58)
        out = _BASE58[r] + out
    return f"https://flic.kr/p/{out}"


def item_urls(raw: dict, item_id: str, who: str, static: bool = True) -> list[tuple[str, str]]:
    """(size, URL) for every Flickr URL of one item a page might embed or link to.
    farmN.staticflickr.com URLs have the same paths as live.staticflickr.com ones.
    static=False: the page and short links only, which Flickr guards by who signs in;
    a static URL carries the photo's secret and opens it for anyone who holds it."""
    urls = [("page", f"https://www.flickr.com/photos/{who}/{item_id}/"), ("short", short_url(item_id))]
    if not static:
        return urls
    server, secret = raw.get("server"), raw.get("secret")
    if _SERVER.fullmatch(str(server or "")) and _SECRET.fullmatch(str(secret or "")):
        for suffix, code in SHARED_SECRET_SIZES.items():
            tail = f"_{suffix}" if suffix else ""
            urls.append((code, f"https://live.staticflickr.com/{server}/{item_id}_{secret}{tail}.jpg"))
    known = {url for _, url in urls}
    for key, value in raw.items():  # url_o, url_k, ... as Flickr listed them
        if key.startswith("url_") and isinstance(value, str) and value not in known \
                and value.startswith(("https://", "http://")) and _PLAIN.fullmatch(value):
            urls.append((key[4:], value))
    return urls


def write_links(cat: Catalog, dest: Path, account: dict, private_urls: bool = False) -> int:
    """DEST/links.csv: every Flickr URL of each saved item and album -> its local path,
    for rewriting a blog's embeds before the remote copies go. links.csv is pushed with
    the backup, so the static URLs of items that are not public (private, friends, family:
    anyone holding one sees the photo) are left out unless private_urls; the catalog keeps
    them all."""
    who = owner_in_url(account.get("path_alias"), account.get("nsid")) or "me"
    rows = 0
    with replacing(dest, LINKS) as handle:
        out = csv.writer(handle)
        out.writerow(["kind", "id", "size", "flickr_url", "local_path"])
        for item in cat.items(WITH_FILE, batch=1000):
            if not ids.is_photo_id(item.id):
                continue  # never in a catalog exodus wrote; never a link from links.csv
            raw = json.loads(item.raw) if item.raw else {}
            static = private_urls or item.is_public == 1  # unknown counts as private
            for size, url in item_urls(raw, item.id, who, static):
                out.writerow(["item", item.id, size, url, item.path])
                rows += 1
        for album in cat.albums():
            if not ids.is_album_id(album["id"]):
                continue
            folder = f"albums/{names.view_name(album['title'], album['id'])}"
            for url in (f"https://www.flickr.com/photos/{who}/albums/{album['id']}",
                        f"https://www.flickr.com/photos/{who}/sets/{album['id']}/"):
                out.writerow(["album", album["id"], "", url, folder])
                rows += 1
    return rows
