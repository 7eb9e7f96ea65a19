"""The REST methods: name -> (required permission, handler). A handler returns the payload
dict (see render.py) or raises ApiError with Flickr's code and message.

Permissions are the reflection data's `requiredperms` (reference §1.2 [REFL]); paging,
caps and errors follow reference §4 and §7.

Documented-only (no recording of theirs in tests/recordings/, shapes from Flickr's
documented samples and what the clients that call them read): flickr.urls.lookupUser,
flickr.people.findByUsername, flickr.galleries.getInfo; and flickr.video.getStreamInfo,
which Flickr does not document at all (its shape is what gallery-dl, yt-dlp and JDownloader
read; reference §5.3). The writes to geo perms and tags, documented-only too, are in
geo_tags.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from . import render
from .config import SandboxConfig
from .faults import Faults
from .oauth import PERMS, Token
from .render import Viewer, content, parse_extras
from .state import Account, Item
from .wire import ApiError

SEARCH_CAP = 4000  # "Flickr will return at most the first 4,000 results" (reference §4.1)


@dataclass
class Call:
    """One REST call, after authentication."""

    account: Account
    config: SandboxConfig
    faults: Faults
    params: dict[str, str]
    token: Token | None
    viewer: Viewer
    counters: dict

    @property
    def caller(self) -> str | None:
        return self.token.nsid if self.token else None

    def require(self, name: str, message: str = "Required parameter missing") -> str:
        value = self.params.get(name, "")
        if value == "":
            raise ApiError(1, message)
        return value

    def user(self, name: str = "user_id", required: bool = True, unknown_code: int = 2):
        """The user a call is about: an NSID, or "me" for the caller."""
        value = self.params.get(name, "")
        if not value:
            if required:
                raise ApiError(1, "Required arguments missing")
            value = "me"
        if value == "me":
            if self.caller is None:
                raise ApiError(unknown_code, "Unknown user")
            value = self.caller
        user = self.account.users.get(value)
        if user is None:
            raise ApiError(unknown_code, "Unknown user")
        return user

    def paging(self, info: dict) -> dict:
        """This method's page/pages/perpage/total, typed as its recordings show them."""
        return render.paging(self.params.get("method", ""), self.config.seed, info)

    def int_param(self, name: str, default: int) -> int:
        try:
            return int(self.params.get(name, "") or default)
        except ValueError:
            return default

    def visible(self, item: Item) -> bool:
        return not item.deleted and (self.viewer.owns(item) or item.ispublic == 1)

    def photo(self, message: str | None = None) -> Item:
        photo_id = self.require("photo_id")
        item = self.account.item(photo_id)
        if item is None or not self.visible(item):
            # Same text for unknown, private and deleted ids (reference §8).
            raise ApiError(1, message or f'Photo "{photo_id}" not found (invalid ID)')
        return item

    def own_photo(self) -> Item:
        item = self.photo("Photo not found")
        if not self.viewer.owns(item):
            raise ApiError(1, "Photo not found")
        return item

    def album(self):
        album = self.account.albums.get(self.params.get("photoset_id", ""))
        if album is None:
            raise ApiError(1, "Photoset not found")
        return album


Handler = Callable[[Call], dict]
METHODS: dict[str, tuple[int, Handler]] = {}


def method(name: str, perms: int = 0):
    def register(fn: Handler) -> Handler:
        METHODS[name] = (perms, fn)
        return fn
    return register


def perms_message(required: int, granted: int) -> str:
    # Live text: "Insufficient permissions. Method requires read privileges; none granted."
    # (rec:flickr.test.null.error-99.1.xml)
    return (f"Insufficient permissions. Method requires {PERMS[required]} privileges; "
            f"{PERMS[granted]} granted.")


# --- paging ---------------------------------------------------------------------------

def page_of(call: Call, items: list, *, default_per_page: int = 100, cap: int | None = None,
            shift: bool = True) -> tuple[list, dict]:
    """Slice a listing like Flickr: 1-based pages, per_page capped at 500, a page past the
    end repeats the last one (or is empty: --past-end), page drops from --page-drop-rate."""
    per_page = max(1, min(call.int_param("per_page", default_per_page), 500))
    page = max(1, call.int_param("page", 1))
    total = len(items)
    reachable = min(total, cap) if cap else total
    pages = math.ceil(total / per_page)
    last_reachable = max(1, math.ceil(reachable / per_page))
    if page > last_reachable:
        if call.config.past_end == "empty" and not cap:
            return [], {"page": page, "pages": pages, "perpage": per_page, "total": total}
        page = last_reachable
    start = (page - 1) * per_page
    end = min(start + per_page, reachable)
    lost = call.faults.page_shift() if shift else 0
    chunk = items[start + lost:end] if lost else items[start:end]
    return chunk, {"page": page, "pages": pages, "perpage": per_page, "total": total}


