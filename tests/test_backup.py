"""`exodus backup` end to end against the sandbox: everything arrives, whole, in the
catalog and the tree, within the API-call budget; a second run fetches nothing."""

from __future__ import annotations

import json
import math
import os
import time

import pytest

from conftest import assert_complete, catalog_rows, exodus, exodus_env


def budget(client) -> int:
    """The core's bound: ceil(P/500) + Σ ceil(album/500) + photos with comments + albums
    with comments + videos + 10, plus the rest of the account (galleries, contacts, groups
    and their pools) and the deep pass: one getInfo per item, one people.getList per item
    with people."""
    stats = client.stats()["account"]
    items = stats["photos"] + stats["videos"]
    rest = 3 + stats["galleries"] + stats["groups"]
    return core_budget(client) + rest + items + stats["photos_with_people"]


def core_budget(client) -> int:
    stats = client.stats()["account"]
    manifest = client.manifest().values()
    album_sizes: dict[str, int] = {}
    for item in manifest:
        for album in item["albums"]:
            album_sizes[album] = album_sizes.get(album, 0) + 1
    items = stats["photos"] + stats["videos"]
    return (math.ceil(items / 500) + sum(math.ceil(n / 500) for n in album_sizes.values())
            + stats["photos_with_comments"] + stats["albums_with_comments"] + stats["videos"] + 10)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """One full backup of a 300-photo, 12-video account, shared by the read-only checks."""
    from conftest import Client
    from flickr_exodus.sandbox import Sandbox, SandboxConfig

    home = tmp_path_factory.mktemp("full")
    config = SandboxConfig(photos=300, videos=12, albums=12, seed=11, video_access="oauth",
                           media_size=(8_000, 40_000), video_size=(30_000, 120_000))
    with Sandbox(config) as sandbox:
        client = Client(sandbox)
        env = exodus_env(client, home)
        dest = home / "dest"
        done = exodus(["backup", str(dest), "--json"], env)
        yield client, env, dest, done


def test_full_backup_saves_every_item_whole(full):
    client, _, dest, done = full
    assert done.returncode == 0, done.stderr
    rows = assert_complete(client, dest)
    assert sum(r["media"] == "video" for r in rows.values()) == 12
    # Restricted items are listed only with safe_search=3: they must be here too.
    assert any(r["safety_level"] == 2 for r in rows.values())
    summary = json.loads(done.stdout)  # --json: exactly one document on stdout
    assert summary["ok"] is True and summary["counts"]["downloaded"] == len(client.manifest())


def test_api_calls_stay_within_the_budget(full):
    client, _, _, done = full
    stats = client.stats()
    assert stats["api_calls_total"] <= budget(client), stats["api_calls"]
    # The core costs zero calls per photo for metadata and URLs: getSizes only for videos;
    # the deep pass exactly one getInfo per item, people.getList only where there are people.
    calls, account = stats["api_calls"], stats["account"]
    deep = ("flickr.photos.getInfo", "flickr.photos.people.getList")
    rest = ("flickr.galleries.getList", "flickr.galleries.getPhotos", "flickr.contacts.getList",
            "flickr.people.getGroups", "flickr.groups.pools.getPhotos")
    assert sum(n for m, n in calls.items() if m not in deep + rest) <= core_budget(client), calls
    assert calls["flickr.photos.getSizes"] == account["videos"]
    assert calls["flickr.photos.getInfo"] == account["photos"] + account["videos"]
    assert calls["flickr.photos.people.getList"] == account["photos_with_people"]
    assert json.loads(done.stdout)["this_run"]["api_calls"] == stats["api_calls_total"]


def test_videos_are_true_originals_never_posters(full):
    client, _, dest, _ = full
    for row in catalog_rows(dest, "SELECT * FROM photos WHERE media = 'video'"):
        head = (dest / row["path"]).read_bytes()[:12]
        assert head[4:8] == b"ftyp", row["path"]
        assert row["path"].rsplit(".", 1)[-1] in ("mp4", "mov")
        assert row["original_format"] == client.manifest()[row["id"]]["original_format"]


def test_catalog_holds_albums_in_order_collections_and_comments(full):
    client, _, dest, _ = full
    albums = client.call("flickr.photosets.getList", per_page="500")["photosets"]["photoset"]
    assert len(albums) >= 10
    for album in albums:
        listed = client.call("flickr.photosets.getPhotos", photoset_id=album["id"])["photoset"]["photo"]
        ours = catalog_rows(dest, "SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY position",
                            [album["id"]])
        assert [r["photo_id"] for r in ours] == [p["id"] for p in listed]
    tree = client.call("flickr.collections.getTree")["collections"]["collection"]
    nested = [c for c in tree if "collection" in c]
    assert nested, "the sandbox account has nested collections"
    child = nested[0]["collection"][0]
    rows = catalog_rows(dest, "SELECT parent_id FROM collections WHERE id = ?", [child["id"]])
    assert rows == [{"parent_id": nested[0]["id"]}]
    expected = sum(m["count_comments"] for m in client.manifest().values())
    assert len(catalog_rows(dest, "SELECT id FROM comments WHERE photo_id IS NOT NULL")) == expected
    assert catalog_rows(dest, "SELECT count(*) AS n FROM comments WHERE album_id IS NOT NULL")[0]["n"] > 0
    assert all(r["raw"] for r in catalog_rows(dest, "SELECT raw FROM albums"))


