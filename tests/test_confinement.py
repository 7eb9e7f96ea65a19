"""Files go only into DEST: a hostile Flickr (the sandbox's `hostile` overrides) and a
hostile account export name ids and formats with '../', absolute paths, NUL bytes and
ten-thousand-digit numbers; after `exodus backup` and `exodus import-export` nothing
exists outside DEST that was not there before, every bad record is reported, and the
good items are backed up as usual."""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import pytest

from conftest import catalog_rows, exodus, exodus_env, sha256_file
from flickr_exodus.layout import paths
from flickr_exodus.backup.download import Downloader, Refused
from flickr_exodus.catalog import Catalog, Item
from flickr_exodus.progress import Progress
from flickr_exodus.flickr import ids, parse

SHELL_RC = b"export SAFE=1\n"


# --- helpers --------------------------------------------------------------------------

def snapshot(root: Path, skip: set[Path]) -> dict[str, tuple]:
    """Every file, folder and link under root (links not followed), with what it holds."""
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in dirs + files:
            path = here / name
            info = os.lstat(path)
            link = os.readlink(path) if os.path.islink(path) else None
            if os.path.isdir(path) and not link:  # its entries are listed; DEST's birth changes its mtime
                out[str(path.relative_to(root))] = (info.st_mode,)
            else:
                out[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, link)
    return out


def escape(target: Path) -> str:
    """A relative path that climbs to / from any depth and goes down to target."""
    return "../" * 40 + str(target).lstrip("/")


def assert_links_stay_inside(dest: Path) -> None:
    real = os.path.realpath(dest)
    for folder, dirs, files in os.walk(dest):
        for name in dirs + files:
            path = Path(folder) / name
            if path.is_symlink():
                assert os.path.realpath(path).startswith(real + os.sep), (path, os.readlink(path))


@pytest.fixture
def world(tmp_path):
    """tmp_path/world holds DEST and, beside it, a decoy shell start-up file."""
    decoy = tmp_path / "world" / "decoy"
    decoy.mkdir(parents=True)
    (decoy / ".bashrc").write_bytes(SHELL_RC)
    return tmp_path


# --- the shapes themselves ------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "-1e400", "Infinity", 10 ** 30, "9" * 5000,
                                   float("inf"), float("nan"), {"_content": "1e999"}])
def test_non_finite_and_absurd_numbers_are_none(value):
    assert parse.num(value) is None
    assert parse.num(value, 7) == 7
    real = parse.real(value)
    assert real is None or (math.isfinite(real) and isinstance(value, int))


def test_ordinary_numbers_still_read():
    assert [parse.num(v) for v in ("5", 5, "5.0", " 12 ", {"_content": "3"}, True, "")] == [5, 5, 5, 12, 3, 1, None]
    assert parse.real("45.5") == 45.5 and parse.real("-0.25") == -0.25


@pytest.mark.parametrize("value", ["../1", "/etc/passwd", "1\x002", "9" * 21, "", "12a", "１２３", "٣", "12\n",
                                   None, True, 1.5, ["1"]])
def test_ids_that_are_not_flickrs_are_refused(value):
    assert not ids.is_photo_id(value) and not ids.is_album_id(value)
    assert not ids.is_collection_id(f"{value}-{value}")
    with pytest.raises(ids.Malformed):
        parse.Listed.from_dict({"id": value, "title": "x"})
    with pytest.raises(ids.Malformed):
        parse.album({"id": value})


def test_flickrs_own_shapes_pass():
    assert ids.is_photo_id("50435005643") and ids.is_photo_id(50435005643)
    assert ids.is_collection_id("203379136-72157609270963966")
    assert ids.is_gallery_id("203379136-72157609272278190") and ids.is_gallery_id("72157609272278190")
    assert ids.is_nsid("69159372041@N02") and not ids.is_nsid("69159372041@N02/..")
    assert [ids.photo_format(f) for f in ("JPG", "tif", "bmp/../../x", "jpg\x00", "sh")] == \
        ["jpg", "tif", None, None, None]
    assert ids.video_format("MOV") == "mov" and ids.video_format("exe") is None