def photo_list(call: Call, items: list[Item], *, root: str = "photos", sort_key=None,
               default_per_page: int = 100, cap: int | None = None) -> dict:
    extras = parse_extras(call.params.get("extras"))
    if sort_key:
        items = sorted(items, key=sort_key, reverse=True)
    chunk, info = page_of(call, items, default_per_page=default_per_page, cap=cap)
    envelope = call.paging(info)
    envelope["photo"] = [render.list_photo(call.account, call.viewer, i, extras) for i in chunk]
    return {root: envelope}


def owner_items(call: Call, user) -> list[Item]:
    """A user's items as this caller may list them: privacy, safe search, filters."""
    owns = call.caller == user.nsid
    items = [i for i in call.account.items.values() if i.owner == user.nsid and not i.deleted]
    if not owns:
        items = [i for i in items if i.ispublic]
    # Owner listings honour safe search: restricted items need safe_search=3; anonymous
    # callers only ever see safe content ([REFL] people.getPhotos safe_search).
    safe = call.int_param("safe_search", 2 if call.caller else 1)
    if call.caller is None:
        safe = 1
    items = [i for i in items if i.safety_level < safe]
    privacy = call.int_param("privacy_filter", 0)
    if privacy and owns:
        flags = {1: (1, 0, 0), 2: (0, 1, 0), 3: (0, 0, 1), 4: (0, 1, 1), 5: (0, 0, 0)}.get(privacy)
        items = [i for i in items if (i.ispublic, i.isfriend, i.isfamily) == flags]
    media = call.params.get("media", "all")
    if media in ("photos", "videos"):
        items = [i for i in items if i.media == media[:-1]]
    low, high = call.int_param("min_upload_date", 0), call.int_param("max_upload_date", 0)
    if low:
        items = [i for i in items if i.date_upload >= low]
    if high:
        items = [i for i in items if i.date_upload <= high]
    return items


# --- test & auth ---------------------------------------------------------------------------

@method("flickr.test.echo")
def test_echo(call: Call) -> dict:
    return {k: content(v) for k, v in call.params.items() if not k.startswith("oauth_")}


@method("flickr.test.null", perms=1)
def test_null(call: Call) -> dict:
    return {}


@method("flickr.test.login", perms=1)
def test_login(call: Call) -> dict:
    user = call.account.users[call.caller]
    return {"user": {"id": user.nsid, "username": content(user.username)}}


@method("flickr.auth.oauth.checkToken")
def check_token(call: Call) -> dict:
    if call.token is None:
        raise ApiError(98, "Invalid token")
    user = call.account.users[call.token.nsid]
    # rec:flickr.auth.oauth.checkToken.1.json; XML <oauth><token>..</token><perms>..</perms>
    # <user .../></oauth> (reference §7) is what flickrapi's token_valid() reads.
    return {"oauth": {"token": content(call.token.token), "perms": content(call.token.perms),
                      "user": {"nsid": user.nsid, "username": user.username,
                               "fullname": user.realname}}}


# --- people ---------------------------------------------------------------------------

@method("flickr.people.getInfo")
def people_get_info(call: Call) -> dict:
    nsid = call.require("user_id")
    user = call.account.users.get(call.caller if nsid == "me" and call.caller else nsid)
    if user is None:
        raise ApiError(1, "User not found")
    if user.deleted:
        raise ApiError(5, "User deleted")  # rec:flickr.people.getInfo.error-5.1.xml
    return render.person(call.viewer, user, call.account)


@method("flickr.people.getPhotos")
def people_get_photos(call: Call) -> dict:
    user = call.user()
    # The photostream's order: newest upload first.
    return photo_list(call, owner_items(call, user), sort_key=lambda i: (i.date_upload, i.id))


@method("flickr.people.getPublicPhotos")
def people_get_public_photos(call: Call) -> dict:
    user = call.user()
    items = [i for i in owner_items(call, user) if i.ispublic]
    return photo_list(call, items, sort_key=lambda i: (i.date_upload, i.id))