def test_sidecars_carry_metadata_albums_and_comments(full):
    client, _, dest, _ = full
    manifest = client.manifest()
    for row in catalog_rows(dest):
        sidecar = json.loads((dest / (row["path"] + ".json")).read_text(encoding="utf-8"))
        assert sidecar["id"] == row["id"] and sidecar["title"] == row["title"]
        assert sorted(a["id"] for a in sidecar["albums"]) == sorted(manifest[row["id"]]["albums"])
        assert len(sidecar["comments"]) == manifest[row["id"]]["count_comments"]
        assert sidecar["original"]["sha256"] == manifest[row["id"]]["sha256"]
        assert sidecar["flickr"]["id"] == row["id"]  # Flickr's own JSON kept


def test_tree_layout_names_dates_and_album_links(full):
    _, _, dest, _ = full
    rows = catalog_rows(dest)
    for row in rows:
        path = dest / row["path"]
        parts = row["path"].split("/")
        assert parts[0] == "photos" and parts[-1].startswith(row["id"])
        if row["taken_unknown"]:
            assert parts[1] == "undated"
        else:
            assert "/".join(parts[1:4]) == row["date_taken"][:10].replace("-", "/")
            # The file's mtime is the date taken.
            taken = time.strptime(row["date_taken"], "%Y-%m-%d %H:%M:%S")
            assert abs(path.stat().st_mtime - time.mktime(taken)) < 2
        assert len(parts[-1].encode()) <= 255
    for link in (dest / "albums").rglob("*"):
        if link.is_symlink():
            assert not os.path.isabs(os.readlink(link))
            assert link.resolve().is_file() and dest in link.resolve().parents
    assert any((dest / "collections").rglob("*"))
    assert not [p for p in (dest / "photos").rglob("*") if p.is_file() and p.suffix not in (".json",)
                and p.name.split("_")[0].split(".")[0] not in {r["id"] for r in rows}]


def test_second_run_makes_only_listing_calls_and_downloads_nothing(full):
    client, env, dest, _ = full
    before = client.stats()
    again = exodus(["backup", str(dest), "--json"], env)
    after = client.stats()
    assert again.returncode == 0, again.stderr
    calls = {m: n - before["api_calls"].get(m, 0) for m, n in after["api_calls"].items()
             if n - before["api_calls"].get(m, 0)}
    assert calls == {"flickr.test.login": 1, "flickr.people.getInfo": 1, "flickr.people.getPhotos": 1,
                     "flickr.photosets.getList": 1, "flickr.collections.getTree": 1,
                     "flickr.favorites.getList": 1}
    assert after["bytes_served"] == before["bytes_served"]
    assert json.loads(again.stdout)["this_run"]["downloaded"] == 0


def test_status_reports_counts_without_calling_flickr(full):
    client, env, dest, _ = full
    before = client.stats()["api_calls_total"]
    shown = exodus(["status", str(dest), "--json"], env)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["counts"]["downloaded"] == report["items"] == len(client.manifest())
    assert report["left"] == 0 and report["bytes_on_disk"] > 0
    assert client.stats()["api_calls_total"] == before
    text = exodus(["status", str(dest)], env)
    assert "downloaded" in text.stdout and str(report["items"]) in text.stdout


def test_views_fall_back_to_manifests_where_links_cannot_be_made(full, tmp_path):
    import shutil

    from flickr_exodus.layout.tree import build_views
    from flickr_exodus.catalog import Catalog

    _, _, dest, _ = full
    copy = tmp_path / "copy"
    shutil.copytree(dest, copy, symlinks=True)
    cat = Catalog.open(copy)
    try:
        result = build_views(cat, copy, links=False)
    finally:
        cat.close()
    assert result["links"] is False
    assert not [p for p in (copy / "albums").rglob("*") if p.is_symlink()]
    album = next(p for p in (copy / "albums").iterdir() if p.is_dir())
    lines = (album / "manifest.txt").read_text(encoding="utf-8").splitlines()
    originals = [line.split("\t")[1] for line in lines]
    assert originals and all((copy / o).is_file() for o in originals)
    linked = sorted(os.readlink(p).replace("../../", "", 1) for p in (dest / "albums" / album.name).iterdir())
    assert sorted(originals) == linked  # the same album, in the same order
