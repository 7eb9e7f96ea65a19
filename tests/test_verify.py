"""`exodus verify` against real backups of the sandbox: a clean backup proves whole;
every kind of damage, locally and on Flickr, is found and named; --repair, backup, verify
comes back clean; bad input gets one line and changes nothing."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sqlite3

import pytest
from PIL import Image

from conftest import backed_up, catalog_rows, exodus, exodus_env, private_copy, sha256_file
from flickr_exodus.sandbox import SandboxConfig, media
from flickr_exodus.media import facts
from flickr_exodus.catalog import Item, State
from flickr_exodus.verify.local import check_item


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    """One finished backup (all photos the same size, so that two can be swapped)."""
    config = SandboxConfig(photos=24, videos=3, albums=3, seed=61, video_access="oauth",
                           media_size=(6_000, 6_000), video_size=(30_000, 50_000))
    with backed_up(tmp_path_factory.mktemp("verify"), config) as account:
        yield account


@pytest.fixture
def copy(backup, tmp_path):
    """A private copy of the finished backup to damage."""
    return private_copy(backup, tmp_path)


def verify(dest, env, *args):
    done = exodus(["verify", str(dest), "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done


def kinds(report) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for problem in report["problems"]:
        out.setdefault(problem["kind"], set()).add(problem["id"])
    return out


def test_a_clean_backup_verifies_and_records_what_was_proved(copy):
    _, env, dest = copy
    code, report, done = verify(dest, env)
    assert code == 0, done.stdout
    assert report["ok"] and report["problems"] == [] and report["needs_user"] == []
    rows = catalog_rows(dest)
    assert report["counts"]["whole"] == report["counts"]["items_with_files"] == len(rows)
    for row in rows:
        assert row["verified_at"]
        record = json.loads(row["verified"])
        assert record["sha256"] is True
        # Each file agreed with something Flickr stated on its own.
        assert "content_length" in record["confirmed_by"]
        assert ("duration" if row["media"] == "video" else "pixel_size") in record["confirmed_by"]
    text = exodus(["verify", str(dest)], env)
    assert text.returncode == 0 and "whole" in text.stdout


def test_every_kind_of_local_damage_is_found_and_named(copy):
    _, env, dest = copy
    rows = catalog_rows(dest, "SELECT * FROM photos ORDER BY id")
    photos = [r for r in rows if r["media"] == "photo"]
    videos = [r for r in rows if r["media"] == "video"]
    assert len({r["size"] for r in photos}) == 1  # the fixture made them all the same size

    flipped, swapped_a, swapped_b, deleted = photos[0], photos[1], photos[2], photos[3]
    truncated, renamed = videos[0], videos[1]
    path = dest / flipped["path"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    a, b = dest / swapped_a["path"], dest / swapped_b["path"]
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)
    (dest / deleted["path"]).unlink()
    video = dest / truncated["path"]
    video.write_bytes(video.read_bytes()[: truncated["size"] // 2])
    # A JPEG under a video's name.
    (dest / renamed["path"]).write_bytes((dest / photos[4]["path"]).read_bytes())
    stray = dest / "photos" / "2001" / "01" / "01" / "holiday.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\xff\xd8\xff mine")
    leftover = dest / (photos[5]["path"] + ".part")
    leftover.write_bytes(b"partial")
    link = next(p for p in (dest / "albums").rglob("*") if p.is_symlink())
    link.unlink()
    os.symlink("../../photos/nowhere.jpg", link)

    code, report, _ = verify(dest, env)
    assert code == 1 and not report["ok"]
    found = kinds(report)
    assert flipped["id"] in found["hash_mismatch"]
    assert {swapped_a["id"], swapped_b["id"]} <= found["hash_mismatch"]
    assert found["missing"] == {deleted["id"]}
    assert truncated["id"] in found["size_mismatch"] and truncated["id"] in found["length_mismatch"]
    assert renamed["id"] in found["wrong_format"]
    assert found["stray"] == {stray.relative_to(dest).as_posix()}
    assert found["part_leftover"] == {leftover.relative_to(dest).as_posix()}
    # The planted link, and the album links of the deleted file.
    to_deleted = {p.relative_to(dest).as_posix() for p in (dest / "albums").rglob("*")
                  if p.is_symlink() and os.readlink(p).endswith(deleted["path"])}
    assert found["broken_link"] == {link.relative_to(dest).as_posix()} | to_deleted
    damaged = {flipped["id"], swapped_a["id"], swapped_b["id"], deleted["id"], truncated["id"], renamed["id"]}
    assert report["counts"]["damaged"] == len(damaged)
    after = {r["id"]: r for r in catalog_rows(dest)}
    assert all(after[i]["verified_at"] is None for i in damaged)
    assert all(after[r["id"]]["verified_at"] for r in rows if r["id"] not in damaged)

    # --repair hands them back to the backup; then everything is whole again.
    code, report, _ = verify(dest, env, "--repair")
    assert code == 1 and report["repaired"]["items_refetch"] == len(damaged)
    assert report["repaired"]["strays_moved"] == 1 and (dest / "unknown-files" / "photos" / "2001").is_dir()
    assert not leftover.exists() and not link.is_symlink()
    again = exodus(["backup", str(dest), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["this_run"]["downloaded"] == len(damaged)
    code, report, done = verify(dest, env)
    assert code == 0, done.stdout
    for item_id in damaged:
        row = catalog_rows(dest, "SELECT path, sha256 FROM photos WHERE id = ?", [item_id])[0]
        assert sha256_file(dest / row["path"]) == row["sha256"]


def test_fast_checks_sizes_and_records_no_proof(copy):
    _, env, dest = copy
    photo = catalog_rows(dest, "SELECT * FROM photos WHERE media = 'photo' LIMIT 1")[0]
    path = dest / photo["path"]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # same size, same header: only a hash can tell
    path.write_bytes(bytes(data))
    code, report, _ = verify(dest, env, "--fast", "--jobs", "1")
    assert code == 0 and report["counts"]["whole"] == report["counts"]["items_with_files"]
    assert {r["verified_at"] for r in catalog_rows(dest)} == {None}
    code, report, _ = verify(dest, env, "--jobs", "2")
    assert code == 1 and kinds(report)["hash_mismatch"] == {photo["id"]}


def test_bad_input_is_one_line_and_changes_nothing(copy, tmp_path):
    _, env, dest = copy
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, tmp_path / "nowhere"):
        done = exodus(["verify", str(target)], env)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (empty / "catalog.db").exists()

    conn = sqlite3.connect(dest / "catalog.db")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = sha256_file(dest / "catalog.db")
    done = exodus(["verify", str(dest)], env)
    assert done.returncode == 2 and "newer exodus" in done.stderr and "Traceback" not in done.stderr
    assert sha256_file(dest / "catalog.db") == before


def test_a_file_replaced_by_a_folder_is_damage_not_a_crash(copy):
    _, env, dest = copy
    photo = catalog_rows(dest, "SELECT * FROM photos WHERE media = 'photo' LIMIT 1")[0]
    (dest / photo["path"]).unlink()
    (dest / photo["path"]).mkdir()
    code, report, _ = verify(dest, env)
    assert code == 1 and kinds(report)["not_a_file"] == {photo["id"]}


def test_remote_check_finds_what_changed_on_flickr(make_sandbox, tmp_path):
    client = make_sandbox(photos=30, videos=1, albums=3, seed=62, video_access="oauth",
                          media_size=(3_000, 5_000), video_size=(20_000, 30_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    before = client.stats()["api_calls"]
    code, report, done = verify(dest, env, "--remote")
    assert code == 0, done.stdout
    calls = {m: n - before.get(m, 0) for m, n in client.stats()["api_calls"].items() if n - before.get(m, 0)}
    items = len(client.manifest())
    assert calls == {"flickr.test.login": 1, "flickr.people.getInfo": 1,
                     "flickr.people.getPhotos": math.ceil(items / 500), "flickr.photosets.getList": 1,
                     "flickr.collections.getTree": 1}
    assert all(json.loads(r["verified"])["remote"] for r in catalog_rows(dest))

    records = {r["id"]: r for r in client.http.get(f"{client.base}/__sandbox__/records").json()["items"]}
    ids = sorted(i for i, r in records.items() if r["media"] == "photo")
    mover = next(i for i in ids if records[i]["albums"])
    source = records[mover]["albums"][0]
    target = next(a for a in sorted({a for r in records.values() for a in r["albums"]}) if a != source)
    replaced, deleted = [i for i in ids if i != mover][:2]
    added = client.control("add", title="after the backup")["items"][0]["id"]
    client.control("replace", id=replaced)
    client.control("delete", id=deleted)
    client.control("album", id=source, remove=[mover])
    client.control("album", id=target, add=[mover])

    code, report, _ = verify(dest, env, "--remote")
    assert code == 1
    found = kinds(report)
    assert found["new_on_flickr"] == {added}
    assert replaced in found["stale"]
    assert found["gone_from_flickr"] == {deleted}
    assert {source, target} <= found["album_changed"]
    assert catalog_rows(dest, "SELECT verified_at FROM photos WHERE id = ?", [replaced])[0]["verified_at"] is None

    code, report, _ = verify(dest, env, "--remote", "--repair")
    assert code == 1 and report["repaired"]["relist"] == 1
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    code, report, done = verify(dest, env, "--remote")
    assert code == 0, done.stdout
    assert catalog_rows(dest, "SELECT state FROM photos WHERE id = ?", [deleted])[0]["state"] == "remote_gone"


def test_a_truncated_file_whose_hash_the_catalog_trusts_is_still_not_whole(copy):
    """An export-imported file cut short: its size and sha256 went into the catalog as they
    were, and its header still states Flickr's pixel size. Only its structure tells."""
    _, env, dest = copy
    photo = catalog_rows(dest, "SELECT * FROM photos WHERE media = 'photo' ORDER BY id LIMIT 1")[0]
    path = dest / photo["path"]
    data = path.read_bytes()
    cut = data[:data.rindex(b"\xff\xda") + 12]  # the frame header and a little of the scan
    path.write_bytes(cut)
    width, height = facts.pixel_size(io.BytesIO(cut))
    conn = sqlite3.connect(dest / "catalog.db")
    conn.execute("UPDATE photos SET size = ?, sha256 = ?, expected_size = ?, o_width = ?, o_height = ? "
                 "WHERE id = ?", [len(cut), hashlib.sha256(cut).hexdigest(), len(cut), width, height, photo["id"]])
    conn.commit()
    conn.close()

    code, report, done = verify(dest, env)
    assert code == 1 and not report["ok"], done.stdout
    assert kinds(report) == {"truncated": {photo["id"]}}
    detail = next(p["detail"] for p in report["problems"] if p["kind"] == "truncated")
    assert detail.startswith("JPEG:") and "FFD9" in detail
    assert catalog_rows(dest, "SELECT verified_at FROM photos WHERE id = ?", [photo["id"]])[0]["verified_at"] is None
    text = exodus(["verify", str(dest)], env)
    assert text.returncode == 1 and f"{photo['id']} truncated" in text.stdout