def test_collection_tree_leaves_out_bad_nodes_with_their_subtree():
    skipped: list[str] = []
    nodes = parse.collection_tree({"collections": {"collection": [
        {"id": "1-2", "title": "ok", "set": [{"id": "72157"}, {"id": "../x"}]},
        {"id": "1-../3", "title": "bad", "collection": [{"id": "1-4", "title": "under bad"}]},
    ]}}, skipped)
    assert [(n.id, n.album_ids) for n in nodes] == [("1-2", ["72157"])]
    assert len(skipped) == 2


def test_one_function_refuses_every_way_out(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for bad in ["../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a\x00b", "a\\..\\b", "C:/x", "",
                "a/" + "x" * 256]:
        with pytest.raises(paths.OutsideDest):
            paths.inside(dest, bad)
    (dest / "photos").symlink_to(outside)
    with pytest.raises(paths.OutsideDest, match="outside DEST"):
        paths.inside(dest, "photos/2019/07/04/1_x.jpg")
    (dest / "albums").mkdir()
    (dest / "albums" / "a.jpg").symlink_to(outside / "a.jpg")
    with pytest.raises(paths.OutsideDest, match="symlink"):
        paths.inside(dest, "albums/a.jpg")
    with pytest.raises(paths.OutsideDest, match="symlink"):
        paths.link_text(dest, "photos", "x.jpg")
    assert paths.link_text(dest, "albums/b_1", "photos/x.jpg") == "../../photos/x.jpg"
    assert paths.inside(dest, "photos2/2019/1_x.jpg") == dest / "photos2" / "2019" / "1_x.jpg"
    assert (dest / "photos2" / "2019").is_dir()
    assert list(outside.iterdir()) == []


def test_a_video_named_with_an_unknown_extension_fails(tmp_path):
    """Content-Disposition names a video's extension: only a video format is kept."""
    cat = Catalog.open(tmp_path)
    downloader = Downloader(tmp_path, cat, None, None, Progress(quiet=True))
    row = Item(id="123", title="t", date_taken=None, taken_unknown=0, video_source="x", kept_size=None)
    for hostile in ('attachment; filename="clip.sh"', 'attachment; filename="clip.mp4/../../../x.bashrc"'):
        with pytest.raises(Refused, match="not a video format"):
            downloader._video_path(row, hostile)
    assert downloader._video_path(row, 'attachment; filename="../../clip.MOV"').target == \
        tmp_path / "photos" / "undated" / "123_t.mov"
    cat.close()


def test_sandbox_hostile_overrides_apply_and_clear(make_sandbox):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=31)
    first = client.all_photos()[0]["id"]
    with pytest.raises(Exception):
        client.control("hostile", rules=[{"match": {}, "set": {"id": "x"}}])
    client.control("hostile", rules=[{"method": "flickr.people.getPhotos", "match": {"id": first},
                                      "set": {"id": "../x", "originalformat": "jpg\x00"}}])
    listed = {p["id"]: p for p in client.all_photos()}
    assert first not in listed and listed["../x"]["originalformat"] == "jpg\x00"
    assert client.call("flickr.photos.getInfo", photo_id=first)["photo"]["id"] == first  # only that method
    client.control("hostile", clear=True)
    assert first in {p["id"] for p in client.all_photos()}


# --- a hostile API --------------------------------------------------------------------

def hostile_api(client, decoy: Path) -> dict:
    """Turn the sandbox hostile; returns which ids it made bad and how."""
    photos = sorted(p["id"] for p in client.all_photos() if p["media"] == "photo")
    bad_format, nul_format, up_id, abs_id, nul_id, long_id, odd_numbers = photos[:7]
    account = client.sandbox.state.account
    albums = sorted(account.albums)
    listing = "flickr.people.getPhotos"
    rules = [
        # The original exploit: a BMP "format" that walks up to a shell start-up file.
        (listing, bad_format, {"originalformat": "bmp/" + escape(decoy / ".bashrc")}),
        (listing, nul_format, {"originalformat": "jpg\x00"}),
        (listing, up_id, {"id": escape(decoy / "up")}),
        (listing, abs_id, {"id": str(decoy / "absolute")}),
        (listing, nul_id, {"id": "1234\x00"}),
        (listing, long_id, {"id": "9" * 10_000}),
        (listing, odd_numbers, {"dateupload": "1e400", "lastupdate": "inf", "o_width": "nan",
                                "o_height": 10 ** 30, "width_o": "inf", "height_o": "-1e999", "latitude": "inf", "longitude": "-1e400",
                                "views": "9" * 400, "license": "Infinity"}),
        ("flickr.photosets.getList", albums[0], {"id": escape(decoy / "album")}),
        ("flickr.photosets.getList", albums[1], {"id": "72157\x00"}),
        ("flickr.photosets.getPhotos", account.albums[albums[2]].photo_ids[0], {"id": escape(decoy / "member")}),
        ("flickr.collections.getTree", account.collections[0].id, {"id": "1-" + escape(decoy / "collection")}),
        ("flickr.favorites.getList", account.favorites[0], {"id": escape(decoy / "fave")}),
        ("flickr.galleries.getList", account.galleries[0].id if isinstance(account.galleries, list)
         else sorted(account.galleries)[0], {"id": escape(decoy / "gallery")}),
    ]
    client.control("hostile", rules=[{"method": m, "match": {"id": i}, "set": s} for m, i, s in rules])
    return {"failed": {bad_format, nul_format}, "skipped": {up_id, abs_id, nul_id, long_id},
            "odd_numbers": odd_numbers}


