"""Everything Flickr has, not most of it: after a deep backup the catalog and every sidecar
match the sandbox's own record field by field; XMP sidecars read back with exiftool; the
rest of the account (favorites, galleries, contacts, groups) and links.csv."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import pytest

from conftest import catalog_rows, exodus, exodus_env


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    from conftest import Client
    from flickr_exodus.sandbox import Sandbox, SandboxConfig

    home = tmp_path_factory.mktemp("deep")
    config = SandboxConfig(photos=60, videos=3, albums=5, seed=41, video_access="oauth",
                           media_size=(3_000, 9_000), video_size=(20_000, 40_000))
    with Sandbox(config) as sandbox:
        client = Client(sandbox)
        env = exodus_env(client, home)
        dest = home / "dest"
        done = exodus(["backup", str(dest), "--json", "--xmp"], env)
        assert done.returncode == 0, done.stderr
        records = {r["id"]: r for r in client.http.get(f"{client.base}/__sandbox__/records").json()["items"]}
        yield client, env, dest, done, records


def sidecar_of(dest, row) -> dict:
    return json.loads((dest / (row["path"] + ".json")).read_text(encoding="utf-8"))


def test_catalog_and_sidecars_match_the_sandbox_field_by_field(deep):
    _, _, dest, _, records = deep
    rows = {r["id"]: r for r in catalog_rows(dest)}
    assert set(rows) == {i for i, r in records.items() if not r["deleted"]}
    for item_id, want in records.items():
        row = rows[item_id]
        side = sidecar_of(dest, row)
        assert row["deep_done"] == 1 and side["deep"] is True
        for key in ("title", "description", "date_taken", "license", "is_public", "is_friend", "is_family",
                    "safety_level", "rotation", "perm_comment", "perm_addmeta"):
            assert row[key] == want[key], (item_id, key, row[key], want[key])
        assert row["taken_granularity"] == want["taken_granularity"]
        assert bool(row["taken_unknown"]) == want["taken_unknown"]
        assert (side["title"], side["description"], side["date_taken"]) == \
            (want["title"], want["description"], want["date_taken"])
        assert side["date_taken_granularity"] == want["taken_granularity"]
        assert side["visibility"] == {"public": want["is_public"], "friend": want["is_friend"],
                                      "family": want["is_family"]}
        assert side["permissions"] == {"comment": want["perm_comment"], "add_meta": want["perm_addmeta"]}
        # Tags: clean forms, machine tags apart, and the raw forms as typed.
        assert sorted(side["tags"]) == sorted({t["clean"] for t in want["tags"] if not t["machine"]})
        assert sorted(side["machine_tags"]) == sorted({t["clean"] for t in want["tags"] if t["machine"]})
        assert [(t["raw"], t["clean"], t["machine"]) for t in side["tags_raw"]] == \
            [(t["raw"], t["clean"], t["machine"]) for t in want["tags"]]
        if want["geo"]:
            assert side["geo"]["latitude"] == pytest.approx(want["geo"]["latitude"], abs=1e-6)
            assert side["geo"]["longitude"] == pytest.approx(want["geo"]["longitude"], abs=1e-6)
            assert side["geo"]["accuracy"] == want["geo"]["accuracy"]
            assert side["geo"]["places"]  # locality, region, country from getInfo
        else:
            assert side["geo"] is None
        assert [(n["id"], n["text"], n["x"], n["y"], n["w"], n["h"], n["author"]) for n in side["notes"]] == \
            sorted((n["id"], n["text"], n["x"], n["y"], n["w"], n["h"], n["author"]) for n in want["notes"])
        assert sorted(p["nsid"] for p in side["people"]) == sorted(want["people"])
        assert sorted((c["id"], c["text"], c["author"], c["date_create"]) for c in side["comments"]) == \
            sorted((c["id"], c["text"], c["author"], c["date"]) for c in want["comments"])
        assert sorted(a["id"] for a in side["albums"]) == sorted(want["albums"])
        assert sorted(c["id"] for c in side["collections"]) == sorted(want["collections"])
        assert sorted(g["nsid"] for g in side["groups"]) == sorted(want["pools"])
        if row["media"] == "video":
            assert side["duration"] and side["duration"] > 0
    # The sandbox's account has each kind of thing somewhere, so the loop above saw them.
    assert any(r["notes"] for r in records.values()) and any(r["people"] for r in records.values())
    assert any(r["geo"] for r in records.values()) and any(r["comments"] for r in records.values())


def test_the_deep_pass_calls_getinfo_once_per_item_and_people_only_where_there_are(deep):
    client, _, _, done, records = deep
    calls = client.stats()["api_calls"]
    assert calls["flickr.photos.getInfo"] == len(records)
    assert calls["flickr.photos.people.getList"] == sum(1 for r in records.values() if r["people"])
    assert json.loads(done.stdout)["this_run"]["deep"]["items"] == len(records)


def xml_chars(text: str) -> str:
    """The text as XML 1.0 can carry it (its Char production: no C0 controls but tab, LF, CR)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or "\x20" <= ch <= "\ud7ff"
                   or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000")