# --- photos ---------------------------------------------------------------------------

@method("flickr.photos.getInfo")
def photos_get_info(call: Call) -> dict:
    # `secret` only lets a caller skip permission checks ([REFL]); a stale one is no error.
    return {"photo": render.photo_info(call.account, call.viewer, call.photo())}


@method("flickr.photos.getSizes")
def photos_get_sizes(call: Call) -> dict:
    answer = render.sizes(call.account, call.viewer, call.photo("Photo not found"))
    if call.config.foreign_video_base:  # a Flickr gone wrong: the original on another host
        for size in answer["sizes"]["size"]:
            if size["label"] == "Video Original":
                size["source"] = call.config.foreign_video_base.rstrip("/") + size["source"][len(call.viewer.base):]
    return answer


@method("flickr.photos.getExif")
def photos_get_exif(call: Call) -> dict:
    return render.exif(call.photo("Photo not found"))


@method("flickr.photos.getAllContexts")
def photos_get_all_contexts(call: Call) -> dict:
    """Sets and pools as top-level siblings of stat, absent when empty
    (rec:flickr.photos.getAllContexts.1.json, .3.xml)."""
    item = call.photo()
    out = {}
    sets = []
    for album in call.account.albums_of(item.id):
        primary = call.account.items.get(album.primary)
        photos, videos = render.album_counts(call.account, album)
        sets.append({"title": album.title, "id": album.id, "primary": album.primary,
                     "secret": primary.secret if primary else "",
                     "server": primary.server if primary else "0",
                     "farm": primary.farm if primary else 0, "view_count": album.count_views,
                     "comment_count": len(album.comments), "count_photo": photos,
                     "count_video": videos})
    if sets:
        out["set"] = sets
    pools = [call.account.groups[g] for g in item.pools]
    if pools:
        out["pool"] = [{"title": g.name, "url": f"/groups/{g.nsid}/pool/", "id": g.nsid,
                        "iconserver": g.iconserver, "iconfarm": g.iconfarm, "members": g.members,
                        "pool_count": g.pool_count} for g in pools]
    return out


@method("flickr.photos.getNotInSet", perms=1)
def photos_get_not_in_set(call: Call) -> dict:
    in_sets = {pid for a in call.account.albums.values() for pid in a.photo_ids}
    user = call.account.users[call.caller]
    items = [i for i in owner_items(call, user) if i.id not in in_sets]
    return photo_list(call, items, sort_key=lambda i: (i.date_upload, i.id))


@method("flickr.photos.recentlyUpdated", perms=1)
def photos_recently_updated(call: Call) -> dict:
    since = call.int_param("min_date", 0)
    if not call.params.get("min_date"):
        raise ApiError(1, "Required parameter missing")
    user = call.account.users[call.caller]
    items = [i for i in owner_items(call, user) if i.last_update >= since]
    return photo_list(call, items, sort_key=lambda i: (i.last_update, i.id))


@method("flickr.photos.search")
def photos_search(call: Call) -> dict:
    account = call.account
    user_id = call.params.get("user_id", "")
    if user_id:
        items = owner_items(call, call.user(unknown_code=2))
    else:
        items = [i for i in account.items.values() if not i.deleted and i.ispublic
                 and i.safety_level == 0]
    text = call.params.get("text", "").lower()
    if text:
        items = [i for i in items if text in i.title.lower() or text in i.description.lower()
                 or any(text == t.clean for t in i.tags)]
    tags = [t.strip().lower() for t in call.params.get("tags", "").split(",") if t.strip()]
    if tags:
        items = [i for i in items if {t.clean for t in i.tags} & set(tags)]
    sort = call.params.get("sort", "date-posted-desc")
    keys = {"date-posted": lambda i: (i.date_upload, i.id), "date-taken": lambda i: (i.date_taken, i.id),
            "interestingness": lambda i: (i.views, i.id), "relevance": lambda i: (i.views, i.id)}
    field, _, direction = sort.rpartition("-")
    key = keys.get(field, keys["date-posted"])
    items = sorted(items, key=key, reverse=direction != "asc")
    return photo_list(call, items, cap=SEARCH_CAP)


@method("flickr.photos.comments.getList")
def photos_comments_get_list(call: Call) -> dict:
    """Not paginated (reference §6.4)."""
    item = call.photo()
    low = call.int_param("min_comment_date", 0)
    high = call.int_param("max_comment_date", 0)
    comments = [c for c in item.comments if c.date >= low and (not high or c.date <= high)]
    link = render.photopage(call.viewer, call.account, item)
    out = {"photo_id": item.id}
    if comments:
        out["comment"] = [render.comment(call.account, call.viewer, c, link) for c in comments]
    return {"comments": out}


