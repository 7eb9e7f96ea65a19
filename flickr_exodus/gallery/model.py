"""What the gallery's pages show, built from the catalog (through catalog/showcase.py) for
the items selected: every value here is a plain dict, list or string, so that a page's
inputs can be digested (pages.py renders only pages whose inputs changed). Descriptions,
comments and notes stay Flickr's HTML here: the templates show them through `|clean`.

Nothing of an item outside the selection enters the model: a subset's albums, tags, people
and collections are made of its own items alone, so no page can show another's.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..catalog import showcase
from ..catalog.canned import LICENCES
from ..flickr import ids

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_TAKEN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")
UNDATED = "undated"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
TITLE_MAX = 300
_PLAIN_TAG = re.compile("[a-z0-9]{1,40}")
# Collections deeper than this are left out of the collections page (their albums stay on the
# albums page): more levels than a reader can follow on one page (the headings stop at h6
# already), and few enough that branch() and the template's macro, which recurse once a
# level, stay far below Python's limit. The reference states no depth limit of Flickr's.
COLLECTION_DEPTH = 24


@dataclass
class Gallery:
    subset: str | None               # None: the owner's whole account; else what the subset holds
    owner: str
    items: dict[str, dict]           # by id, in stream order
    stream: list[str]                # ids by date taken, newest first
    months: list[dict]               # {key, label, year, ids}, newest first
    albums: dict[str, dict]          # by id, newest first
    collections: list[dict]          # the tree's roots
    tags: dict[str, dict]            # by slug, by name
    people: list[dict]               # by name
    originals: dict[str, str] = field(default_factory=dict)  # id -> the original's path in DEST


def build(cat, chosen: Callable[[dict], bool], subset: str | None = None, dest: Path | None = None) -> Gallery:
    """The model of every item `chosen` keeps, and of the albums, tags, people and
    collections they make (a subset reads its originals' headers in DEST for a location)."""
    account = cat.get("account") or {}
    rows = [row for row in showcase.rows(cat, "items") if ids.is_photo_id(row["id"]) and chosen(row)]
    rows.sort(key=lambda row: (row["date_taken"] or "", row["id"]), reverse=True)
    items = {row["id"]: _item(row, subset, dest) for row in rows}
    originals = {row["id"]: row["path"] for row in rows if row["saved"]}
    _extras(cat, items, subset)
    stream = list(items)
    albums = _albums(cat, items)
    tags = _tags(items, stream)
    return Gallery(subset=subset, owner=str(account.get("username") or account.get("nsid") or "the owner"),
                   items=items, stream=stream, months=_months(items, stream), albums=albums,
                   collections=_collections(cat, albums), tags=tags, people=_people(items),
                   originals=originals)


def title_of(value) -> str:
    """One line of text: control characters (a bell, a terminal's colours) become spaces."""
    text = " ".join(_CONTROL.sub(" ", str(value or "")).split())
    return text[:TITLE_MAX] or "Untitled"


def slug(tag: str) -> str:
    """A tag's page name: its ASCII letters and digits, and a digest of the whole when that
    is not all of it (東京, 'upcoming:event=1'), so that two tags never share a page. Only a
    tag of [a-z0-9] alone is its own name: every digested name holds a '-', so no tag's own
    name ('foo-201a6b3053' among them) can be another's digested one."""
    if _PLAIN_TAG.fullmatch(tag):
        return tag
    plain = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")[:40]
    digest = hashlib.sha1(tag.encode("utf-8")).hexdigest()[:10]
    return f"{plain}-{digest}" if plain else f"t-{digest}"


def _item(row: dict, subset: str | None, dest: Path | None = None) -> dict:
    taken = _TAKEN.match(row["date_taken"] or "")
    name = (row["path"] or "").rpartition("/")[2]
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kept = ids.video_format(extension) if row["media"] == "video" else ids.photo_format(extension)
    original = None
    if row["saved"] and kept:
        original = f"originals/{row['id']}.{kept}" if subset else row["path"]
    geo = _geo(row["latitude"], row["longitude"])
    # A subset is published: the location goes with it only where the owner made it public
    # on Flickr, and an original that would carry it (EXIF) stays out of it.
    hidden = bool(subset) and not location_public(row["geo_perms"])
    withheld = hidden and original is not None and (geo is not None or _gps_possible(row, dest))
    return {
        "id": row["id"], "media": "video" if row["media"] == "video" else "photo",
        "title": title_of(row["title"]), "description": _raw(row["description"]),
        "taken": _taken(taken, row["taken_granularity"]), "taken_unknown": bool(row["taken_unknown"]),
        "month": f"{taken.group(1)}-{taken.group(2)}" if taken and 1 <= int(taken.group(2)) <= 12 else UNDATED,
        "uploaded": _day(row["date_upload"]), "license": LICENCES.get(row["license"]),
        "visibility": _visibility(row), "views": row["views"] if isinstance(row["views"], int) else None,
        "geo": None if hidden else geo, "saved": bool(row["saved"]) and original is not None,
        "state": row["state"], "original": None if withheld else original, "withheld": withheld,
        "sha256": row["sha256"] if row["saved"] else None,
        "size": row["size"] if row["saved"] else None, "rotation": row["rotation"] or 0,
        "tags": [], "albums": [], "comments": [], "notes": [], "people": [], "versions": [],
    }


def _extras(cat, items: dict[str, dict], subset: str | None) -> None:
    for pid, tag, machine in showcase.tuples(cat, "tags"):
        if pid in items and tag:
            items[pid]["tags"].append({"tag": str(tag), "slug": slug(str(tag)), "machine": bool(machine)})
    for row in showcase.rows(cat, "comments"):
        if row["photo_id"] in items:
            items[row["photo_id"]]["comments"].append({
                "author": _name(row["realname"], row["authorname"], row["author"]),
                "date": _day(row["date_create"]), "text": _raw(row["text"])})
    for row in showcase.rows(cat, "notes"):
        if row["photo_id"] in items:
            box = [row[k] if isinstance(row[k], int) else 0 for k in ("x", "y", "w", "h")]
            items[row["photo_id"]]["notes"].append({"author": _name(None, row["authorname"], None), "box": box,
                                                    "text": _raw(row["text"])})
    for row in showcase.rows(cat, "people"):
        if row["photo_id"] in items:
            items[row["photo_id"]]["people"].append({"nsid": str(row["nsid"]),
                                                     "name": _name(row["realname"], row["username"], row["nsid"])})
    if subset:
        return  # a subset carries its items' current originals only
    for row in showcase.rows(cat, "versions"):
        if row["photo_id"] in items and row["path"]:
            items[row["photo_id"]]["versions"].append({"path": row["path"], "size": row["size"], "sha256": row["sha256"],
                                                       "replaced": (row["replaced_at"] or "")[:10]})


def _albums(cat, items: dict[str, dict]) -> dict[str, dict]:
    members: dict[str, list[str]] = {}
    for album_id, pid in showcase.tuples(cat, "album_members"):
        if pid in items:
            members.setdefault(album_id, []).append(pid)
    albums = {}
    for row in sorted(showcase.rows(cat, "albums"), key=lambda r: (r["date_create"] or 0, r["id"]), reverse=True):
        ids_in = members.get(row["id"])
        if not ids_in or not ids.is_album_id(row["id"]):
            continue  # an album with none of these items is not part of this gallery
        cover = row["primary_id"] if row["primary_id"] in ids_in else ids_in[0]
        albums[row["id"]] = {"id": row["id"], "title": title_of(row["title"]),
                             "description": _raw(row["description"]), "ids": ids_in, "cover": cover}
        for pid in ids_in:
            items[pid]["albums"].append({"id": row["id"], "title": albums[row["id"]]["title"]})
    return albums


def _collections(cat, albums: dict[str, dict]) -> list[dict]:
    members: dict[str, list[str]] = {}
    for collection_id, album_id in showcase.tuples(cat, "collection_members"):
        if album_id in albums:
            members.setdefault(collection_id, []).append(album_id)
    rows = [row for row in showcase.rows(cat, "collections") if ids.is_collection_id(row["id"])]
    nodes = {row["id"]: {"id": row["id"], "title": title_of(row["title"]),
                         "description": _raw(row["description"]), "albums": members.get(row["id"], []),
                         "children": []} for row in rows}
    roots = []
    for row in rows:
        parent = nodes.get(row["parent_id"]) if row["parent_id"] != row["id"] else None
        (parent["children"] if parent else roots).append(nodes[row["id"]])
    return _prune(roots)


def _prune(roots: list[dict]) -> list[dict]:
    """The roots, keeping a collection that holds one of the gallery's albums at any depth up
    to COLLECTION_DEPTH; walked without recursion (a cycle of parents is cut where it closes)."""
    seen = {node["id"] for node in roots}
    walked, stack = [], [(node, 1) for node in roots]
    while stack:
        node, depth = stack.pop()
        walked.append(node)
        below = [child for child in node["children"] if child["id"] not in seen] if depth < COLLECTION_DEPTH else []
        seen.update(child["id"] for child in below)
        node["children"] = below
        stack += [(child, depth + 1) for child in below]
    kept = set()
    for node in reversed(walked):  # children before their parents
        node["children"] = [child for child in node["children"] if id(child) in kept]
        if node["albums"] or node["children"]:
            kept.add(id(node))
    return [node for node in roots if id(node) in kept]


def _tags(items: dict[str, dict], stream: list[str]) -> dict[str, dict]:
    tags: dict[str, dict] = {}
    for pid in stream:
        for tag in items[pid]["tags"]:
            tags.setdefault(tag["slug"], {"slug": tag["slug"], "tag": tag["tag"], "ids": []})["ids"].append(pid)
    return dict(sorted(tags.items(), key=lambda kv: (kv[1]["tag"].casefold(), kv[0])))


def _people(items: dict[str, dict]) -> list[dict]:
    people: dict[str, dict] = {}
    for pid, item in items.items():
        for person in item["people"]:
            people.setdefault(person["nsid"], {"name": person["name"], "ids": []})["ids"].append(pid)
    return sorted(people.values(), key=lambda p: p["name"].casefold())


def _months(items: dict[str, dict], stream: list[str]) -> list[dict]:
    months: dict[str, dict] = {}
    for pid in stream:
        key = items[pid]["month"]
        if key not in months:
            label = "Date unknown" if key == UNDATED else f"{MONTHS[int(key[5:]) - 1]} {key[:4]}"
            months[key] = {"key": key, "label": label, "year": key[:4] if key != UNDATED else "", "ids": []}
        months[key]["ids"].append(pid)
    return list(months.values())


def _raw(text) -> str:
    """Flickr's HTML as it came: the pages pass it through sanitize.clean when they show it
    (only then: a rerun that renders nothing sanitises nothing)."""
    return str(text or "")


def _name(realname, username, fallback) -> str:
    for value in (realname, username, fallback):
        text = title_of(value) if value else ""
        if text and text != "Untitled":
            return text
    return "someone"


def _day(epoch) -> str | None:
    if epoch is None:
        return None
    try:
        return time.strftime("%Y-%m-%d", time.gmtime(int(epoch)))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _taken(match: re.Match | None, granularity) -> str | None:
    if not match:
        return None
    year, month, day, hour, minute = match.group(1, 2, 3, 4, 5)
    if granularity == 6:
        return year
    if granularity == 8:
        return f"circa {year}"
    if granularity == 4:
        return f"{year}-{month}"
    return f"{year}-{month}-{day}" + (f" {hour}:{minute}" if hour else "")


def is_public(row: dict) -> bool:
    """Flickr's ispublic is 1 or 0: anything else (2, '1', NULL) is not public."""
    return row["is_public"] == 1 and type(row["is_public"]) is int


def location_public(geo_perms) -> bool:
    """geo_perms as getInfo sent it ({"ispublic": 1, "iscontact": 0, ...}, JSON): anyone may
    see the location. Absent (no getInfo yet, no location) it is not: Flickr sends geoperms
    with every located photo, and its default for who sees a location is the owner's setting,
    which the backup does not know."""
    try:
        perms = json.loads(geo_perms) if isinstance(geo_perms, str) else None
    except ValueError:
        return False
    return isinstance(perms, dict) and perms.get("ispublic") == 1 and type(perms.get("ispublic")) is int


def _gps_possible(row: dict, dest: Path | None) -> bool:
    """Whether the original may carry a location of its own (EXIF GPS) though Flickr has
    none: a photo's header says (read only); a video's metadata is not read here, so a video
    with no location on Flickr is taken at its word."""
    if row["media"] == "video":
        return False
    from .exif import has_gps  # here: a gallery without subsets never reads headers for it

    return dest is None or has_gps(dest, row["path"])


def _visibility(row: dict) -> str:
    if is_public(row):
        return "public"
    seen_by = [who for who, flag in (("friends", row["is_friend"]), ("family", row["is_family"])) if flag]
    return " and ".join(seen_by) + " only" if seen_by else "private"


def _geo(latitude, longitude) -> dict | None:
    if latitude is None or longitude is None:  # most items: no exception raised for them
        return None
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}",
            "osm": f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=15/{lat:.6f}/{lon:.6f}"}
