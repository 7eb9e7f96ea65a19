"""Tolerant reading of Flickr's JSON: numbers come as strings or ints, text hides in
{"_content": ...}, fields go missing (reference §2). Everything here takes the dict Flickr
sent and returns plain Python values; nothing raises on an odd shape.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from . import ids

Malformed = ids.Malformed  # what callers of the parsers catch


def text(value) -> str:
    """'x', {'_content': 'x'}, 5, None -> 'x', 'x', '5', ''."""
    if isinstance(value, dict):
        value = value.get("_content", "")
    if value is None:
        return ""
    return str(value)


# SQLite's INTEGER: a larger number would not fit a column, and no Flickr count comes near.
NUM_LIMIT = 2 ** 63 - 1


def num(value, default: int | None = None) -> int | None:
    """5, '5', '5.0', {'_content': '5'} -> 5; 'inf', 'nan', '1e400', 10**30, '' -> default."""
    if isinstance(value, dict):
        value = value.get("_content")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -NUM_LIMIT <= value <= NUM_LIMIT else default
    try:
        number = float(str(value).strip()[:400])
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number) or abs(number) > NUM_LIMIT:
        return default
    return int(number)


def real(value, default: float | None = None) -> float | None:
    """A finite float, else default ('inf', 'nan', '1e400' and 10**400 included)."""
    if isinstance(value, dict):
        value = value.get("_content")
    if isinstance(value, str):
        value = value.strip()[:400]
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


def as_list(value) -> list:
    """A repeated element: a list, a single dict (XML-to-JSON of one child), or absent."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


_TAKEN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def date_parts(taken: str) -> tuple[str, str, str] | None:
    """'2019-07-04 12:00:00' -> ('2019', '07', '04'); None when not a real date."""
    match = _TAKEN.match(taken or "")
    if not match or match.group(1) == "0000" or match.group(2) == "00" or match.group(3) == "00":
        return None
    return match.group(1), match.group(2), match.group(3)


@dataclass
class Page:
    page: int
    pages: int
    total: int
    rows: list[dict]