@method("flickr.photos.people.getList")
def photos_people_get_list(call: Call) -> dict:
    return render.people(call.account, call.photo())


@method("flickr.photos.getPerms", perms=1)
def photos_get_perms(call: Call) -> dict:
    item = call.own_photo()
    return {"perms": {"id": item.id, "ispublic": item.ispublic, "isfriend": item.isfriend,
                      "isfamily": item.isfamily, "permcomment": item.perm_comment,
                      "permaddmeta": item.perm_addmeta}}


@method("flickr.photos.delete", perms=3)
def photos_delete(call: Call) -> dict:
    item = call.own_photo()
    call.account.delete(item)
    call.counters["deleted"] += 1
    return {}  # "empty success response" (rec:flickr.photos.delete.1.json)


@method("flickr.photos.setPerms", perms=2)
def photos_set_perms(call: Call) -> dict:
    item = call.own_photo()
    flags = []
    for name in ("is_public", "is_friend", "is_family"):
        value = call.require(name)
        if value not in ("0", "1"):
            raise ApiError(1, "Required arguments missing")
        flags.append(int(value))
    item.ispublic, item.isfriend, item.isfamily = flags
    for name, attr in (("perm_comment", "perm_comment"), ("perm_addmeta", "perm_addmeta")):
        if call.params.get(name, "") != "":
            setattr(item, attr, call.int_param(name, getattr(item, attr)))
    if item.geo:
        item.geo.is_public = item.ispublic
    item.touch()
    call.counters["writes"] += 1
    return {}


@method("flickr.photos.licenses.getInfo")
def licenses_get_info(call: Call) -> dict:
    return {"licenses": {"license": [{"id": i, "name": n, "url": u} for i, n, u in render.LICENSES]}}


@method("flickr.photos.licenses.setLicense", perms=2)
def licenses_set_license(call: Call) -> dict:
    item = call.own_photo()
    try:
        license_id = int(call.require("license_id"))
    except ValueError:
        raise ApiError(2, "License not found") from None
    if license_id not in {i for i, _, _ in render.LICENSES}:
        raise ApiError(2, "License not found")
    item.license = license_id
    item.touch()
    call.counters["writes"] += 1
    return {}


# --- albums, collections, favourites, galleries ------------------------------------------

@method("flickr.photosets.getList")
def photosets_get_list(call: Call) -> dict:
    """Always paged in practice, 500 at most (reference §7, [ISS-fd58])."""
    user = call.user(required=False, unknown_code=1)
    albums = list(call.account.albums.values()) if user.nsid == call.account.owner.nsid else []
    if call.caller != user.nsid:
        albums = [a for a in albums if any(call.account.items[p].ispublic for p in a.photo_ids)]
    extras = parse_extras(call.params.get("primary_photo_extras"))
    chunk, info = page_of(call, albums, default_per_page=500, shift=False)
    body = {"cancreate": 1, **call.paging(info),
            "photoset": [render.album_summary(call.account, call.viewer, a, extras) for a in chunk]}
    return {"photosets": body}


@method("flickr.photosets.getPhotos")
def photosets_get_photos(call: Call) -> dict:
    """Album order; per_page defaults to 500; both per_page and perpage
    (rec:flickr.photosets.getPhotos.5.json)."""
    album = call.album()
    items = [call.account.items[p] for p in album.photo_ids]
    items = [i for i in items if call.visible(i)]
    media = call.params.get("media", "all")
    if media in ("photos", "videos"):
        items = [i for i in items if i.media == media[:-1]]
    extras = parse_extras(call.params.get("extras"))
    chunk, info = page_of(call, items, default_per_page=500)
    photos = []
    for item in chunk:
        d = render.list_photo(call.account, call.viewer, item, extras, with_owner=False)
        d = {**{k: d[k] for k in ("id", "secret", "server", "farm", "title")},
             "isprimary": render.vary(item.id + "isprimary", int(item.id == album.primary)),
             **{k: v for k, v in d.items() if k not in ("id", "secret", "server", "farm", "title")}}
        photos.append(d)
    owner = call.account.owner
    numbers = call.paging(info)
    return {"photoset": {"id": album.id, "primary": album.primary, "owner": owner.nsid,
                         "ownername": owner.username, "photo": photos, "page": numbers["page"],
                         "per_page": numbers["perpage"], "perpage": numbers["perpage"],
                         "pages": numbers["pages"], "total": numbers["total"], "title": album.title}}


