"""`exodus backup DEST --adopt`: a backup whose catalog was lost, emptied or damaged is
rebuilt from its own tree, sidecars and a fresh listing. The sandbox's CDN counts every
byte it serves: the proof that nothing already on disk is downloaded again."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import assert_complete, backed_up, catalog_rows, exodus, exodus_env, private_copy, sha256_file
from flickr_exodus.layout.companions import POSTER
from flickr_exodus.sandbox import SandboxConfig

ACCOUNT = dict(photos=8, videos=2, albums=3, seed=161, video_access="oauth", media_size=(3_000, 6_000),
               video_size=(20_000, 30_000), comment_share=0.6)


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A backed-up, verified account, shared: each test works on its own copy."""
    home = tmp_path_factory.mktemp("adopt")
    with backed_up(home, SandboxConfig(**ACCOUNT)) as (client, env, dest):
        assert exodus(["verify", str(dest)], env).returncode == 0
        yield client, env, dest


def lose(catalog: Path, how: str) -> bytes:
    """The catalog lost in one of the ways a user meets; the bytes left in its place."""
    for beside in ("catalog.db-wal", "catalog.db-shm"):
        (catalog.parent / beside).unlink(missing_ok=True)
    if how == "missing":
        catalog.unlink()
        return b""
    data = catalog.read_bytes()
    if how == "empty":
        data = b""
    elif how == "random":
        data = os.urandom(len(data))
    elif how == "truncated":  # an interrupted copy
        data = data[:len(data) // 2 + 1000]
    elif how == "pages":  # a valid header, garbage inside: only PRAGMA quick_check sees it
        damaged = bytearray(data)
        for page in range(2, len(data) // 4096, 2):
            damaged[page * 4096 + 8:page * 4096 + 208] = os.urandom(200)
        data = bytes(damaged)
    catalog.write_bytes(data)
    return data


def social(dest: Path) -> dict:
    return {"albums": catalog_rows(dest, "SELECT id, title FROM albums ORDER BY id"),
            "album_photos": catalog_rows(dest, "SELECT * FROM album_photos ORDER BY album_id, photo_id"),
            "comments": catalog_rows(dest, "SELECT id, photo_id, text FROM comments ORDER BY id")}


def adopt(client, env, dest: Path) -> tuple[int, dict]:
    """(bytes the CDN served during the run, the run's summary)."""
    before = client.stats()["bytes_served"]
    done = exodus(["backup", str(dest), "--adopt", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return client.stats()["bytes_served"] - before, json.loads(done.stdout)


@pytest.mark.parametrize("how", ["missing", "empty", "random", "truncated", "pages"])
def test_a_lost_catalog_is_adopted_without_downloading_a_byte_again(account, tmp_path, how):
    client, env, dest = private_copy(account, tmp_path)
    known = social(dest)
    assert known["albums"] and known["comments"]
    left = lose(dest / "catalog.db", how)

    served, summary = adopt(client, env, dest)

    assert served == 0
    assert summary["this_run"]["bytes"] == 0 and summary["this_run"]["downloaded"] == 0
    rows = assert_complete(client, dest)
    assert summary["this_run"]["adopted"]["files"] == len(rows)
    assert {r["source"] for r in rows.values()} == {"adopted"}
    assert social(dest) == known
    assert exodus(["verify", str(dest)], env).returncode == 0
    kept = sorted(p for p in dest.glob("catalog.db.damaged-*") if not p.name.endswith(("-wal", "-shm")))
    if how == "missing":
        assert not kept
    else:  # never deleted: set aside as it was
        assert len(kept) == 1 and kept[0].read_bytes() == left
        # SQLite may leave the -wal and -shm of a WAL catalog it could not read whole (where
        # the damage lies decides it): they go aside with it, and nothing was written there.
        wal = kept[0].with_name(kept[0].name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
    assert not (dest / "unknown-files").exists()
    assert catalog_rows(dest, "SELECT value FROM meta WHERE key = 'adopting'") == [{"value": "false"}]


def test_only_a_file_that_differs_is_fetched_again_and_it_is_kept_aside(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    manifest = client.manifest()
    rows = {r["id"]: r for r in catalog_rows(dest)}
    photos = sorted(i for i, r in rows.items() if r["media"] == "photo")
    altered, bare = photos[0], photos[1]
    video = next(i for i, r in rows.items() if r["media"] == "video")
    path = dest / rows[altered]["path"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same format, other bytes
    path.write_bytes(bytes(data))
    # Without its sidecar a photo still speaks for itself (whole, Flickr's pixel size);
    # a video, whose duration the listing does not state, does not.
    (dest / (rows[bare]["path"] + ".json")).unlink()
    (dest / (rows[video]["path"] + ".json")).unlink()
    lose(dest / "catalog.db", "missing")

    served, summary = adopt(client, env, dest)

    # The video's poster went aside with it (a companion of a file that agrees with nothing) and
    # was fetched again with the video.
    poster = rows[video]["path"] + POSTER
    assert (dest / "unknown-files" / poster).is_file()
    assert served == manifest[altered]["size"] + manifest[video]["size"] + (dest / poster).stat().st_size
    assert summary["this_run"]["downloaded"] == 2
    assert summary["this_run"]["adopted"]["aside"] == 2
    assert_complete(client, dest)
    aside = dest / "unknown-files" / rows[altered]["path"]
    assert aside.read_bytes() == bytes(data)  # kept, never overwritten
    assert (dest / "unknown-files" / (rows[altered]["path"] + ".json")).is_file()
    assert (dest / (rows[bare]["path"] + ".json")).is_file()  # written again
    assert exodus(["verify", str(dest)], env).returncode == 0


@pytest.mark.parametrize("how", ["missing", "empty", "random"])
def test_without_adopt_a_lost_catalog_is_refused_in_one_line_naming_adopt(account, tmp_path, how):
    client, env, dest = private_copy(account, tmp_path)
    left = lose(dest / "catalog.db", how)
    before = client.stats()["bytes_served"]
    done = exodus(["backup", str(dest)], env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("exodus: ") and "--adopt" in lines[0], done.stderr
    assert client.stats()["bytes_served"] == before
    assert (dest / "catalog.db").exists() == (how != "missing")
    if how != "missing":
        assert (dest / "catalog.db").read_bytes() == left


def test_adopt_on_a_healthy_catalog_says_so_and_runs_a_normal_backup(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    before = catalog_rows(dest, "SELECT id, path, sha256, source FROM photos ORDER BY id")
    done = exodus(["backup", str(dest), "--adopt"], env)
    assert done.returncode == 0, done.stderr
    assert "is whole: nothing needs adopting" in done.stderr
    assert catalog_rows(dest, "SELECT id, path, sha256, source FROM photos ORDER BY id") == before
    assert not list(dest.glob("catalog.db.damaged-*"))


def test_an_interrupted_adopt_is_finished_by_a_plain_rerun(account, tmp_path):
    """Killed after the fresh listing and before the tree was looked at: the catalog is
    sound, every item pending. The next run, with or without --adopt, adopts first."""
    client, env, dest = private_copy(account, tmp_path)
    lose(dest / "catalog.db", "random")
    killed = exodus(["backup", str(dest), "--adopt", "--json"], {**env, "EXODUS_DIE_AT": "adopt:1"})
    assert killed.returncode == -9
    assert {r["state"] for r in catalog_rows(dest)} == {"pending"}
    before = client.stats()["bytes_served"]
    done = exodus(["backup", str(dest), "--json"], env)
    assert done.returncode == 0, done.stderr
    assert client.stats()["bytes_served"] == before
    assert_complete(client, dest)
    assert not (dest / "unknown-files").exists()


def test_earlier_versions_and_items_deleted_on_flickr_come_back_from_the_tree(make_sandbox, tmp_path):
    client = make_sandbox(photos=6, videos=0, albums=1, seed=162, media_size=(3_000, 4_000), comment_share=1.0)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest)], env).returncode == 0
    first, second, deleted = sorted(client.manifest())[:3]
    client.control("replace", id=first)
    assert exodus(["backup", str(dest)], env).returncode == 0  # first's earlier original kept aside
    kept_first = catalog_rows(dest, "SELECT photo_id, path, size, sha256, original_secret FROM versions")
    assert len(kept_first) == 1
    old_second = catalog_rows(dest, "SELECT path, sha256, original_secret FROM photos WHERE id = ?", [second])[0]
    gone = catalog_rows(dest, "SELECT id, path, sha256, title FROM photos WHERE id = ?", [deleted])[0]
    gone_comments = catalog_rows(dest, "SELECT id, text FROM comments WHERE photo_id = ? ORDER BY id", [deleted])
    assert gone_comments
    client.control("delete", id=deleted)
    client.control("replace", id=second)  # while the catalog is lost
    lose(dest / "catalog.db", "missing")

    served, summary = adopt(client, env, dest)

    assert served == client.manifest()[second]["size"]  # the new original only
    assert summary["this_run"]["adopted"]["gone"] == 1
    versions = catalog_rows(dest, "SELECT photo_id, path, size, sha256, original_secret FROM versions "
                                  "ORDER BY photo_id")
    assert [v for v in versions if v["photo_id"] == first] == kept_first
    [again] = [v for v in versions if v["photo_id"] == second]
    assert again["sha256"] == old_second["sha256"] == sha256_file(dest / again["path"])
    assert again["original_secret"] == old_second["original_secret"]
    row = catalog_rows(dest, "SELECT id, path, sha256, title, state FROM photos WHERE id = ?", [deleted])[0]
    assert row == {**gone, "state": "remote_gone"}
    assert catalog_rows(dest, "SELECT id, text FROM comments WHERE photo_id = ? ORDER BY id",
                        [deleted]) == gone_comments
    assert exodus(["verify", str(dest)], env).returncode == 0


def test_adopt_into_a_new_folder_is_a_new_backup(account, tmp_path):
    client, env, _ = account
    dest = tmp_path / "new"
    done = exodus(["backup", str(dest), "--adopt"], env)
    assert done.returncode == 0, done.stderr
    assert "nothing to adopt; starting a new backup" in done.stderr
    rows = assert_complete(client, dest)
    assert {r["source"] for r in rows.values()} == {"api"}  # downloaded, as any new backup
