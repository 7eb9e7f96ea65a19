"""Flickr -> catalog: who the user is, every item (with its metadata and original URL,
zero calls per item), albums with positions, collections, comments, favorites, galleries,
contacts, groups.

The listing is checkpointed per page: a run stopped mid-listing resumes mid-listing. Its
count is checked against Flickr's `total` and `people.getInfo`; when Flickr's paging
dropped items, the listing is repeated until the counts agree (reference §4.1).

A later run of a large account asks `photos.recentlyUpdated` for what changed since the
last listing instead (uploads and every edit move `lastupdate`); when the account's count
then differs from what the catalog expects, something was deleted, and only a full
listing can say what: it follows at once. A full listing also runs at least weekly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from ..catalog.store import Catalog, dumps
from ..flickr import Api, FlickrError
from ..flickr import ids, parse
from ..flickr.pages import PER_PAGE, OnPage, Page, Pager
from ..dest import check_same_account
from ..progress import Progress, page_meter

log = logging.getLogger("exodus.backup")

# Everything a listing can say about an item, so that metadata and the original's URL
# cost no call per item (reference §4.2). url_z/c/l/h/k: the largest size when Flickr
# withholds the original (free accounts).
EXTRAS = ("description,license,date_upload,date_taken,owner_name,original_format,last_update,"
          "geo,tags,machine_tags,o_dims,views,media,path_alias,count_comments,count_faves,"
          "safety_level,rotation,url_o,url_z,url_c,url_l,url_h,url_k")
LISTING_ROUNDS = 4  # a full listing plus up to three more when paging dropped items
FULL_LISTING_EVERY_S = 7 * 24 * 3600
# Flickr's clock and ours may disagree: ask for changes from a little before the last listing.
CLOCK_MARGIN_S = 3600
FAVORITE_EXTRAS = "description,license,date_taken,owner_name,tags,media,url_o,url_k,url_h,url_l,url_c,url_z"


@dataclass
class ListingReport:
    total: int = 0            # what Flickr's listing says
    listed: int = 0           # distinct items seen in this pass
    account_count: int | None = None  # people.getInfo photos.count
    rounds: int = 0
    refetched: int = 0        # short pages asked again
    complete: bool = False
    gone: int = 0
    incremental: bool = False  # recentlyUpdated stood in for the full listing
    changed: int = 0          # items recentlyUpdated returned
    notes: list[str] = field(default_factory=list)


# How many refused records a run names one by one (the rest are counted).
SKIPPED_SHOWN = 100


def listed_row(raw: dict, pass_no: int, rebase) -> tuple[dict, list[tuple[str, int]]]:
    item = parse.Listed.from_dict(raw)
    row = {
        "id": item.id, "media": item.media, "title": item.title, "description": item.description,
        "date_taken": item.date_taken, "date_upload": item.date_upload,
        "last_update": item.last_update, "license": item.license, "is_public": item.is_public,
        "is_friend": item.is_friend, "is_family": item.is_family, "latitude": item.latitude,
        "longitude": item.longitude, "accuracy": item.accuracy,
        # A video's listed format describes its poster still, not the video.
        "original_format": item.original_format if item.media == "photo" else None,
        "secret": item.secret, "original_secret": item.original_secret, "server": item.server,
        "taken_granularity": item.taken_granularity, "taken_unknown": int(item.taken_unknown),
        "safety_level": item.safety_level, "views": item.views, "o_width": item.o_width,
        "o_height": item.o_height, "url_o": rebase(item.url_o) if item.url_o else None,
        "source_url": rebase(item.url_o) if item.url_o and item.media == "photo" else None,
        "fallback_url": rebase(item.largest_url) if item.largest_url and not item.url_o
        and item.media == "photo" else None,
        "kept_size": f"{item.largest_code} ({item.largest_width}x{item.largest_height})"
        if item.largest_url and not item.url_o and item.media == "photo" else None,
        "count_comments": item.count_comments, "listed_pass": pass_no, "raw": dumps(raw),
    }
    tags = [(t, 0) for t in item.tags] + [(t, 1) for t in item.machine_tags]
    return row, tags


class Crawler:
    def __init__(self, api: Api, cat: Catalog, progress: Progress):
        self.api = api
        self.cat = cat
        self.progress = progress
        # Records Flickr sent in shapes exodus cannot use (an id of "../.."): left out,
        # named here for the run's summary; the run goes on.
        self.skipped: list[str] = []
        self.skipped_count = 0

    def skip(self, what: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_SHOWN:
            self.skipped.append(what)
        log.warning("skipped: %s", what)

    def usable(self, raw: dict, kind: str, test) -> bool:
        """Does this record's id have Flickr's shape? If not, it is skipped and named."""
        if test(raw.get("id")):
            return True
        self.skip(f"{kind} {ids.shown(raw.get('id'))}: not one of Flickr's ids")
        return False

    def listed_rows(self, raws: list[dict], pass_no: int, refused: set[str] | None = None):
        """(row, tags) of every listed item whose record exodus can use."""
        for raw in raws:
            try:
                yield listed_row(raw, pass_no, self.api.endpoints.rebase)
            except parse.Malformed as error:
                key = repr(raw.get("id"))[:200]
                if refused is None or key not in refused:
                    self.skip(f"item: {error}; it is left out of the backup")
                if refused is not None:
                    refused.add(key)

    async def who(self) -> dict:
        """The token's owner (test.login) and their item count (people.getInfo)."""
        login = parse.login(await self.api.call("flickr.test.login"))
        check_same_account(self.cat, login)
        info = await self.api.call("flickr.people.getInfo", user_id=login["nsid"])
        account = {**parse.person(info), "nsid": login["nsid"], "username": login["username"],
                   "raw": info.get("person")}
        self.cat.put("account", account)
        return account

    async def listing(self, account_count: int | None) -> ListingReport:
        started = time.time()
        report = await self._changes_only(account_count, started)
        if report is None:
            report = await self._full_listing(account_count, started)
        return report

    async def _changes_only(self, account_count: int | None, started: float) -> ListingReport | None:
        """recentlyUpdated since the last complete listing, where that is cheaper than a
        full listing and provably complete (the account's count adds up); else None."""
        last = self.cat.get("listing") or {}
        live = self.cat.count_live()
        if not (last.get("done") and last.get("complete") and last.get("counts_agreed")
                and account_count is not None and live > PER_PAGE
                and started - last.get("full_at", 0) < FULL_LISTING_EVERY_S):
            return None
        rows, tags = [], {}
        changes = await self._rows("flickr.photos.recentlyUpdated", "photos", "photo",
                                   min_date=int(last["started_at"] - CLOCK_MARGIN_S), safe_search=3,
                                   extras=EXTRAS)
        for row, item_tags in self.listed_rows(changes, last["pass"]):
            if row["id"] not in tags:
                rows.append(row)
                tags[row["id"]] = item_tags
        fresh = len(tags) - len(self.cat.known(list(tags)))
        if account_count != live + fresh:
            self.progress.note(f"Flickr counts {account_count} items, the backup expects {live + fresh}: "
                               "something was deleted there; listing everything to find out what.")
            return None
        checkpoint = {**last, "started_at": started}
        self.cat.record_listing(rows, tags, checkpoint)
        return ListingReport(total=account_count, listed=account_count, account_count=account_count,
                             complete=True, incremental=True, changed=len(rows))

    async def _full_listing(self, account_count: int | None, started: float) -> ListingReport:
        report = ListingReport(account_count=account_count)
        checkpoint = self.cat.get("listing")
        if checkpoint and not checkpoint.get("done"):
            self.progress.note(f"Resuming the listing at page {checkpoint['next_page']}.")
        else:
            checkpoint = {"pass": (checkpoint or {}).get("pass", 0) + 1, "round": 1, "started_at": started,
                          "next_page": 1, "pages": None, "total": None, "short": [], "done": False}
        pass_no = checkpoint["pass"]
        bar = self.progress.bar("listing", total=checkpoint["pages"], unit="page")
        try:
            while True:
                await self._list_round(checkpoint, page_meter(bar))
                report.listed = self._seen(checkpoint)
                report.total = checkpoint["total"] or 0
                if report.listed >= report.total or checkpoint["round"] >= LISTING_ROUNDS:
                    break
                missing = report.total - report.listed
                self.progress.note(f"Flickr's paging skipped {missing} of {report.total} items; "
                                   f"listing again to find them (round {checkpoint['round'] + 1}).")
                checkpoint.update(round=checkpoint["round"] + 1, next_page=1, pages=None, short=[])
                self.cat.put("listing", checkpoint)
                bar.reset(total=None)
        finally:
            bar.close()
        report.rounds = checkpoint["round"]
        report.refetched = checkpoint.get("refetched", 0)
        report.complete = report.listed >= report.total
        if report.complete:
            report.gone = self.cat.mark_unlisted_gone(pass_no)
            if checkpoint["round"] > 1 or checkpoint.get("refetched"):
                report.notes.append(f"Flickr's paging dropped items; asking {checkpoint.get('refetched', 0)} "
                                    f"short pages again ({checkpoint['round']} listing rounds) found "
                                    f"all {report.total}.")
        else:
            report.notes.append(f"Flickr lists {report.total} items but {LISTING_ROUNDS} listing rounds "
                                f"found only {report.listed}; run 'exodus backup' again later.")
        if account_count is not None and account_count != report.total:
            report.notes.append(f"people.getInfo counts {account_count} items, the listing {report.total}.")
        checkpoint.setdefault("started_at", started)
        checkpoint.update(done=True, complete=report.complete, full_at=checkpoint["started_at"],
                          counts_agreed=account_count == report.total == report.listed)
        self.cat.put("listing", checkpoint)
        return report

    async def _list_round(self, checkpoint: dict, on_page: OnPage) -> None:
        """Pages next_page..pages, then the pages that came back short once more (the
        items Flickr's paging dropped sit at their front), a few times each. The
        checkpoint is written with each page's items: a stopped run resumes at the next."""
        pager = Pager(self.api, "flickr.people.getPhotos", "photos", "photo", user_id="me", safe_search=3,
                      extras=EXTRAS, short=checkpoint["short"], on_page=on_page)
        async for page in pager.pages(checkpoint["next_page"], checkpoint["pages"]):
            checkpoint["next_page"] = page.number + 1
            if checkpoint["pages"] is None:  # 1..pages as the round's first answer says
                checkpoint["pages"] = page.pages
            self._record_page(checkpoint, page)
        async for page in pager.again(lambda: self._seen(checkpoint) >= (checkpoint["total"] or 0)):
            checkpoint["refetched"] = checkpoint.get("refetched", 0) + 1
            self._record_page(checkpoint, page)

    def _record_page(self, checkpoint: dict, page: Page) -> None:
        rows, tags = [], {}
        refused = set(checkpoint.setdefault("refused", []))
        for row, item_tags in self.listed_rows(page.rows, checkpoint["pass"], refused):
            rows.append(row)
            tags[row["id"]] = item_tags
        checkpoint["refused"] = sorted(refused)
        checkpoint["total"] = page.total
        self.cat.record_listing(rows, tags, checkpoint)

    def _seen(self, checkpoint: dict) -> int:
        """Items this listing pass has met: recorded, or refused for their shape (those
        were listed too: listing again would not find them another way)."""
        return self.cat.count_listed(checkpoint["pass"]) + len(checkpoint.get("refused", []))

    async def albums(self) -> int:
        """Albums (photosets.getList), and the photos of every album changed since last
        time (photosets.getPhotos, in album order). Returns the number of albums."""
        present: set[str] = set()
        async for page in Pager(self.api, "flickr.photosets.getList", "photosets", "photoset").pages():
            albums = [{**parse.album(r), "raw": dumps(r)} for r in page.rows if self.usable(r, "album", ids.is_album_id)]
            self.cat.upsert_albums(albums)
            present |= {a["id"] for a in albums}
        self.cat.mark_albums_gone(present)
        for album in self.cat.albums():
            version = f"{album['date_update']}:{album['count_photos']}:{album['count_videos']}"
            if album["synced_update"] == version:
                continue
            members: list[str] = []
            try:
                async for page in Pager(self.api, "flickr.photosets.getPhotos", "photoset", "photo",
                                        photoset_id=album["id"]).pages():
                    members += [str(r["id"]) for r in page.rows
                                if self.usable(r, f"album {album['id']}: item", ids.is_photo_id)
                                and str(r["id"]) not in members]
            except FlickrError as error:
                if error.code != 1:  # 1: deleted since getList
                    raise
            self.cat.set_album_photos(album["id"], members, version)
        return len(present)

    async def collections(self) -> int:
        data = await self.api.call("flickr.collections.getTree")
        refused: list[str] = []
        nodes = parse.collection_tree(data, refused)
        for what in refused:
            self.skip(what)
        self.cat.replace_collections([vars(n) for n in nodes])
        return len(nodes)

    async def comments(self) -> int:
        """Comments of items that have some (or whose count Flickr did not send), and of
        albums. One call each, only where the count changed since the last fetch."""
        calls = 0
        todo = self.cat.photos_needing_comments()
        counts = self.cat.comment_counts(todo)
        for photo_id in todo:
            try:
                data = await self.api.call("flickr.photos.comments.getList", photo_id=photo_id)
            except FlickrError as error:
                if error.code == 1:
                    continue  # deleted on Flickr since the listing: the next listing says so
                raise
            calls += 1
            found = parse.comments(data)
            count = counts.get(photo_id)
            self.cat.set_comments("photo_id", photo_id, found, len(found) if count is None else count)
        for album_id in self.cat.albums_needing_comments():
            try:
                data = await self.api.call("flickr.photosets.comments.getList", photoset_id=album_id)
            except FlickrError as error:
                if error.code == 1:
                    continue
                raise
            calls += 1
            found = parse.comments(data)
            count = self.cat.album_comment_count(album_id)
            self.cat.set_comments("album_id", album_id, found, len(found) if count is None else count)
        return calls

    async def _rows(self, method: str, root: str, row: str, **params) -> list[dict]:
        """Every row of a paged listing, pages 1..pages."""
        return await Pager(self.api, method, root, row, **params).rows()

    async def favorites(self) -> int:
        rows = [photo_ref(raw) for raw in await self._rows(
            "flickr.favorites.getList", "photos", "photo", extras=FAVORITE_EXTRAS)
            if self.usable(raw, "favorite", ids.is_photo_id)]
        self.cat.replace_rows("favorites", [{k: r[k] for k in ("id", "owner", "title", "date_faved", "url", "raw")}
                                            for r in rows])
        return len(rows)

    async def galleries(self, nsid: str) -> int:
        """The user's galleries and the photos in each (other people's, so ids, owners,
        titles and URLs, not files). One call per gallery page."""
        galleries = [g for g in await self._rows("flickr.galleries.getList", "galleries", "gallery",
                                                 user_id=nsid)
                     if self.usable(g, "gallery", ids.is_gallery_id)]
        self.cat.replace_rows("galleries", [
            {"id": str(g["id"]), "title": parse.text(g.get("title")),
             "description": parse.text(g.get("description")), "url": parse.text(g.get("url")),
             "count": parse.num(g.get("count_total"), parse.num(g.get("count_photos"))), "raw": g}
            for g in galleries])
        for g in galleries:
            photos = await self._rows("flickr.galleries.getPhotos", "photos", "photo", gallery_id=str(g["id"]),
                                      extras=FAVORITE_EXTRAS)
            self.cat.replace_rows("gallery_photos", [
                {"gallery_id": str(g["id"]), "photo_id": r["id"], "position": n, "owner": r["owner"],
                 "title": r["title"], "url": r["url"], "raw": r["raw"]}
                for n, r in enumerate(map(photo_ref, (p for p in photos if self.usable(
                    p, f"gallery {g['id']}: item", ids.is_photo_id))), 1)], where=("gallery_id", str(g["id"])))
        return len(galleries)

    async def contacts(self) -> int:
        found = await self._rows("flickr.contacts.getList", "contacts", "contact",
                                 per_page=1000, key="nsid")  # up to 1,000 per page (reference §7)
        rows = [parse.contact(c) for c in found if c["nsid"]]
        self.cat.replace_rows("contacts", rows)
        return len(rows)

    async def groups(self, nsid: str) -> int:
        """Groups the user is in, and which of the user's items are in each pool (one call
        per pool page: cheaper than getAllContexts per item)."""
        data = await self.api.call("flickr.people.getGroups", user_id=nsid)
        found = parse.groups(data)
        self.cat.replace_rows("groups", found)
        for group in found:
            rows = await self._rows("flickr.groups.pools.getPhotos", "photos", "photo",
                                    group_id=group["nsid"], user_id=nsid)
            self.cat.replace_rows("group_photos", [{"group_id": group["nsid"], "photo_id": str(r["id"])}
                                                   for r in rows if ids.is_photo_id(r["id"])],
                                  where=("group_id", group["nsid"]))
        return len(found)


def photo_ref(raw: dict) -> dict:
    """Someone else's photo, as a favorite or in a gallery: who, what, where."""
    largest = parse.Listed.from_dict(raw).largest_url if raw.get("id") else None
    return {"id": str(raw["id"]), "owner": parse.text(raw.get("owner")), "title": parse.text(raw.get("title")),
            "date_faved": parse.num(raw.get("date_faved")), "url": largest, "raw": raw}


@dataclass
class VideoSources:
    original: str | None      # getSizes "Video Original" (owner only)
    rendition: str | None     # the largest rendition below it
    rendition_label: str | None


async def video_sources(api: Api, item_id: str) -> VideoSources:
    """Where a video's bytes are, from getSizes (one call), rebased."""
    data = await api.call("flickr.photos.getSizes", photo_id=item_id)
    original = parse.video_original(data)
    rendition = parse.best_video_rendition(data)
    return VideoSources(api.endpoints.rebase(original.source) if original else None,
                        api.endpoints.rebase(rendition.source) if rendition else None,
                        rendition.label if rendition else None)