@method("flickr.photosets.getInfo")
def photosets_get_info(call: Call) -> dict:
    return render.album_info(call.account, call.album())


@method("flickr.photosets.comments.getList")
def photosets_comments_get_list(call: Call) -> dict:
    album = call.album()
    owner = call.account.owner
    link = f"{call.viewer.base}/photos/{owner.path_alias}/sets/{album.id}/comments"
    out = {"photoset_id": album.id}
    if album.comments:
        out["comment"] = [render.comment(call.account, call.viewer, c, link) for c in album.comments]
    return {"comments": out}


@method("flickr.collections.getTree")
def collections_get_tree(call: Call) -> dict:
    user = call.user(required=False, unknown_code=1)
    if user.nsid != call.account.owner.nsid:
        return {"collections": {}}  # rec: reference §7 [SWIFT-test] empty tree
    roots = call.account.collections
    wanted = call.params.get("collection_id", "0")
    if wanted not in ("", "0"):
        roots = [c for c in call.account.walk_collections() if c.id == wanted]
        if not roots:
            raise ApiError(1, "Collection not found")
    nodes = [render.collection(call.account, call.viewer, c) for c in roots]
    return {"collections": {"collection": nodes} if nodes else {}}


@method("flickr.favorites.getList")
def favorites_get_list(call: Call) -> dict:
    user = call.user(required=False, unknown_code=1)
    ids = call.account.favorites if user.nsid == call.account.owner.nsid else []
    items = [call.account.foreign[i] for i in ids]
    extras = parse_extras(call.params.get("extras"))
    if "date_faved" not in extras:
        call.params = {**call.params, "extras": ",".join([*extras, "date_faved"])}
    return photo_list(call, items, sort_key=lambda i: (i.date_faved, i.id))


@method("flickr.galleries.getList")
def galleries_get_list(call: Call) -> dict:
    user = call.user(required=True, unknown_code=1)
    galleries = call.account.galleries if user.nsid == call.account.owner.nsid else []
    chunk, info = page_of(call, galleries, default_per_page=100, shift=False)
    numbers = call.paging(info)
    body = {"total": numbers["total"], "per_page": numbers["perpage"], "page": numbers["page"],
            "pages": numbers["pages"], "user_id": user.nsid,
            "gallery": [render.gallery(call.account, call.viewer, g) for g in chunk]}
    if "continuation" in call.params:
        # "first request must pass continuation=0 ... last page returns -1" (reference §7).
        body["continuation"] = -1 if info["page"] >= info["pages"] else info["page"]
    return {"galleries": body}


@method("flickr.galleries.getPhotos")
def galleries_get_photos(call: Call) -> dict:
    gallery = _gallery(call)
    items = [call.account.item(i) for i in gallery.photo_ids]
    return photo_list(call, [i for i in items if i is not None])


# --- contacts and groups ------------------------------------------------------------------

@method("flickr.contacts.getList", perms=1)
def contacts_get_list(call: Call) -> dict:
    """per_page defaults to and caps at 1000 (reference §7)."""
    wanted = call.params.get("filter", "")
    contacts = call.account.contacts
    pick = {"friends": lambda c: c.friend, "family": lambda c: c.family,
            "both": lambda c: c.friend and c.family, "neither": lambda c: not (c.friend or c.family)}
    if wanted in pick:
        contacts = [c for c in contacts if pick[wanted](c)]
    per_page = max(1, min(call.int_param("per_page", 1000), 1000))
    page = max(1, call.int_param("page", 1))
    pages = max(1, math.ceil(len(contacts) / per_page))
    page = min(page, pages)
    chunk = contacts[(page - 1) * per_page:page * per_page]
    rows = []
    for c in chunk:
        user = call.account.users[c.nsid]
        rows.append({"nsid": user.nsid, "username": user.username, "iconserver": user.iconserver,
                     "iconfarm": user.iconfarm, "ignored": 0, "rev_ignored": 0,
                     "realname": user.realname, "friend": c.friend, "family": c.family,
                     "path_alias": user.path_alias, "location": user.location})
    numbers = call.paging({"page": page, "pages": pages, "perpage": per_page, "total": len(contacts)})
    return {"contacts": {**numbers, "per_page": numbers["perpage"], "contact": rows}}


