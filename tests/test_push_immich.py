"""`exodus push DEST immich://HOST` against the in-repo fake Immich (tests/immich_fake.py),
in both of Immich's upload schemas: every item arrives once, byte for byte, with its
description, date, GPS, albums in Flickr's order and tags; reruns send nothing; an edit
or a replacement sends exactly that item; a kill -9 leaves no duplicate asset."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from conftest import backed_up, catalog_rows, exodus, private_copy, sha256_file
from flickr_exodus.sandbox import SandboxConfig
from immich_fake import FakeImmich

KEY = "immich-test-key"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    config = SandboxConfig(photos=16, videos=2, albums=3, seed=121, video_access="oauth",
                           media_size=(3_000, 6_000), video_size=(20_000, 40_000))
    with backed_up(tmp_path_factory.mktemp("immich"), config, "--xmp", "--faves") as account:
        yield account


@pytest.fixture
def copy(finished, tmp_path):
    client, env, dest = private_copy(finished, tmp_path)
    return client, {**env, "IMMICH_API_KEY": KEY, "EXODUS_BACKOFF": "0"}, dest


@pytest.fixture(params=[3, 2], ids=["immich-3", "immich-2"])
def immich(request):
    fake = FakeImmich(schema=request.param, api_key=KEY).start()
    yield fake
    fake.stop()


def push(env, dest, target, *args):
    done = exodus(["push", str(dest), target, "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done


def items(dest) -> list[dict]:
    return catalog_rows(dest, "SELECT * FROM photos WHERE sha256 IS NOT NULL ORDER BY id")


def faves(dest) -> list:
    return sorted((dest / "faves").iterdir())


def test_everything_arrives_as_sent_and_a_rerun_sends_nothing(copy, immich):
    _, env, dest = copy
    code, report, done = push(env, dest, f"immich://{immich.url}")
    assert code == 0, done.stdout + done.stderr
    mine, theirs = items(dest), faves(dest)
    assert theirs, "the sandbox account has favorites"
    assert len(immich.assets) == len(mine) + len(theirs) == report["counts"]["sent"]
    there = immich.by_name()
    for row in mine:
        asset = there[os.path.basename(row["path"])]
        assert asset["sha256"] == row["sha256"]
        exif = asset["exifInfo"]
        assert exif["description"] == "\n\n".join(p for p in (row["title"], row["description"]) if p and p.strip())
        assert exif["dateTimeOriginal"] == row["date_taken"].replace(" ", "T")
        if row["latitude"] is not None:
            assert (exif["latitude"], exif["longitude"]) == (row["latitude"], row["longitude"])
        assert asset["isFavorite"] is False
        assert asset["sidecar"] == (dest / (row["path"] + ".xmp")).read_bytes()
        sidecar = json.loads((dest / (row["path"] + ".json")).read_text())
        words = {t["raw"] for t in sidecar["tags_raw"] or [] if not t["machine"]} or set(sidecar["tags"])
        assert immich.tag_values(asset["id"]) == {f"Flickr/{w}" for w in words}
    assert any(row["latitude"] is not None for row in mine)
    for fave in theirs:
        asset = there[fave.name]
        assert asset["isFavorite"] is True and asset["sha256"] == sha256_file(fave)
    # Albums: every Flickr album (two share a title), its photos in Flickr's order.
    assert len(immich.albums) == len(catalog_rows(dest, "SELECT id FROM albums"))
    for album in catalog_rows(dest, "SELECT * FROM albums"):
        order = [os.path.basename(r["path"]) for r in catalog_rows(
            dest, "SELECT p.path FROM album_photos ap JOIN photos p ON p.id = ap.photo_id "
                  "WHERE ap.album_id = ? ORDER BY ap.position", [album["id"]])]
        made = immich.albums[catalog_rows(dest, "SELECT etag FROM pushes WHERE key = ?",
                                          [f"album:{album['id']}"])[0]["etag"]]
        assert made["albumName"] == album["title"]
        assert [immich.assets[a]["originalFileName"] for a in made["assets"]] == order
        assert made["description"] == (album["description"] or "")
    # The rerun: nothing but the three probes.
    before = len(immich.calls)
    code, report, _ = push(env, dest, f"immich://{immich.url}")
    assert code == 0 and report["counts"]["sent"] == 0
    assert report["counts"]["unchanged"] == len(mine) + len(theirs)
    assert immich.calls[before:] == ["GET /api/server/ping", "GET /api/users/me", "GET /api/server/version"]


def test_an_edit_or_a_replacement_sends_exactly_that_item(copy, immich):
    client, env, dest = copy
    target = f"immich://{immich.url}"
    assert push(env, dest, target)[0] == 0
    edited, replaced = [r for r in items(dest) if r["media"] == "photo"][:2]
    client.control("edit", id=edited["id"], title="A new title")
    client.control("replace", id=replaced["id"])
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    before, count = len(immich.calls), len(immich.assets)
    code, report, done = push(env, dest, target)
    assert code == 0, done.stdout
    calls = immich.calls[before:]
    assert calls.count("POST /api/assets") == 1 and len(immich.assets) == count + 1
    new = immich.by_name()[os.path.basename(catalog_rows(dest, "SELECT path FROM photos WHERE id = ?",
                                                         [replaced["id"]])[0]["path"])]
    assert new["sha256"] == catalog_rows(dest, "SELECT sha256 FROM photos WHERE id = ?", [replaced["id"]])[0]["sha256"]
    updated = [c for c in calls if c.startswith("PUT /api/assets/")]
    assert len(updated) == 2  # the edited item's metadata and the new file's
    asset = immich.by_name()[os.path.basename(edited["path"])]
    assert asset["exifInfo"]["description"].startswith("A new title")
    assert report["counts"]["sent"] == 1 and report["counts"]["described"] == 2


def test_kill_9_mid_push_then_rerun_leaves_no_duplicate(copy, immich):
    _, env, dest = copy
    target = f"immich://{immich.url}"
    done = exodus(["push", str(dest), target, "--concurrency", "2"], {**env, "EXODUS_DIE_AT": "push-item:5"})
    assert done.returncode == -9  # five assets in Immich, fewer recorded
    assert len(catalog_rows(dest, "SELECT * FROM pushes")) < 5 <= len(immich.assets)
    immich.fail_uploads = 2  # and two server errors on the way: retried
    code, report, done = push(env, dest, target)
    assert code == 0, done.stdout
    expected = len(items(dest)) + len(faves(dest))
    assert len(immich.assets) == expected
    assert len({a["checksum"] for a in immich.assets.values()}) == expected
    recorded = catalog_rows(dest, "SELECT key, etag FROM pushes WHERE size IS NOT NULL")
    assert len(recorded) == expected and {r["etag"] for r in recorded} == set(immich.assets)
    assert all(len(a["assets"]) == len(set(a["assets"])) for a in immich.albums.values())
    assert len(immich.albums) == len(catalog_rows(dest, "SELECT id FROM albums"))


def test_an_item_trashed_in_immich_is_left_there(copy, immich):
    _, env, dest = copy
    target = f"immich://{immich.url}"
    assert push(env, dest, target)[0] == 0
    victim = items(dest)[0]
    asset = immich.by_name()[os.path.basename(victim["path"])]
    asset["isTrashed"] = True
    import sqlite3
    with sqlite3.connect(dest / "catalog.db") as conn:  # as if its push had never been recorded
        conn.execute("DELETE FROM pushes WHERE key = ?", [victim["path"]])
    count = len(immich.assets)
    code, report, done = push(env, dest, target)
    assert code == 0 and report["counts"]["trashed"] == 1 and len(immich.assets) == count
    assert "trash" in exodus(["push", str(dest), target], env).stdout


def test_wrong_key_unreachable_host_and_no_key(copy, immich):
    _, env, dest = copy
    cases = [({**env, "IMMICH_API_KEY": "wrong"}, f"immich://{immich.url}", "refused the API key"),
             (env, "immich://127.0.0.1:9", "cannot reach"),
             ({k: v for k, v in env.items() if k != "IMMICH_API_KEY"}, f"immich://{immich.url}", "IMMICH_API_KEY"),
             (env, f"immich://{immich.url}/photos", "expected immich://HOST")]
    for environment, target, words in cases:
        done = exodus(["push", str(dest), target], environment)
        assert done.returncode == 2 and words in done.stderr, (target, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "wrong" not in done.stderr
    assert catalog_rows(dest, "SELECT * FROM pushes") == [] and not immich.assets


def test_dry_run_counts_what_would_go(copy, immich):
    _, env, dest = copy
    code, report, _ = push(env, dest, f"immich://{immich.url}", "--dry-run")
    assert code == 0 and report["counts"]["would_send"] == len(items(dest)) + len(faves(dest))
    assert not immich.assets and catalog_rows(dest, "SELECT * FROM pushes") == []


def test_a_known_checksum_is_answered_before_the_body(immich, tmp_path):
    """The server answers 'duplicate' at once and closes the connection mid-body: the
    upload still yields the existing asset's id."""
    from flickr_exodus.targets.immich import ImmichTarget

    big = tmp_path / "big.jpg"
    big.write_bytes(os.urandom(8 << 20))
    import hashlib
    sha1 = hashlib.sha1(big.read_bytes()).hexdigest()

    async def twice():
        target = ImmichTarget(f"http://{immich.url}", KEY)
        await target.open()
        try:
            first = await target.upload(big, sha1, "2020-01-01T00:00:00", "2020-01-01T00:00:00", False, None)
            received = immich.uploads_received
            second = await target.upload(big, sha1, "2020-01-01T00:00:00", "2020-01-01T00:00:00", False, None)
            return first, second, received
        finally:
            await target.close()

    first, second, received = asyncio.run(twice())
    assert first == second and len(immich.assets) == 1
    assert immich.uploads_received == received  # the second body was never read


def test_the_api_key_goes_to_immich_only(copy, immich):
    """A redirect to another host (localhost is not 127.0.0.1 to a client, though both are
    loopback) is followed without x-api-key; one on Immich's own host keeps it."""
    from aiohttp import web

    from threaded_app import ThreadedApp

    _, env, dest = copy
    seen = []

    async def version(request):
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return web.json_response(immich.version)

    app = web.Application()
    app.router.add_get("/{tail:.*}", version)
    other = ThreadedApp(app, "another host")
    port = other.start().rsplit(":", 1)[1]
    try:
        immich.redirects = {"/api/server/version": f"http://localhost:{port}/api/server/version",
                            "/api/server/ping": f"http://{immich.url}/api/server/ping?hop=1"}
        code, report, done = push(env, dest, f"immich://{immich.url}")
    finally:
        other.stop()
    # The ping went round the same host with the key (without it Immich answers 401).
    assert code == 0, done.stdout + done.stderr
    assert "GET /api/server/ping" in immich.calls
    assert len(seen) == 1 and "x-api-key" not in seen[0]
    assert KEY not in json.dumps(seen)