def test_a_hostile_api_writes_nothing_outside_dest(make_sandbox, world):
    client = make_sandbox(photos=14, videos=1, albums=3, seed=43, video_access="oauth",
                          media_size=(2_000, 6_000), video_size=(20_000, 30_000))
    decoy = world / "world" / "decoy"
    dest = world / "world" / "dest"
    bad = hostile_api(client, decoy)
    env = exodus_env(client, world / "home")
    (world / "home").mkdir()
    before = snapshot(world, {dest, world / "home"})

    done = exodus(["backup", str(dest), "--json", "--faves", "--xmp"], env)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)

    assert snapshot(world, {dest, world / "home"}) == before
    assert (decoy / ".bashrc").read_bytes() == SHELL_RC
    assert_links_stay_inside(dest)
    # Every bad record is named: the items it failed, and each id it left out.
    rows = {r["id"]: r for r in catalog_rows(dest)}
    for item_id in bad["failed"]:
        assert rows[item_id]["state"] == "failed" and "format" in rows[item_id]["reason"], rows[item_id]
        assert rows[item_id]["path"] is None
    assert {f["id"] for f in summary["failed"]} == bad["failed"]
    shown = summary["skipped"]["shown"]
    kinds = [line.split(" ", 1)[0] for line in shown]
    assert kinds.count("item:") == len(bad["skipped"]), shown
    assert kinds.count("album") == 3 and kinds.count("collection") == 1, shown  # 2 lists, 1 member
    assert kinds.count("favorite") == 1 and kinds.count("gallery") == 1, shown
    assert summary["skipped"]["count"] == len(shown) == 10
    assert not any(i.startswith(".") or "/" in i or "\x00" in i for i in rows)
    # The good items are backed up as usual, the odd numbers read as unknown.
    manifest = client.manifest()
    good = set(manifest) - bad["failed"] - bad["skipped"]
    for item_id in good:
        row = rows[item_id]
        assert row["state"] == "downloaded", (item_id, row["state"], row["reason"])
        assert row["sha256"] == manifest[item_id]["sha256"] == sha256_file(dest / row["path"])
    odd = rows[bad["odd_numbers"]]
    assert odd["date_upload"] is None and odd["o_width"] is None and odd["o_height"] is None
    assert odd["latitude"] is None and odd["views"] is None
    assert len(list((dest / "albums").iterdir())) == 1  # the one album with a good id
    links = (dest / "links.csv").read_text(encoding="utf-8")
    assert ".." not in links and "\x00" not in links
    assert len(list((dest / "faves").glob("*.jpg"))) == len(client.sandbox.state.account.favorites) - 1


