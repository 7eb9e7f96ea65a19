"""The account export ("Request my Flickr data") in Flickr's layout (reference §9): one
account-data zip of JSON files (`photo_{id}.json`, `albums.json`, ...) and media zips
`data-download-N.zip` of `{slug}_{id}_o.{ext}` files, about 500 each, for the account as
it is now. Each defect users met in real exports is a switch (DEFECTS).
"""

from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path

from .render import LICENSES
from .state import Account, Item

DEFECTS = {
    "missing_media": "some media files are not in any zip",
    "collapsed_privacy": "friends/family visibility written as plain 'private'",
    "empty_photo_albums": "photo_*.json lists no albums and no people",
    "duplicate_slugs": "many media files share one slug",
    "digit_titles": "media names start with digits that are not the item's id",
}
MEDIA_PER_ZIP = 500
MISSING_EVERY = 9  # with missing_media: every 9th item's file is left out
_LICENSE_NAMES = {i: name for i, name, _ in LICENSES}
_SAFETY = {0: "safe", 1: "moderate", 2: "restricted"}
_PERMISSION = {0: "nobody", 1: "friends and family", 2: "your contacts", 3: "any flickr member"}


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def _slug(title: str) -> str:
    """As Flickr's export names media: lower case, hyphens, ASCII letters and digits."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def privacy(item: Item, collapsed: bool) -> str:
    if item.ispublic:
        return "public"
    if collapsed or not (item.isfriend or item.isfamily):
        return "private"
    if item.isfriend and item.isfamily:
        return "friends & family"
    return "friends" if item.isfriend else "family"


def photo_json(account: Account, item: Item, base: str, defects: set[str]) -> dict:
    owner = account.users[item.owner]
    alias = owner.path_alias or owner.nsid
    empty = "empty_photo_albums" in defects
    geo = item.geo
    ext = item.video_format if item.is_video else item.original_format
    return {
        "id": item.id, "name": item.title, "description": item.description,
        "count_views": str(item.views), "count_faves": str(item.count_faves),
        "count_comments": str(len(item.comments)), "date_taken": item.date_taken,
        "count_tags": str(len(item.tags)), "count_notes": str(len(item.notes)),
        "date_imported": _when(item.date_upload),
        "photopage": f"{base}/photos/{alias}/{item.id}/",
        "original": f"{base}/{item.server}/{item.id}_{item.originalsecret}_o.{ext}",
        "license": _LICENSE_NAMES.get(item.license),
        "geo": [] if geo is None else {"latitude": str(round(geo.latitude * 1e6)),
                                       "longitude": str(round(geo.longitude * 1e6)), "accuracy": str(geo.accuracy)},
        "groups": [{"name": account.groups[g].name, "url": f"{base}/groups/{g}/"} for g in item.pools],
        "albums": [] if empty else [{"id": a.id, "title": a.title} for a in account.albums_of(item.id)],
        "tags": [{"tag": t.raw, "user": f"{base}/photos/{t.author}/", "date_create": _when(item.date_upload)}
                 for t in item.tags],
        "people": [] if empty else [{"person": account.users[p.nsid].username, "nsid": p.nsid} for p in item.people],
        "notes": [{"id": n.id, "text": n.text, "x": n.x, "y": n.y, "w": n.w, "h": n.h} for n in item.notes],
        "privacy": privacy(item, "collapsed_privacy" in defects),
        "comment_permissions": _PERMISSION.get(item.perm_comment, "any flickr member"),
        "tagging_permissions": _PERMISSION.get(item.perm_addmeta, "your contacts"),
        "safety": _SAFETY.get(item.safety_level, "safe"),
        "comments": [{"id": c.id, "date": _when(c.date), "user": f"{base}/photos/{c.author}/", "comment": c.text}
                     for c in item.comments],
        "rotation": item.rotation,
    }


def media_name(item: Item, defects: set[str], decoy: str) -> str:
    ext = item.video_format if item.is_video else item.original_format
    if "digit_titles" in defects:
        slug = decoy  # another item's id: only the number right before _o is this one's
    elif "duplicate_slugs" in defects:
        slug = "img"
    else:
        slug = _slug(item.title)
    return f"{slug}_{item.id}_o.{ext}" if slug else f"{item.id}_o.{ext}"


def write_export(account: Account, folder: Path, base: str = "https://www.flickr.com",
                 defects: set[str] | frozenset = frozenset(), per_zip: int = MEDIA_PER_ZIP) -> dict:
    """Write the export of the account as it is now into `folder`; returns what was written."""
    unknown = set(defects) - set(DEFECTS)
    if unknown:
        raise ValueError(f"unknown export defects {sorted(unknown)}; known: {sorted(DEFECTS)}")
    folder.mkdir(parents=True, exist_ok=True)
    owner = account.owner
    items = sorted((i for i in account.items.values() if not i.deleted), key=lambda i: i.id)
    written = {"account": [], "media": [], "missing": []}
    meta_name = f"{owner.numeric_id}_{account.seed:08x}_part1.zip"
    with zipfile.ZipFile(folder / meta_name, "w", zipfile.ZIP_DEFLATED) as meta:
        for item in items:
            meta.writestr(f"photo_{item.id}.json", json.dumps(photo_json(account, item, base, set(defects)),
                                                             ensure_ascii=False, indent=1))
        alias = owner.path_alias or owner.nsid
        albums = [{"photo_count": str(len(a.photo_ids)), "id": a.id, "url": f"{base}/photos/{alias}/albums/{a.id}",
                   "title": a.title, "description": a.description, "view_count": str(a.count_views),
                   "created": str(a.date_create), "last_updated": str(a.date_update),
                   "cover_photo": f"{base}/photos/{alias}/{a.primary}", "photos": list(a.photo_ids)}
                  for a in account.albums.values()]
        meta.writestr("albums.json", json.dumps({"albums": albums}, ensure_ascii=False, indent=1))
        meta.writestr("account_profile.json", json.dumps({
            "real_name": owner.realname, "screen_name": owner.username, "nsid": owner.nsid,
            "join_date": _when(min((i.date_upload for i in items), default=0)),
            "description": owner.description}, ensure_ascii=False, indent=1))
        meta.writestr("faves_part001.json", json.dumps({"faves": [
            {"photo_id": f, "url": f"{base}/photos/{account.foreign[f].owner}/{f}/"} for f in account.favorites]},
            indent=1))
        meta.writestr("sets_comments_part001.json", json.dumps({"comments": [
            {"photoset_id": a.id, "id": c.id, "date": _when(c.date), "comment": c.text}
            for a in account.albums.values() for c in a.comments]}, ensure_ascii=False, indent=1))
    written["account"].append(meta_name)
    present = [i for n, i in enumerate(items, 1) if not ("missing_media" in defects and n % MISSING_EVERY == 0)]
    written["missing"] = [i.id for i in items if i not in present]
    for number, start in enumerate(range(0, len(present), per_zip), 1):
        name = f"data-download-{number}.zip"
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_STORED, allowZip64=True) as media:
            chunk = present[start:start + per_zip]
            for n, item in enumerate(chunk):
                decoy = chunk[(n + 1) % len(chunk)].id if len(chunk) > 1 else "2019"
                with media.open(media_name(item, set(defects), decoy), "w", force_zip64=True) as out:
                    for block in item.original_blob(account.seed).read():
                        out.write(block)
        written["media"].append(name)
    written["items"] = len(items)
    return written
