"""The owner's writes to an item's location permissions and tags, and the read of the first:
flickr.photos.geo.getPerms, flickr.photos.geo.setPerms, flickr.photos.addTags and
flickr.photos.removeTag (registered in methods.METHODS when this module is imported).

Documented-only: no recording of these four is in tests/recordings/. Permissions and
error codes are Flickr's reflection data (getMethodInfo: geo.getPerms read, the other three
write; geo.*: 1 "Photo not found", 2 "Photo has no location information", 3 "Required
arguments missing"; removeTag: 1 "Tag not found"; addTags: 1 "Photo not found", 2 "Maximum
number of tags reached"). Shapes: geo.getPerms is the documented sample
`<perms id ispublic iscontact isfriend isfamily/>`; addTags answers with the tags it was
given, each with `full_tag_id` (what removeTag and getInfo's tag `id` are) and its short
`id`, as clients that read it (jinx's AddTags) show; the other two answer empty.
"""

from __future__ import annotations

import re
import zlib

from .generate import clean_tag
from .methods import Call, method
from .state import Item, Tag
from .wire import ApiError

MAX_TAGS = 75  # Flickr's limit of tags on one photo
_WORDS = re.compile(r'"([^"]*)"|(\S+)')  # tags: space-separated, "quoted words" are one tag
GEO_FLAGS = ("is_public", "is_contact", "is_friend", "is_family")
NAMES = ("flickr.photos.geo.getPerms", "flickr.photos.geo.setPerms", "flickr.photos.addTags",
         "flickr.photos.removeTag")


def _located(call: Call) -> Item:
    """The caller's own item, which must have a location."""
    item = call.own_photo()
    if item.geo is None:
        raise ApiError(2, "Photo has no location information")
    return item


@method("flickr.photos.geo.getPerms", perms=1)
def geo_get_perms(call: Call) -> dict:
    item = _located(call)
    geo = item.geo
    return {"perms": {"id": item.id, "ispublic": geo.is_public, "iscontact": geo.is_contact,
                      "isfriend": geo.is_friend, "isfamily": geo.is_family}}


@method("flickr.photos.geo.setPerms", perms=2)
def geo_set_perms(call: Call) -> dict:
    flags = [call.params.get(name, "") for name in GEO_FLAGS]
    if any(flag not in ("0", "1") for flag in flags) or not call.params.get("photo_id"):
        raise ApiError(3, "Required arguments missing")
    item = _located(call)
    for name, flag in zip(GEO_FLAGS, flags):
        setattr(item.geo, name, int(flag))
    item.touch()
    call.counters["writes"] += 1
    return {}


def _tag(call: Call, item: Item, raw: str) -> Tag:
    """A tag the caller adds now. Its id is Flickr's shape, author number - photo - tag
    number, the tag number one per clean form (the same tag on two photos shares it)."""
    machine = ":" in raw and "=" in raw
    clean = clean_tag(raw, machine)
    author = call.account.users[call.caller]
    number = zlib.crc32(clean.encode()) % 10**7 + 1
    return Tag(raw=raw, clean=clean, author=author.nsid, machine=machine,
               tag_id=f"{author.numeric_id}-{item.id}-{number}")


def _added(call: Call, tag: Tag) -> dict:
    return {"author": tag.author, "authorname": call.account.users[tag.author].username, "raw": tag.raw,
            "machine_tag": int(tag.machine), "_content": tag.clean, "full_tag_id": tag.tag_id,
            "id": tag.tag_id.rsplit("-", 1)[-1]}


@method("flickr.photos.addTags", perms=2)
def add_tags(call: Call) -> dict:
    item = call.own_photo()
    words = [quoted or bare for quoted, bare in _WORDS.findall(call.require("tags", "Required arguments missing"))]
    answered = []
    for raw in (w.strip() for w in words):
        if not raw:
            continue
        tag = _tag(call, item, raw)
        have = next((t for t in item.tags if t.clean == tag.clean), None)
        if have is None:  # a tag the photo already has is not added twice
            if len(item.tags) >= MAX_TAGS:
                raise ApiError(2, "Maximum number of tags reached")
            item.tags.append(tag)
            have = tag
        answered.append(_added(call, have))
    item.touch()
    call.counters["writes"] += 1
    return {"tags": {"tag": answered}}


@method("flickr.photos.removeTag", perms=2)
def remove_tag(call: Call) -> dict:
    """The owner of the photo may remove any of its tags, anyone else only their own."""
    tag_id = call.params.get("tag_id", "")
    for item in call.account.live_items():
        for tag in item.tags:
            if tag.tag_id == tag_id and call.caller in (item.owner, tag.author):
                item.tags.remove(tag)
                item.touch()
                call.counters["writes"] += 1
                return {}
    raise ApiError(1, "Tag not found")
