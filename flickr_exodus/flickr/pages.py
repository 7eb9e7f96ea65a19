"""The one paginator: every paged listing of Flickr (the owner's items, recentlyUpdated,
albums and their photos, favorites, galleries, contacts, group pools) goes through here.

Flickr's paging as observed (reference §4.1): pages are 1-based; `page`, `pages` and
`total` come as numbers or as strings; a page past the end repeats an earlier one, so a
listing runs 1..pages as the first answer says, never "until empty"; and a page can come
back short, its items shifted onto another page, so short pages are asked again while
the listing is still missing items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Callable

from . import parse
from .client import Api

PER_PAGE = 500
SHORT_PAGE_RETRIES = 6  # per short page

# Told after each page of a walk: (the page's number, how many pages there are). How far
# a listing got is for the caller to show; the wire knows no progress bar.
OnPage = Callable[[int, int], None]


@dataclass
class Page:
    number: int        # the page asked for
    pages: int         # how many pages Flickr says the listing has
    total: int         # how many rows Flickr says the listing has
    rows: list[dict]   # as sent (records without a key are left out)
    short: bool        # fewer rows than this page holds when Flickr drops none


def expected_rows(number: int, total: int, per_page: int) -> int:
    """How many rows page `number` holds when Flickr's paging drops none."""
    return max(0, min(per_page, total - (number - 1) * per_page))


class Pager:
    """One paged method and its parameters. `pages()` walks it; `again()` asks the pages
    that came back short once more. `short` is the queue of those pages: a caller that
    checkpoints a listing hands in the list its checkpoint holds."""

    def __init__(self, api: Api, method: str, root: str, row: str, *, per_page: int = PER_PAGE,
                 key: str = "id", short: list[int] | None = None, on_page: OnPage | None = None, **params):
        self.api, self.method, self.root, self.row, self.key = api, method, root, row, key
        self.per_page = per_page
        self.params = params
        self.short = [] if short is None else short
        self.on_page = on_page

    async def fetch(self, number: int) -> Page | None:
        """Page `number`; None when Flickr answered with an earlier page instead (asked
        past its end), whose rows were already counted."""
        data = await self.api.call(self.method, page=number, per_page=self.per_page, **self.params)
        body = data.get(self.root)
        answered = parse.num(body.get("page")) if isinstance(body, dict) else None
        if answered is not None and answered < number:
            return None
        sent = parse.page(data, self.root, self.row, self.key)
        page = Page(number, sent.pages, sent.total, sent.rows,
                    len(sent.rows) < expected_rows(number, sent.total, self.per_page))
        if page.short and number not in self.short:
            self.short.append(number)
        return page

    async def pages(self, start: int = 1, last: int | None = None) -> AsyncIterator[Page]:
        """Pages start..last; `last` is the first answer's `pages` unless the caller knows
        it already (a listing resumed mid-way)."""
        number = start
        while last is None or number <= last:
            page = await self.fetch(number)
            if page is None:
                return
            if last is None:
                last = page.pages
            if self.on_page:
                self.on_page(number, last)
            yield page
            number += 1

    async def again(self, done: Callable[[], bool], retries: int = SHORT_PAGE_RETRIES) -> AsyncIterator[Page]:
        """The short pages asked once more (the items Flickr's paging dropped sit at their
        front), in turn, `retries` times per page all told, until done() says the listing
        has all it should. A page still short goes to the back of the queue."""
        budget = retries * len(self.short)
        while self.short and budget > 0 and not done():
            budget -= 1
            page = await self.fetch(self.short.pop(0))
            if page is not None:
                yield page

    async def rows(self) -> list[dict]:
        """Every row of pages 1..pages."""
        return [row async for page in self.pages() for row in page.rows]