def page(data: dict, root: str, row: str, key: str = "id") -> Page:
    """A paged listing: photos/photo, photoset/photo, photosets/photoset, contacts/contact
    (key nsid), ... Records without their key are left out."""
    body = data.get(root) or {}
    rows = [r for r in as_list(body.get(row)) if isinstance(r, dict) and r.get(key) is not None]
    number = num(body.get("page"), 1) or 1
    pages = num(body.get("pages"), None)
    total = num(body.get("total"), None)
    if total is None:
        total = len(rows)
    if pages is None:
        perpage = num(body.get("perpage") or body.get("per_page"), len(rows) or 1) or 1
        pages = -(-total // perpage) if total else 1
    return Page(number, max(pages, 1) if total else max(pages, 0), total, rows)


@dataclass
class Listed:
    """One photo or video as a listing with extras describes it."""

    id: str
    media: str
    title: str
    description: str
    date_taken: str | None
    taken_granularity: int | None
    taken_unknown: bool
    date_upload: int | None
    last_update: int | None
    license: int | None
    is_public: int | None
    is_friend: int | None
    is_family: int | None
    latitude: float | None
    longitude: float | None
    accuracy: int | None
    original_format: str | None
    original_secret: str | None
    secret: str
    server: str
    url_o: str | None
    o_width: int | None
    o_height: int | None
    tags: list[str] = field(default_factory=list)
    machine_tags: list[str] = field(default_factory=list)
    count_comments: int | None = None
    safety_level: int | None = None
    views: int | None = None
    largest_url: str | None = None  # the biggest size the listing offers (free accounts)
    largest_width: int | None = None
    largest_height: int | None = None
    largest_code: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "Listed":
        lat, lon = real(d.get("latitude")), real(d.get("longitude"))
        geotagged = bool(lat or lon) or bool(num(d.get("accuracy"), 0))
        item_id = ids.checked(d.get("id"), ids.is_photo_id, "the item id")
        largest = _largest(d)
        return cls(
            id=item_id,
            media="video" if text(d.get("media")) == "video" else "photo",
            title=text(d.get("title")),
            description=text(d.get("description")),
            date_taken=text(d.get("datetaken")) or None,
            taken_granularity=num(d.get("datetakengranularity")),
            taken_unknown=num(d.get("datetakenunknown"), 0) == 1,
            date_upload=num(d.get("dateupload")),
            last_update=num(d.get("lastupdate")),
            license=num(d.get("license")),
            is_public=num(d.get("ispublic")),
            is_friend=num(d.get("isfriend")),
            is_family=num(d.get("isfamily")),
            latitude=lat if geotagged else None,
            longitude=lon if geotagged else None,
            accuracy=num(d.get("accuracy")) if geotagged else None,
            # As Flickr said it (bounded): the download refuses what ids.photo_format does not keep.
            original_format=(text(d.get("originalformat"))[:64] or None),
            original_secret=(text(d.get("originalsecret")) or None),
            secret=text(d.get("secret")),
            server=text(d.get("server")),
            url_o=text(d.get("url_o")) or None,
            o_width=num(d.get("o_width"), num(d.get("width_o"))),
            o_height=num(d.get("o_height"), num(d.get("height_o"))),
            tags=text(d.get("tags")).split(),
            machine_tags=text(d.get("machine_tags")).split(),
            count_comments=num(d.get("count_comments")),
            safety_level=num(d.get("safety_level")),
            views=num(d.get("views"), num(d.get("count_views"))),
            largest_url=largest[0], largest_width=largest[1], largest_height=largest[2],
            largest_code=largest[3],
        )


# Listing size codes, smallest to largest (url_<code>).
SIZE_CODES = ("sq", "t", "q", "s", "n", "w", "m", "z", "c", "l", "h", "k", "3k", "4k", "f", "5k", "6k", "o")


def _largest(d: dict) -> tuple[str | None, int | None, int | None, str | None]:
    for code in reversed(SIZE_CODES):
        url = text(d.get(f"url_{code}"))
        if url:
            return url, num(d.get(f"width_{code}")), num(d.get(f"height_{code}")), code
    return None, None, None, None


@dataclass
class Size:
    label: str
    width: int | None
    height: int | None
    source: str
    media: str


def sizes(data: dict) -> list[Size]:
    body = data.get("sizes") or {}
    out = []
    for s in as_list(body.get("size")):
        if isinstance(s, dict) and s.get("source"):
            out.append(Size(text(s.get("label")), num(s.get("width")), num(s.get("height")),
                            text(s.get("source")), text(s.get("media")) or "photo"))
    return out


def video_original(data: dict) -> Size | None:
    """getSizes' "Video Original" (owner only), the only way to a video's true original."""
    return next((s for s in sizes(data) if s.label == "Video Original"), None)


def comments(data: dict) -> list[dict]:
    body = data.get("comments") or {}
    out = []
    for c in as_list(body.get("comment")):
        if isinstance(c, dict) and c.get("id"):
            out.append({"id": str(c["id"]), "author": text(c.get("author")),
                        "authorname": text(c.get("authorname")),
                        "realname": text(c.get("realname")),
                        "date_create": num(c.get("datecreate")),
                        "permalink": text(c.get("permalink")), "text": text(c.get("_content")),
                        "raw": c})
    return out


def album(d: dict) -> dict:
    """A photosets.getList entry; Malformed when its id is not an album's."""
    album_id = ids.checked(d.get("id"), ids.is_album_id, "the album id")
    photos, videos = num(d.get("photos"), 0) or 0, num(d.get("videos"), 0) or 0
    primary = text(d.get("primary"))
    return {"id": album_id, "title": text(d.get("title")), "description": text(d.get("description")),
            "primary_id": primary if ids.is_photo_id(primary) else None, "count_photos": photos,
            "count_videos": videos, "count_comments": num(d.get("count_comments")),
            "date_create": num(d.get("date_create")), "date_update": num(d.get("date_update")),
            "count_views": num(d.get("count_views"))}


@dataclass
class CollectionNode:
    id: str
    parent_id: str | None
    position: int
    title: str
    description: str
    album_ids: list[str]
    raw: dict


def collection_tree(data: dict, skipped: list[str] | None = None) -> list[CollectionNode]:
    """collections.getTree, flattened parents first; nesting is any depth. A node whose id
    is not a collection's is left out with everything under it, an album id that is not
    an album's is left out of its node; each is named in `skipped`."""
    out: list[CollectionNode] = []
    skipped = [] if skipped is None else skipped

    def walk(nodes, parent):
        for position, node in enumerate(as_list(nodes)):
            if not isinstance(node, dict) or not node.get("id"):
                continue
            if not ids.is_collection_id(node["id"]):
                skipped.append(f"collection {ids.shown(node['id'])}: not one of Flickr's collection ids; "
                               "left out with everything in it")
                continue
            sets = []
            for s in as_list(node.get("set")):
                if isinstance(s, dict) and s.get("id"):
                    if ids.is_album_id(s["id"]):
                        sets.append(str(s["id"]))
                    else:
                        skipped.append(f"collection {node['id']}: album id {ids.shown(s['id'])} is not "
                                       "one of Flickr's; left out")
            shallow = {k: v for k, v in node.items() if k not in ("collection", "set")}
            out.append(CollectionNode(str(node["id"]), parent, position, text(node.get("title")),
                                      text(node.get("description")), sets,
                                      {**shallow, "set": as_list(node.get("set"))}))
            walk(node.get("collection"), str(node["id"]))

    walk((data.get("collections") or {}).get("collection"), None)
    return out


def person(data: dict) -> dict:
    p = data.get("person") or {}
    photos = p.get("photos") or {}
    return {"nsid": text(p.get("nsid") or p.get("id")), "username": text(p.get("username")),
            "realname": text(p.get("realname")), "count": num(photos.get("count")),
            "path_alias": text(p.get("path_alias")) or None, "ispro": num(p.get("ispro"))}


def login(data: dict) -> dict:
    """test.login / auth.oauth.checkToken: who the token belongs to, and its perms."""
    user = data.get("user") or (data.get("oauth") or {}).get("user") or {}
    perms = text((data.get("oauth") or {}).get("perms")) or None
    return {"nsid": text(user.get("id") or user.get("nsid")),
            "username": text(user.get("username")), "perms": perms}


def info(data: dict) -> dict:
    """photos.getInfo: what the listing cannot say (notes, people flag, permissions, geo
    permissions and places, rotation, URLs, video duration)."""
    p = data.get("photo") or {}
    dates = p.get("dates") or {}
    perms = p.get("permissions") or {}
    geoperms = p.get("geoperms") or {}
    location = p.get("location") or {}
    places = {k: text((location.get(k) or {}).get("_content") if isinstance(location.get(k), dict)
                      else location.get(k))
              for k in ("neighbourhood", "locality", "county", "region", "country")}
    notes = []
    for n in as_list((p.get("notes") or {}).get("note")):
        if isinstance(n, dict) and n.get("id"):
            notes.append({"id": str(n["id"]), "author": text(n.get("author")),
                          "authorname": text(n.get("authorname")), "x": num(n.get("x")),
                          "y": num(n.get("y")), "w": num(n.get("w")), "h": num(n.get("h")),
                          "text": text(n.get("_content")), "raw": n})
    urls = [{"type": text(u.get("type")), "url": text(u.get("_content"))}
            for u in as_list((p.get("urls") or {}).get("url")) if isinstance(u, dict)]
    video = p.get("video") or {}
    return {
        "last_update": num(dates.get("lastupdate")),
        "taken_granularity": num(dates.get("takengranularity")),
        "rotation": num(p.get("rotation")),
        "safety_level": num(p.get("safety_level")),
        "perm_comment": num(perms.get("permcomment")),
        "perm_addmeta": num(perms.get("permaddmeta")),
        "geo_perms": {k: num(v) for k, v in geoperms.items()} or None,
        "places": {k: v for k, v in places.items() if v} or None,
        "has_people": num((p.get("people") or {}).get("haspeople"), 0) or 0,
        "photopage": next((u["url"] for u in urls if u["type"] == "photopage"), None),
        "duration": num(video.get("duration")) if video else None,
        "notes": notes,
    }


def people(data: dict) -> list[dict]:
    """photos.people.getList."""
    body = data.get("people") or {}
    out = []
    for p in as_list(body.get("person")):
        if isinstance(p, dict) and p.get("nsid"):
            box = [num(p.get(k)) for k in ("x", "y", "w", "h")]
            out.append({"nsid": text(p["nsid"]), "username": text(p.get("username")),
                        "realname": text(p.get("realname")), "added_by": text(p.get("added_by")),
                        "box": box if None not in box else None, "raw": p})
    return out


def best_video_rendition(data: dict) -> Size | None:
    """The largest video rendition below the original (kept when the original is
    withheld). Renditions often come without sizes: the known labels rank them."""
    rank = {"iphone_wifi": 1, "360p": 2, "mobile_mp4": 2, "site_mp4": 3, "700": 4, "720p": 5,
            "hd_mp4": 5, "1080p": 6, "appletv": 6}
    videos = [s for s in sizes(data) if s.media == "video" and s.label != "Video Original"
              and "/play/" in s.source]
    if not videos:
        return None
    return max(videos, key=lambda s: (s.height or 0, rank.get(s.label, 0)))


def contact(c: dict) -> dict:
    """One contact of contacts.getList (a record with an nsid)."""
    return {"nsid": text(c["nsid"]), "username": text(c.get("username")),
            "realname": text(c.get("realname")), "friend": num(c.get("friend"), 0),
            "family": num(c.get("family"), 0), "raw": c}


def groups(data: dict) -> list[dict]:
    body = data.get("groups") or {}
    return [{"nsid": text(g["nsid"]), "name": text(g.get("name")), "members": num(g.get("members")),
             "pool_count": num(g.get("pool_count")), "raw": g}
            for g in as_list(body.get("group")) if isinstance(g, dict) and g.get("nsid")]