def test_a_dest_folder_that_links_elsewhere_is_refused(make_sandbox, world):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=47, media_size=(2_000, 3_000))
    dest = world / "world" / "dest"
    elsewhere = world / "world" / "elsewhere"
    elsewhere.mkdir()
    dest.mkdir()
    (dest / "photos").symlink_to(elsewhere)
    env = exodus_env(client, world / "home")
    before = snapshot(world, {dest, world / "home"})
    done = exodus(["backup", str(dest), "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert snapshot(world, {dest, world / "home"}) == before
    rows = catalog_rows(dest)
    assert rows and all(r["state"] == "failed" and "outside DEST" in r["reason"] for r in rows), rows


# --- a hostile export -------------------------------------------------------------------

def rewrite_zip(path: Path, change) -> None:
    """Rewrite a zip entry by entry: change(name, bytes) -> [(name, bytes), ...]."""
    with zipfile.ZipFile(path) as old:
        entries = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in entries:
            for new_name, new_data in change(name, data):
                new.writestr(new_name, new_data)


def hostile_export(folder: Path, decoy: Path, photos: list[str], albums: list[str]) -> dict:
    bad_up, bad_nul, odd_format, bad_media, renamed = photos[:5]
    meta = next(p for p in folder.iterdir() if "_part1" in p.name)

    def account(name: str, data: bytes):
        doc = json.loads(data)
        if name == f"photo_{bad_up}.json":
            doc["id"] = escape(decoy / "up")
        elif name == f"photo_{bad_nul}.json":
            doc["id"] = "1\x00"
        elif name == f"photo_{odd_format}.json":
            doc["original"] += "/" + escape(decoy / ".bashrc")
            doc["geo"] = {"latitude": "1e400", "longitude": "nan", "accuracy": "inf"}
        elif name == "albums.json":
            doc["albums"][0]["id"] = escape(decoy / "album")
            doc["albums"][1]["photos"] += [escape(decoy / "member"), "9" * 30]
            doc["albums"][2]["id"] = "72157\x00"
        elif name.startswith("faves"):
            doc["faves"][0]["photo_id"] = escape(decoy / "fave")
        elif name.startswith("sets_comments") and doc["comments"]:
            doc["comments"][0]["photoset_id"] = escape(decoy / "comment")
        elif name == "account_profile.json":
            doc["nsid"] = escape(decoy / "nsid")
        return [(name, json.dumps(doc))]

    def media(name: str, data: bytes):
        if f"_{bad_media}_o." in name:
            return [(f"evil_{bad_media}_o.sh", data)]
        if f"_{renamed}_o." in name:  # member names are never paths
            return [(escape(decoy / f"x_{renamed}_o.jpg"), data)]
        return [(name, data)]

    rewrite_zip(meta, account)
    for part in folder.glob("data-download-*.zip"):
        rewrite_zip(part, media)
    return {"unusable": {bad_up, bad_nul, bad_media}, "albums": albums}


def test_a_hostile_export_writes_nothing_outside_dest(make_sandbox, world):
    client = make_sandbox(photos=12, videos=1, albums=3, seed=53, media_size=(2_000, 6_000),
                          video_size=(20_000, 30_000))
    account = client.sandbox.state.account
    photos = sorted(i.id for i in account.items.values() if i.media == "photo")
    client.control("export", dir=str(world / "export"))
    decoy = world / "world" / "decoy"
    bad = hostile_export(world / "export", decoy, photos, sorted(account.albums))
    dest = world / "world" / "dest"
    env = exodus_env(client, world / "home")
    before = snapshot(world, {dest, world / "home"})

    done = exodus(["import-export", str(dest), *map(str, sorted((world / "export").iterdir())), "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout
    report = json.loads(done.stdout)

    assert snapshot(world, {dest, world / "home"}) == before
    assert (decoy / ".bashrc").read_bytes() == SHELL_RC
    assert_links_stay_inside(dest)
    kinds = report["problem_kinds"]
    assert kinds["bad_record"] == 2 and kinds["bad_album"] == 3 and kinds["bad_favorite"] == 1, kinds
    assert kinds["bad_field"] == 1 and kinds["bad_media"] == 1, kinds
    assert any("format" in p["detail"] for p in report["problems"] if p["kind"] == "bad_media")
    rows = {r["id"]: r for r in catalog_rows(dest)}
    assert all(ids.is_photo_id(i) for i in rows)
    manifest = client.manifest()
    for item_id in set(manifest) - bad["unusable"]:
        row = rows[item_id]
        assert row["state"] == "downloaded", (item_id, row["state"])
        assert row["sha256"] == manifest[item_id]["sha256"] == sha256_file(dest / row["path"])
    assert len(list((dest / "albums").iterdir())) == 1
    assert ".." not in (dest / "links.csv").read_text(encoding="utf-8")