def _row(dest, name: str, data: bytes, media: str = "photo") -> Item:
    """A catalog item for a file written here, with its sidecar, as Catalog.items gives it."""
    (dest / name).write_bytes(data)
    (dest / (name + ".json")).write_text(json.dumps({"id": "7"}))
    return Item(id="7", media=media, state=State.DOWNLOADED, path=name, size=len(data),
                sha256=hashlib.sha256(data).hexdigest(), expected_size=len(data), o_width=None,
                o_height=None, kept_size=None, duration=None, source=None)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_check_item_records_the_hash_and_size_it_read(tmp_path):
    data = _jpeg()
    row = _row(tmp_path, "a.jpg", data)
    seen = []
    result = check_item(tmp_path, row, False, seen.append)
    assert result.whole and result.hashed and result.structure == "whole"
    assert result.sha256 == row["sha256"] and result.size == len(data) and sum(seen) == len(data)
    fast = check_item(tmp_path, row, True, seen.append)
    assert fast.whole and fast.sha256 is None and fast.size == len(data)
    assert fast.structure == "not_checked_fast"  # a JPEG's end is found only by reading it all

    video = media.video("mp4", 20_000, 2, 64, 48, seed=1, base=2).bytes()
    row = _row(tmp_path, "b.mp4", video[:-1], "video")
    fast = check_item(tmp_path, row, True, seen.append)  # the box sum needs only seeks
    assert fast.sha256 is None and [p.kind for p in fast.problems] == ["truncated"]


def test_check_item_never_reads_through_a_link_or_a_fifo(tmp_path):
    data = _jpeg()
    row = _row(tmp_path, "a.jpg", data)
    elsewhere = tmp_path / "elsewhere.jpg"
    elsewhere.write_bytes(data)
    (tmp_path / "a.jpg").unlink()
    os.symlink(elsewhere, tmp_path / "a.jpg")  # the very bytes the catalog expects, behind a link
    result = check_item(tmp_path, row, False, lambda n: None)
    assert [p.kind for p in result.problems] == ["not_a_file"] and "link" in result.problems[0].detail
    assert result.sha256 is None and result.size is None
    (tmp_path / "a.jpg").unlink()
    os.mkfifo(tmp_path / "a.jpg")  # opening it for reading would wait for a writer forever
    result = check_item(tmp_path, row, False, lambda n: None)
    assert [p.kind for p in result.problems] == ["not_a_file"]
