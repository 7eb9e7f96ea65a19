"""The remote check: list the account again (ceil(P/500) calls, short pages asked again)
and reconcile it with the catalog: items new on Flickr, items changed since the backup
(last_update or original secret), items gone; albums and collections; totals.
Reads Flickr and the catalog; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.store import Catalog
from ..flickr import Api
from ..flickr import parse
from ..flickr.listing import Seen, list_account
from ..flickr.pages import OnPage, Pager
from ..dest import check_same_account
from ..findings import Finding, Kind


@dataclass
class RemoteReport:
    findings: list[Finding] = field(default_factory=list)
    stale_ids: set[str] = field(default_factory=set)   # items whose copy no longer matches
    listed: int = 0
    total: int = 0
    account_count: int | None = None
    albums: int = 0
    complete: bool = False


async def check_remote(api: Api, cat: Catalog, on_page: OnPage | None = None) -> RemoteReport:
    report = RemoteReport()
    login = parse.login(await api.call("flickr.test.login"))
    check_same_account(cat, login)
    person = parse.person(await api.call("flickr.people.getInfo", user_id=login["nsid"]))
    report.account_count = person["count"]
    listed = await _list_everything(api, report, on_page)
    _reconcile_items(cat, listed, report)
    await _reconcile_albums(api, cat, report)
    await _reconcile_collections(api, cat, report)
    if report.account_count is not None and report.account_count != report.total:
        report.findings.append(Finding("account", Kind.COUNT_MISMATCH,
                                       f"people.getInfo counts {report.account_count} items, the listing "
                                       f"{report.total}"))
    return report


async def _list_everything(api: Api, report: RemoteReport, on_page: OnPage | None) -> dict[str, Seen]:
    listing = await list_account(api, on_page)
    report.total, report.listed, report.complete = listing.total, len(listing.items), listing.complete
    if not report.complete:
        report.findings.append(Finding("account", Kind.LISTING_INCOMPLETE,
                                       f"Flickr's listing gave {report.listed} of {report.total} items; "
                                       "run 'exodus verify --remote' again later"))
    return listing.items


def _reconcile_items(cat: Catalog, listed: dict, report: RemoteReport) -> None:
    for row in cat.items(batch=1000):
        on_flickr = listed.pop(row["id"], None)
        if row["state"] == "deleted_remote":
            if on_flickr:
                report.findings.append(Finding(row["id"], Kind.STILL_ON_FLICKR,
                                               "deleted by exodus, yet Flickr still lists it"))
            continue
        if on_flickr is None:
            if row["state"] != "remote_gone" and report.complete:
                report.findings.append(Finding(row["id"], Kind.GONE_FROM_FLICKR,
                                               "in the backup, no longer on Flickr"))
            continue
        last_update, secret = on_flickr.last_update, on_flickr.original_secret
        changed = []
        if row["state"] == "remote_gone":
            changed.append("listed again after it had gone")
        if last_update is not None and row["last_update"] is not None and last_update != row["last_update"]:
            changed.append("edited")
        if secret and row["original_secret"] and secret != row["original_secret"]:
            changed.append("its original was replaced")
        if changed:
            report.stale_ids.add(row["id"])
            report.findings.append(Finding(row["id"], Kind.STALE, "changed on Flickr since the backup: "
                                           + ", ".join(changed)))
    for item_id in sorted(listed):
        report.findings.append(Finding(item_id, Kind.NEW_ON_FLICKR, "on Flickr, not in the backup"))


async def _reconcile_albums(api: Api, cat: Catalog, report: RemoteReport) -> None:
    ours = {r["id"]: r for r in cat.albums()}
    async for page in Pager(api, "flickr.photosets.getList", "photosets", "photoset").pages():
        for raw in page.rows:
            try:
                album = parse.album(raw)
            except parse.Malformed:
                continue  # an id that is not Flickr's: the backup left that album out too
            report.albums += 1
            mine = ours.pop(album["id"], None)
            version = f"{album['date_update']}:{album['count_photos']}:{album['count_videos']}"
            if mine is None:
                report.findings.append(Finding(album["id"], Kind.ALBUM_NEW,
                                               f"album {album['title']!r} is not in the backup"))
            elif mine["synced_update"] != version:
                report.findings.append(Finding(album["id"], Kind.ALBUM_CHANGED,
                                               f"album {album['title']!r} changed since the backup "
                                               f"({album['count_photos'] + album['count_videos']} items now)"))
    for album_id, mine in sorted(ours.items()):
        report.findings.append(Finding(album_id, Kind.ALBUM_GONE, f"album {mine['title']!r} is no longer on Flickr"))


async def _reconcile_collections(api: Api, cat: Catalog, report: RemoteReport) -> None:
    nodes = parse.collection_tree(await api.call("flickr.collections.getTree"))
    theirs = {(n.id, n.parent_id, tuple(n.album_ids)) for n in nodes}
    links: dict[str, list[str]] = {}
    for collection_id, album_id in cat.collection_links():
        links.setdefault(collection_id, []).append(album_id)
    ours = {(c["id"], c["parent_id"], tuple(links.get(c["id"], []))) for c in cat.collections()}
    for node_id in sorted({n[0] for n in theirs ^ ours}):
        report.findings.append(Finding(node_id, Kind.COLLECTION_CHANGED,
                                       "collection differs from the backup (albums, nesting, or new or gone)"))