def test_xmp_sidecars_read_back_with_exiftool(deep):
    _, _, dest, _, records = deep
    exiftool = shutil.which("exiftool")
    assert exiftool, "exiftool is missing: 'make tools' installs it (Debian: libimage-exiftool-perl)"
    rows = catalog_rows(dest)
    files = [str(dest / (r["path"] + ".xmp")) for r in rows]
    read = subprocess.run([exiftool, "-json", "-n", "-charset", "UTF8", *files], capture_output=True,
                          text=True, check=True, timeout=120)
    found = {r["SourceFile"]: r for r in json.loads(read.stdout)}
    non_latin = 0
    for row in rows:
        want = records[row["id"]]
        got = found[str(dest / (row["path"] + ".xmp"))]
        if xml_chars(want["title"]):
            assert str(got["Title"]) == xml_chars(want["title"])
        if xml_chars(want["description"]):
            assert str(got["Description"]) == xml_chars(want["description"])
        non_latin += any(ord(ch) > 0x24F for ch in want["title"] + want["description"])
        typed = [t["raw"] for t in want["tags"] if not t["machine"]]
        if typed:
            subject = got["Subject"] if isinstance(got["Subject"], list) else [got["Subject"]]
            assert [str(s) for s in subject] == typed
        if want["geo"]:
            assert got["GPSLatitude"] == pytest.approx(want["geo"]["latitude"], abs=1e-5)
            assert got["GPSLongitude"] == pytest.approx(want["geo"]["longitude"], abs=1e-5)
        if not want["taken_unknown"] and want["taken_granularity"] == 0:
            assert got["DateTimeOriginal"] == want["date_taken"].replace("-", ":", 2)
        assert str(got["Id"]) == row["id"] and got["Url"].endswith(f"/{row['id']}/")
    assert non_latin > 0  # the account's titles include CJK, Cyrillic, Arabic or emoji


def test_the_rest_of_the_account_is_in_the_catalog(deep):
    client, _, dest, _, records = deep
    faves = client.call("flickr.favorites.getList", per_page="500")["photos"]["photo"]
    assert {r["id"] for r in catalog_rows(dest, "SELECT id FROM favorites")} == {str(f["id"]) for f in faves}
    galleries = catalog_rows(dest, "SELECT * FROM galleries")
    assert len(galleries) == client.stats()["account"]["galleries"] > 0
    members = catalog_rows(dest, "SELECT * FROM gallery_photos")
    assert members and all(m["owner"] and m["url"] for m in members)
    contacts = client.call("flickr.contacts.getList")["contacts"]["contact"]
    assert {c["nsid"] for c in catalog_rows(dest, "SELECT nsid FROM contacts")} == {c["nsid"] for c in contacts}
    assert len(catalog_rows(dest, "SELECT * FROM groups")) == client.stats()["account"]["groups"]
    pools = {(r["group_id"], r["photo_id"]) for r in catalog_rows(dest, "SELECT * FROM group_photos")}
    assert pools == {(g, i) for i, r in records.items() for g in r["pools"]}


