"""A fresh, read-only listing of the owner's items: pages 1..pages of people.getPhotos at
500 per page, short pages asked again (Flickr's paging drops items; reference §4.1; the
paging itself is pages.py's).
What verify, delete-remote and lockdown re-read just before they trust or change Flickr."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import parse
from .client import Api
from .pages import OnPage, Page, Pager

# Enough to tell whether an item changed, and how visible and licensed it is.
STATE_EXTRAS = "last_update,original_format,media,license"
# And who may see its location, and its tags (lockdown's plan).
EXPOSURE_EXTRAS = STATE_EXTRAS + ",geo,tags"
GEO_FLAGS = ("is_public", "is_contact", "is_friend", "is_family")


@dataclass
class Seen:
    last_update: int | None
    original_secret: str | None
    is_public: int | None
    is_friend: int | None
    is_family: int | None
    license: int | None
    geo: dict | None = None  # a geotagged item's geo perms (GEO_FLAGS), with EXPOSURE_EXTRAS
    tags: frozenset[str] = frozenset()  # its tags' clean forms, with EXPOSURE_EXTRAS


@dataclass
class Listing:
    items: dict[str, Seen] = field(default_factory=dict)
    total: int = 0
    pages: int = 0

    @property
    def complete(self) -> bool:
        return len(self.items) >= self.total


def geo_perms(raw: dict) -> dict | None:
    """Who may see the location, from the geo extra: its geo_is_* flags (0 or 1) come only
    with a location (reference §4.1, extras); None without one."""
    if "geo_is_public" not in raw:
        return None
    return {flag: 1 if parse.num(raw.get(f"geo_{flag}"), 0) else 0 for flag in GEO_FLAGS}


async def list_account(api: Api, on_page: OnPage | None = None, extras: str = STATE_EXTRAS) -> Listing:
    listing = Listing()
    pager = Pager(api, "flickr.people.getPhotos", "photos", "photo", user_id="me", safe_search=3,
                  extras=extras, on_page=on_page)

    def take(page: Page) -> None:
        for raw in page.rows:
            listing.items[str(raw["id"])] = Seen(
                parse.num(raw.get("lastupdate")), parse.text(raw.get("originalsecret")) or None,
                parse.num(raw.get("ispublic")), parse.num(raw.get("isfriend")), parse.num(raw.get("isfamily")),
                parse.num(raw.get("license")), geo_perms(raw), frozenset(parse.text(raw.get("tags")).split()))
        listing.total = page.total
        listing.pages = listing.pages or page.pages

    async for page in pager.pages():
        take(page)
    async for page in pager.again(lambda: listing.complete):
        take(page)
    return listing
