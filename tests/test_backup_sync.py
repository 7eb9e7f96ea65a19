"""A later `exodus backup` on the same DEST applies exactly what changed on Flickr: edits,
new comments, replaced originals (the earlier file kept under a dated name), deletions
(kept locally as remote_gone), album moves; and it spends calls only on what changed."""

from __future__ import annotations

import json
import os
import time

from conftest import catalog_rows, exodus, exodus_env, sha256_file


def records(client) -> dict[str, dict]:
    return {r["id"]: r for r in client.http.get(f"{client.base}/__sandbox__/records").json()["items"]}


def calls_between(before: dict, after: dict) -> dict[str, int]:
    return {m: n - before["api_calls"].get(m, 0) for m, n in after["api_calls"].items()
            if n - before["api_calls"].get(m, 0)}


def test_second_run_applies_exactly_the_changes(make_sandbox, tmp_path):
    client = make_sandbox(photos=40, videos=2, albums=4, seed=43, video_access="oauth",
                          media_size=(3_000, 8_000), video_size=(20_000, 30_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    # Pick one item for each kind of change, so that their costs do not overlap.
    rec = records(client)
    plain = [i for i, r in rec.items() if r["media"] == "photo" and not r["people"]]
    mover = next(i for i in plain if len(rec[i]["albums"]) >= 2)
    source, target = rec[mover]["albums"][:2]
    client.control("album", id=target, remove=[mover])  # so that it can move there later
    rec = records(client)
    first = exodus(["backup", str(dest), "--json"], env)
    assert first.returncode == 0, first.stderr
    before_rows = {r["id"]: r for r in catalog_rows(dest)}
    # A deleted photo leaves its albums: those change too (prefer one in none).
    deleted = min((i for i in plain if i != mover), key=lambda i: len(rec[i]["albums"]))
    edited, commented, replaced = [i for i in plain if i not in (mover, deleted)][:3]
    changed_albums = {source, target} | set(rec[deleted]["albums"])

    client.control("edit", id=edited, title="Новое имя — a new title", description="edited")
    client.control("comment", id=commented, text="A comment that came later")
    old_file = dest / before_rows[replaced]["path"]
    old_sha = before_rows[replaced]["sha256"]
    client.control("replace", id=replaced)
    client.control("delete", id=deleted)
    client.control("album", id=source, remove=[mover])
    client.control("album", id=target, add=[mover])

    before = client.stats()
    second = exodus(["backup", str(dest), "--json"], env)
    after = client.stats()
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    rows = {r["id"]: r for r in catalog_rows(dest)}
    manifest = client.manifest()

    # Edited: the catalog and the sidecar say the new title.
    assert rows[edited]["title"] == "Новое имя — a new title" and rows[edited]["description"] == "edited"
    side = json.loads((dest / (rows[edited]["path"] + ".json")).read_text(encoding="utf-8"))
    assert side["title"] == "Новое имя — a new title"
    # Commented: the new comment is in the catalog and the sidecar.
    texts = [c["text"] for c in catalog_rows(dest, "SELECT text FROM comments WHERE photo_id = ?", [commented])]
    assert "A comment that came later" in texts
    # Replaced: the new original at the same path, the earlier one kept under a dated name.
    assert rows[replaced]["sha256"] == manifest[replaced]["sha256"] == sha256_file(dest / rows[replaced]["path"])
    assert rows[replaced]["sha256"] != old_sha and rows[replaced]["path"] == before_rows[replaced]["path"]
    versions = catalog_rows(dest, "SELECT * FROM versions WHERE photo_id = ?", [replaced])
    assert len(versions) == 1 and versions[0]["sha256"] == old_sha
    kept = dest / versions[0]["path"]
    assert ".replaced-" + time.strftime("%Y%m%d", time.gmtime()) in kept.name
    assert kept.suffix == old_file.suffix and sha256_file(kept) == old_sha
    assert summary["this_run"]["replaced"] == 1 and summary["this_run"]["downloaded"] == 1
    # Deleted on Flickr by someone else: kept here, flagged, with the date it went.
    assert rows[deleted]["state"] == "remote_gone" and rows[deleted]["gone_at"]
    assert sha256_file(dest / rows[deleted]["path"]) == before_rows[deleted]["sha256"]
    # Moved between albums: the catalog and the album links follow.
    members = {(r["album_id"], r["photo_id"]) for r in catalog_rows(dest, "SELECT * FROM album_photos")}
    assert (target, mover) in members and (source, mover) not in members
    linked = {p.parent.name.rsplit("_", 1)[-1] for p in (dest / "albums").rglob("*")
              if p.is_symlink() and os.readlink(p).endswith(rows[mover]["path"])}
    assert linked == set(rec[mover]["albums"]) - {source} | {target}
    # Nothing else changed.
    for item_id, row in rows.items():
        if item_id not in (edited, commented, replaced, deleted):
            assert row["sha256"] == before_rows[item_id]["sha256"], item_id
            assert row["state"] == "downloaded"

    # Calls: the listing calls, plus per changed item its getInfo (edited, commented,
    # replaced: their last_update moved) and the comments of the commented one; per
    # changed album one getPhotos page. No getSizes: the replaced item is a photo.
    calls = calls_between(before, after)
    assert calls == {"flickr.test.login": 1, "flickr.people.getInfo": 1, "flickr.people.getPhotos": 1,
                     "flickr.photosets.getList": 1, "flickr.collections.getTree": 1,
                     "flickr.favorites.getList": 1, "flickr.photosets.getPhotos": len(changed_albums),
                     "flickr.photos.getInfo": 3, "flickr.photos.comments.getList": 1}, calls
    assert after["bytes_served"] - before["bytes_served"] == manifest[replaced]["size"]


def test_a_kill_while_setting_a_replaced_file_aside_is_finished_by_the_rerun(make_sandbox, tmp_path):
    """record -> rename -> release: a kill -9 between the record and the rename is picked
    up by the next run, and the earlier file is neither lost nor kept twice."""
    client = make_sandbox(photos=6, videos=0, albums=1, seed=44, media_size=(3_000, 4_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    victim = sorted(client.manifest())[2]
    old = catalog_rows(dest, "SELECT path, sha256 FROM photos WHERE id = ?", [victim])[0]
    client.control("replace", id=victim)
    killed = exodus(["backup", str(dest), "--json"], {**env, "EXODUS_DIE_AT": "after-version:1"})
    assert killed.returncode == -9
    assert sha256_file(dest / old["path"]) == old["sha256"]  # not moved yet
    done = exodus(["backup", str(dest), "--json"], env)
    assert done.returncode == 0, done.stderr
    versions = catalog_rows(dest, "SELECT path, sha256 FROM versions WHERE photo_id = ?", [victim])
    assert len(versions) == 1 and sha256_file(dest / versions[0]["path"]) == old["sha256"]
    now = catalog_rows(dest, "SELECT path, sha256, state FROM photos WHERE id = ?", [victim])[0]
    assert now["state"] == "downloaded" and now["path"] == old["path"]
    assert now["sha256"] == client.manifest()[victim]["sha256"] == sha256_file(dest / now["path"])
    # The earlier file's sidecar went with it; the new one has its own.
    assert json.loads((dest / (versions[0]["path"] + ".json")).read_text())["original"]["sha256"] == old["sha256"]
    assert json.loads((dest / (now["path"] + ".json")).read_text())["original"]["sha256"] == now["sha256"]


def test_a_large_account_syncs_through_recently_updated_until_something_is_deleted(make_sandbox, tmp_path):
    # 1,100 items: a full listing is 3 pages; what changed fits on one.
    client = make_sandbox(photos=1100, videos=0, albums=1, seed=45, media_size=(300, 600))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json", "--no-deep"], env).returncode == 0
    ids = sorted(client.manifest())
    client.control("edit", id=ids[10], title="edited later")
    added = client.control("add", title="uploaded later")["items"][0]

    before = client.stats()
    second = exodus(["backup", str(dest), "--json", "--no-deep"], env)
    assert second.returncode == 0, second.stderr
    calls = calls_between(before, client.stats())
    listing = json.loads(second.stdout)["listing"]
    assert listing["incremental"] and listing["complete"] and listing["changed"] == 2
    assert calls.get("flickr.people.getPhotos", 0) == 0 and calls["flickr.photos.recentlyUpdated"] == 1
    rows = {r["id"]: r for r in catalog_rows(dest)}
    assert rows[ids[10]]["title"] == "edited later"
    assert rows[added["id"]]["state"] == "downloaded" and rows[added["id"]]["sha256"] == added["sha256"]

    # A deletion does not show in recentlyUpdated; the count gives it away, and the full
    # listing that follows finds which item went.
    client.control("delete", id=ids[20])
    before = client.stats()
    third = exodus(["backup", str(dest), "--json", "--no-deep"], env)
    assert third.returncode == 0, third.stderr
    calls = calls_between(before, client.stats())
    listing = json.loads(third.stdout)["listing"]
    assert not listing["incremental"] and listing["complete"] and listing["gone"] == 1
    assert calls["flickr.photos.recentlyUpdated"] == 1 and calls["flickr.people.getPhotos"] == 3
    assert catalog_rows(dest, "SELECT state FROM photos WHERE id = ?", [ids[20]])[0]["state"] == "remote_gone"


def test_a_relisting_keeps_what_the_download_learnt_of_a_video(make_sandbox, tmp_path):
    """A video's format comes from its download (Content-Disposition), not the listing,
    which describes the poster still: a later listing must not wipe it (found by chaos.py)."""
    client = make_sandbox(photos=3, videos=2, albums=1, seed=44, video_access="oauth",
                          media_size=(2_000, 3_000), video_size=(20_000, 30_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    query = "SELECT id, original_format, path FROM photos WHERE media = 'video' ORDER BY id"
    first = catalog_rows(dest, query)
    assert all(r["original_format"] and r["path"].endswith("." + r["original_format"]) for r in first)
    for row in first:  # a change on Flickr makes the next run list the item again
        client.control("edit", id=row["id"], title="renamed on Flickr")
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert [r["original_format"] for r in catalog_rows(dest, query)] == [r["original_format"] for r in first]
    for row in first:
        sidecar = json.loads((dest / (catalog_rows(dest, "SELECT path FROM photos WHERE id = ?", [row["id"]])[0]
                                      ["path"] + ".json")).read_text())
        assert sidecar["original"]["format"] == row["original_format"]
