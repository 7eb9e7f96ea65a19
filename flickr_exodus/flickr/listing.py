"""A fresh, read-only listing of the owner's items: pages 1..pages of people.getPhotos at
500 per page, short pages asked again (Flickr's paging drops items; reference §4.1).
What verify, delete-remote and lockdown re-read just before they trust or change Flickr."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import parse
from .client import Api

PER_PAGE = 500
SHORT_PAGE_RETRIES = 6  # per short page
# Enough to tell whether an item changed, and how visible and licensed it is.
STATE_EXTRAS = "last_update,original_format,media,license"


@dataclass
class Seen:
    last_update: int | None
    original_secret: str | None
    is_public: int | None
    is_friend: int | None
    is_family: int | None
    license: int | None


@dataclass
class Listing:
    items: dict[str, Seen] = field(default_factory=dict)
    total: int = 0
    pages: int = 0

    @property
    def complete(self) -> bool:
        return len(self.items) >= self.total


async def list_account(api: Api, bar) -> Listing:
    listing = Listing()
    short: list[int] = []

    async def fetch(number: int) -> int:
        data = await api.call("flickr.people.getPhotos", user_id="me", safe_search=3, per_page=PER_PAGE,
                              page=number, extras=STATE_EXTRAS)
        page = parse.page(data, "photos", "photo")
        for raw in page.rows:
            listing.items[str(raw["id"])] = Seen(
                parse.num(raw.get("lastupdate")), parse.text(raw.get("originalsecret")) or None,
                parse.num(raw.get("ispublic")), parse.num(raw.get("isfriend")), parse.num(raw.get("isfamily")),
                parse.num(raw.get("license")))
        listing.total = page.total
        if not listing.pages:
            listing.pages = page.pages
            bar.reset(total=page.pages)
        return len(page.rows)

    number = 1
    while number == 1 or number <= listing.pages:
        rows = await fetch(number)
        if rows < min(PER_PAGE, listing.total - (number - 1) * PER_PAGE):
            short.append(number)
        bar.update(1)
        number += 1
    for number in short:
        for _ in range(SHORT_PAGE_RETRIES):
            if listing.complete:
                break
            await fetch(number)
    return listing
