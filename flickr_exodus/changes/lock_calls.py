"""The calls that take one item from what lockdown recorded it was (`before`) to what it is to
be (`after`): visibility, license, who may see its location, the tag no_cv. Each call is
made only where the two differ, and each is idempotent, so an intent a stopped run left open
is simply carried out again. The values (JSON in the journal):

    {"is_public", "is_friend", "is_family", "license",
     "geo": {"is_public", "is_contact", "is_friend", "is_family"} or None (no location),
     "no_cv": whether the item has the tag}

Entries an older exodus wrote have no "geo" and no "no_cv": nothing of those is changed."""

from __future__ import annotations

from ..flickr import Api, FlickrError, parse
from ..flickr.listing import GEO_FLAGS

NO_CV = "no_cv"  # FFHQ's documented opt-out tag
VISIBILITY = ("is_public", "is_friend", "is_family")
NOT_FOUND, NO_LOCATION = 1, 2  # Flickr's codes: photo (or, for removeTag, tag) not found; no location


async def put(api: Api, photo_id: str, before: dict, after: dict, tag_id: str | None = None) -> tuple:
    """(result, detail) or (result, detail, {"tag_id": ...}) when a tag was added; `tag_id`:
    the no_cv a lock added, which an undo removes."""
    made = {}
    try:
        seen_to = [after[k] for k in VISIBILITY] != [before[k] for k in VISIBILITY]
        if seen_to:
            await api.call("flickr.photos.setPerms", photo_id=photo_id,
                           **{k: after[k] for k in VISIBILITY})
        if after["license"] != before["license"]:
            await api.call("flickr.photos.licenses.setLicense", photo_id=photo_id, license_id=after["license"])
        # After a visibility change too: whether Flickr moves the location's perms along
        # with the photo's is not documented, so they are set as recorded, explicitly.
        if after.get("geo") is not None and (seen_to or after["geo"] != before.get("geo")):
            await _geo(api, photo_id, after["geo"])
        if after.get("no_cv") and before.get("no_cv") is False:
            made["tag_id"] = await _add_no_cv(api, photo_id)
        elif before.get("no_cv") and after.get("no_cv") is False:
            await _remove_no_cv(api, photo_id, tag_id)
    except FlickrError as error:  # recorded; the next item goes on
        return ("gone" if error.code == NOT_FOUND else "refused"), str(error)
    return ("done", None, made) if made else ("done", None)


async def _geo(api: Api, photo_id: str, perms: dict) -> None:
    try:
        await api.call("flickr.photos.geo.setPerms", photo_id=photo_id, **{k: perms[k] for k in GEO_FLAGS})
    except FlickrError as error:
        if error.code != NO_LOCATION:  # the location was removed since: nobody can see it
            raise


def _tag_id(tags, key: str) -> str | None:
    for tag in parse.as_list(tags):
        if isinstance(tag, dict) and parse.text(tag) == NO_CV and parse.text(tag.get(key)):
            return parse.text(tag.get(key))
    return None


async def _looked_up(api: Api, photo_id: str) -> str | None:
    """The id of the item's no_cv as getInfo shows it (its tag `id` is the full one)."""
    info = await api.call("flickr.photos.getInfo", photo_id=photo_id)
    tags = (info.get("photo") or {}).get("tags") or {}
    return _tag_id(tags.get("tag") if isinstance(tags, dict) else None, "id")


async def _add_no_cv(api: Api, photo_id: str) -> str | None:
    """Adds the tag; the id Flickr gave it (addTags names it full_tag_id), else getInfo's."""
    answer = await api.call("flickr.photos.addTags", photo_id=photo_id, tags=NO_CV)
    tags = answer.get("tags") if isinstance(answer.get("tags"), dict) else {}
    return _tag_id(tags.get("tag"), "full_tag_id") or await _looked_up(api, photo_id)


async def _remove_no_cv(api: Api, photo_id: str, tag_id: str | None) -> None:
    """Removes the no_cv a lock added: by the id Flickr gave it, or (a lock that could not
    learn it) the one the item has now, which was not there before that lock."""
    tag_id = tag_id or await _looked_up(api, photo_id)
    if tag_id is None:
        return
    try:
        await api.call("flickr.photos.removeTag", tag_id=tag_id)
    except FlickrError as error:
        if error.code != NOT_FOUND:  # removed already (by an attempt whose answer was lost, or by hand)
            raise
