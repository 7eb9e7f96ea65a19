"""The one paginator (flickr/pages.py) against the sandbox: `pages` and `total` as numbers
or as strings, the short-page rule (a natural last page is not short; a page that lost
items is asked again until the listing is whole), and pages past the end, which Flickr
answers with an earlier page, never counted twice."""

from __future__ import annotations

import asyncio

from flickr_exodus.flickr import Credentials
from flickr_exodus.flickr.connect import connect
from flickr_exodus.flickr.listing import list_account
from flickr_exodus.flickr.pages import Pager

PHOTOS = 23
PER_PAGE = 5  # 23 items: pages of 5, 5, 5, 5, 3


def run(client, work):
    """Run `work(api)` on an Api pointed at this sandbox."""
    creds = Credentials(client.info["api_key"], client.info["api_secret"], client.info["oauth_token"],
                        client.info["oauth_token_secret"])

    async def main():
        async with connect(creds, client.base, (100_000, 1.0), lambda message: None) as api:
            return await work(api)
    return asyncio.run(main())


def owned_ids(client) -> set[str]:
    return set(client.manifest())


def test_pages_and_total_sent_as_strings_or_numbers_walk_every_page(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    client = make_sandbox(photos=PHOTOS, videos=0, albums=0, seed=3)
    listings = {"flickr.people.getPhotos": dict(user_id="me", safe_search=3),
                "flickr.photos.search": dict(user_id="me", safe_search=3)}

    async def work(api):
        sent, walked = {}, {}
        for method, params in listings.items():
            body = (await api.call(method, page=1, per_page=PER_PAGE, **params))["photos"]
            sent[method] = (type(body["pages"]), type(body["total"]))
            pager = Pager(api, method, "photos", "photo", per_page=PER_PAGE, **params)
            walked[method] = [(page.number, page.pages, page.total, len(page.rows)) async for page in pager.pages()]
        return sent, walked

    sent, walked = run(client, work)
    # The sandbox sends Flickr's both ways (rec:flickr.photos.search.5.json, strings;
    # rec:flickr.people.getPhotos.4.json, numbers): this seed's run, one listing each way.
    assert sent["flickr.people.getPhotos"] == (int, int)
    assert sent["flickr.photos.search"] == (str, str)
    for method in listings:
        assert walked[method] == [(1, 5, 23, 5), (2, 5, 23, 5), (3, 5, 23, 5), (4, 5, 23, 5), (5, 5, 23, 3)]


def test_a_natural_last_page_is_not_short_and_nothing_is_asked_again(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    client = make_sandbox(photos=PHOTOS, videos=0, albums=0, seed=3)

    async def work(api):
        pager = Pager(api, "flickr.people.getPhotos", "photos", "photo", per_page=PER_PAGE, user_id="me",
                      safe_search=3)
        rows = await pager.rows()
        again = [page async for page in pager.again(lambda: False)]
        return rows, pager.short, again

    rows, short, again = run(client, work)
    assert sorted(str(r["id"]) for r in rows) == sorted(owned_ids(client))
    assert short == [] and again == []


def test_short_pages_are_asked_again_until_the_listing_is_whole(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    client = make_sandbox(photos=1200, videos=0, albums=0, seed=5, page_drop_rate=0.5)
    told: list[tuple[int, int]] = []

    async def work(api):
        return await list_account(api, lambda number, pages: told.append((number, pages)))

    listing = run(client, work)
    assert client.sandbox.state.faults.counts["page_drop"], "the sandbox dropped no items: nothing was tested"
    assert listing.complete and set(listing.items) == owned_ids(client) and listing.total == 1200
    # Each page of the walk told once, in order; the pages asked again are not walked again.
    assert told == [(1, 3), (2, 3), (3, 3)]


def test_pages_flickr_repeats_past_the_end_are_not_counted_twice(make_sandbox, tmp_path, monkeypatch):
    """A listing resumed from a checkpoint that counted more pages than there are now asks
    past the end; Flickr answers those with its last page again."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    client = make_sandbox(photos=PHOTOS, videos=0, albums=0, seed=3, past_end="repeat")

    async def work(api):
        pager = Pager(api, "flickr.people.getPhotos", "photos", "photo", per_page=PER_PAGE, user_id="me",
                      safe_search=3)
        return [page async for page in pager.pages(start=4, last=8)]

    pages = run(client, work)
    assert [(p.number, len(p.rows)) for p in pages] == [(4, 5), (5, 3)]
    ids = [str(r["id"]) for p in pages for r in p.rows]
    assert len(ids) == len(set(ids)) == 8