def test_links_csv_maps_every_flickr_url_to_the_local_file(deep):
    _, _, dest, _, _ = deep
    rows = {r["id"]: r for r in catalog_rows(dest)}
    with open(dest / "links.csv", encoding="utf-8", newline="") as handle:
        links = list(csv.DictReader(handle))
    by_item: dict[str, dict[str, str]] = {}
    for link in links:
        if link["kind"] == "item":
            by_item.setdefault(link["id"], {})[link["size"]] = link["flickr_url"]
            assert link["local_path"] == rows[link["id"]]["path"] and (dest / link["local_path"]).is_file()
        else:
            assert (dest / link["local_path"]).is_dir()
    assert set(by_item) == set(rows)
    for item_id, urls in by_item.items():
        assert urls["page"].endswith(f"/{item_id}/") and urls["short"].startswith("https://flic.kr/p/")
        raw = json.loads(rows[item_id]["raw"])
        if rows[item_id]["is_public"] == 1:  # a non-public item's image URLs only on request
            assert f"{item_id}_{raw['secret']}_b.jpg" in urls["l"]
        else:
            assert set(urls) == {"page", "short"}
    albums = {r["id"] for r in catalog_rows(dest, "SELECT id FROM albums")}
    assert {link["id"] for link in links if link["kind"] == "album"} == albums


def test_short_urls_are_flickrs_base58():
    import flickrapi.shorturl

    from flickr_exodus.layout.tree import short_url
    # flickrapi's documented example, and its own encoder on a spread of ids.
    assert short_url("4325695128") == "https://flic.kr/p/7Afjsu"
    for photo_id in ("1", "57", "58", "2904", "50365268606", "53999999999"):
        assert short_url(photo_id) == "https://flic.kr/p/" + flickrapi.shorturl.encode(photo_id)


def test_no_deep_skips_the_pass_and_a_later_run_catches_up(make_sandbox, tmp_path):
    client = make_sandbox(photos=20, videos=1, albums=2, seed=46, video_access="oauth",
                          media_size=(2_000, 3_000), video_size=(20_000, 30_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    shallow = exodus(["backup", str(dest), "--json", "--no-deep"], env)
    assert shallow.returncode == 0, shallow.stderr
    assert "flickr.photos.getInfo" not in client.stats()["api_calls"]
    assert {r["deep_done"] for r in catalog_rows(dest)} == {0}
    assert any("--no-deep" in note for note in json.loads(shallow.stdout)["notes"])
    # Killed in the middle of the deep pass: the rerun asks only for what is left.
    killed = exodus(["backup", str(dest), "--json"], {**env, "EXODUS_DIE_AT": "deep-item:8"})
    assert killed.returncode == -9
    done_before = sum(r["deep_done"] for r in catalog_rows(dest))
    assert 8 <= done_before < 21
    before = client.stats()["api_calls"].get("flickr.photos.getInfo", 0)
    finished = exodus(["backup", str(dest), "--json"], env)
    assert finished.returncode == 0, finished.stderr
    assert {r["deep_done"] for r in catalog_rows(dest)} == {1}
    assert client.stats()["api_calls"]["flickr.photos.getInfo"] - before == 21 - done_before


def test_faves_are_downloaded_and_xmp_is_remembered(make_sandbox, tmp_path):
    client = make_sandbox(photos=5, videos=0, albums=1, seed=47, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    first = exodus(["backup", str(dest), "--json", "--faves", "--xmp"], env)
    assert first.returncode == 0, first.stderr
    faves = catalog_rows(dest, "SELECT id, url FROM favorites")
    files = sorted((dest / "faves").iterdir())
    assert len(files) == len(faves) > 0 and json.loads(first.stdout)["this_run"]["faves"]["saved"] == len(faves)
    for fave in faves:
        local = next(f for f in files if f.name.startswith(fave["id"] + "_"))
        assert local.read_bytes() == client.http.get(fave["url"], timeout=30).content
    # A later run without --xmp keeps writing XMP sidecars for new items.
    added = client.control("add", title="later")["items"][0]
    again = exodus(["backup", str(dest), "--json"], env)
    assert again.returncode == 0, again.stderr
    path = catalog_rows(dest, "SELECT path FROM photos WHERE id = ?", [added["id"]])[0]["path"]
    assert (dest / (path + ".xmp")).is_file()