@method("flickr.people.getGroups", perms=1)
def people_get_groups(call: Call) -> dict:
    user = call.user()
    groups = list(call.account.groups.values()) if user.nsid == call.account.owner.nsid else []
    rows = [{"nsid": g.nsid, "name": g.name, "iconfarm": g.iconfarm, "iconserver": g.iconserver,
             "admin": 0, "eighteenplus": 0, "invitation_only": 0, "members": str(g.members),
             "pool_count": str(g.pool_count)} for g in groups]
    return {"groups": {"group": rows}}


@method("flickr.groups.pools.getPhotos")
def groups_pools_get_photos(call: Call) -> dict:
    group_id = call.require("group_id")
    if group_id not in call.account.groups:
        raise ApiError(1, "Group not found")
    items = [i for i in call.account.items.values() if group_id in i.pools and call.visible(i)]
    if call.params.get("user_id"):
        user = call.user()
        items = [i for i in items if i.owner == user.nsid]
    return photo_list(call, items, sort_key=lambda i: (i.date_upload, i.id))


# --- look-ups: a user from a URL or a name, a gallery, a video's streams ------------------

FLICKR_HOSTS = {"flickr.com", "www.flickr.com", "secure.flickr.com", "m.flickr.com"}


@method("flickr.urls.lookupUser")
def urls_lookup_user(call: Call) -> dict:
    """A user from the URL of their photos or profile: flickr.com's (what clients send,
    gallery-dl for every user, album, favourites or gallery URL) or the sandbox's own.
    Doc sample: <user id="..."><username>Stewart</username></user>."""
    url = urlsplit(call.require("url"))
    parts = [p for p in url.path.split("/") if p]
    own = urlsplit(call.viewer.base).netloc
    known_host = url.hostname in FLICKR_HOSTS or url.netloc == own
    if not known_host or len(parts) < 2 or parts[0] not in ("photos", "people"):
        raise ApiError(1, "User not found")
    user = _known_user(call, lambda u: parts[1] in (u.nsid, u.path_alias))
    return {"user": {"id": user.nsid, "username": content(user.username)}}


@method("flickr.people.findByUsername")
def people_find_by_username(call: Call) -> dict:
    """Doc sample: <user nsid="..."><username>Stewart</username></user>. In JSON both `id`
    and `nsid`, as Flickr answers a <user nsid> element (flickr_api builds its Person from
    `id`)."""
    name = call.require("username").casefold()
    user = _known_user(call, lambda u: u.username.casefold() == name)
    return {"user": {"id": user.nsid, "nsid": user.nsid, "username": content(user.username)}}


def _known_user(call: Call, matches):
    user = next((u for u in call.account.users.values() if not u.deleted and matches(u)), None)
    if user is None:
        raise ApiError(1, "User not found")
    return user


@method("flickr.galleries.getInfo")
def galleries_get_info(call: Call) -> dict:
    """The documented sample's fields, plus those that galleries.getList's entries carry:
    Flickr documents urls.lookupGallery as "the same format returned by
    flickr.galleries.getInfo", and gallery-dl names folders by `gallery_id`."""
    return {"gallery": render.gallery(call.account, call.viewer, _gallery(call))}


def _gallery(call: Call):
    """By its full id ("6065-72157617483228192") or the number its URL shows."""
    wanted = call.require("gallery_id")
    gallery = next((g for g in call.account.galleries
                    if wanted in (g.id, g.id.rsplit("-", 1)[-1])), None)
    if gallery is None:
        raise ApiError(1, "Invalid gallery ID")
    return gallery


@method("flickr.video.getStreamInfo")
def video_get_stream_info(call: Call) -> dict:
    """Undocumented, live: {"streams": {"stream": [{"type": "360p", "_content": URL}]}}.
    The photo's `secret` must match: with a wrong one gallery-dl#398 logged a 52-byte answer
    that gallery-dl read as code 1, the size of {"stat":"fail","code":1,"message":"Video not
    found"} (the message is inferred). `orig` is listed to the owner only, as getSizes'
    Video Original, and at the same /play/ URL: the sandbox keeps one gate for original
    videos (live Flickr may hand out signed CDN URLs here; no recording shows which)."""
    item = call.photo("Video not found")
    if not item.is_video or call.params.get("secret") != item.secret:
        raise ApiError(1, "Video not found")
    return render.streams(call.account, call.viewer, item)
