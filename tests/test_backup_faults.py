"""The backup against a hostile Flickr: injected faults, throttling, paging that drops
items, refused videos, items deleted mid-run. Every run must end with every file right."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import EXODUS, assert_complete, catalog_rows, exodus, exodus_env


def backed_up(client, tmp_path, **env):
    """One `exodus backup --json` into tmp_path/dest that must succeed: (dest, the run)."""
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--json"], exodus_env(client, tmp_path, **env))
    assert done.returncode == 0, done.stderr
    return dest, done


@pytest.mark.parametrize("kind", ["http_5xx", "reset", "short_body"])
def test_cdn_faults_still_give_every_file_right(make_sandbox, tmp_path, kind):
    client = make_sandbox(photos=100, videos=4, albums=3, seed=21, video_access="oauth",
                          media_size=(20_000, 80_000), fault_rate=0.15, fault_kinds=(kind,))
    dest, done = backed_up(client, tmp_path)
    assert client.stats()["faults"].get(f"cdn_{kind}", 0) > 0  # the run really met it
    assert_complete(client, dest)
    assert json.loads(done.stdout)["this_run"]["retries"] > 0


def test_everything_at_once_cdn_429_included(make_sandbox, tmp_path):
    client = make_sandbox(photos=120, videos=6, albums=5, seed=28, video_access="oauth",
                          media_size=(20_000, 80_000), fault_rate=0.07,
                          cdn_rate_limit=(3, 0.2), page_drop_rate=0.3)
    # Pauses long enough to let the window empty: at the suite's 0.01 s backoff the
    # workers' retries alone kept the sandbox's window full (it counts refused requests).
    dest, done = backed_up(client, tmp_path, EXODUS_BACKOFF="0.2")
    assert client.stats()["faults"].get("cdn_429", 0) > 0
    assert json.loads(done.stdout)["this_run"]["cdn_throttled"] > 0
    assert_complete(client, dest)


def test_page_drops_are_found_by_listing_again(make_sandbox, tmp_path):
    # 1,200 items on 3 pages; half the pages come back short.
    client = make_sandbox(photos=1200, videos=0, albums=1, seed=5, media_size=(300, 600),
                          page_drop_rate=0.5)
    dest, done = backed_up(client, tmp_path)
    assert client.stats()["faults"].get("page_drop", 0) > 0
    summary = json.loads(done.stdout)
    listing = summary["listing"]
    assert listing["complete"] and listing["listed"] == 1200
    assert listing["pages_asked_again"] > 0
    assert client.stats()["api_calls"]["flickr.people.getPhotos"] == 3 + listing["pages_asked_again"] \
        + 3 * (listing["rounds"] - 1)
    assert any("paging dropped" in note for note in summary["notes"])
    assert_complete(client, dest)


def test_api_faults_and_unparseable_bodies_are_retried(make_sandbox, tmp_path):
    client = make_sandbox(photos=60, videos=2, albums=3, seed=22, video_access="oauth",
                          media_size=(2_000, 4_000), fault_rate=0.25,
                          fault_kinds=("http_5xx", "code_105", "code_201", "short_body", "reset"))
    dest, done = backed_up(client, tmp_path)
    faults = client.stats()["faults"]
    assert faults.get("api_short_body", 0) > 0  # a cut JSON body: unparseable, retried
    assert faults.get("api_code_105", 0) + faults.get("api_code_201", 0) > 0
    assert_complete(client, dest)


def test_client_quota_matching_the_server_meets_no_429(make_sandbox, tmp_path):
    client = make_sandbox(photos=40, videos=2, albums=4, seed=23, video_access="oauth",
                          media_size=(2_000, 4_000), rate_limit=(12, 1.0))
    dest, done = backed_up(client, tmp_path, EXODUS_API_RATE="12/1")
    stats = client.stats()
    assert stats["rate_limited"] == 0
    assert stats["api_calls_total"] > 24  # the run needed more than two windows
    assert json.loads(done.stdout)["this_run"]["quota_wait_s"] > 0
    assert_complete(client, dest)


def test_server_tighter_than_the_client_believes_is_survived(make_sandbox, tmp_path):
    client = make_sandbox(photos=40, videos=2, albums=4, seed=24, video_access="oauth",
                          media_size=(2_000, 4_000), rate_limit=(10, 1.0))
    dest, done = backed_up(client, tmp_path, EXODUS_API_RATE="1000/1")
    assert client.stats()["rate_limited"] > 0
    assert_complete(client, dest)


def test_quota_wait_is_shown_to_the_user(make_sandbox, tmp_path):
    client = make_sandbox(photos=10, videos=0, albums=2, seed=25, media_size=(2_000, 4_000))
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest)], exodus_env(client, tmp_path, EXODUS_API_RATE="4/1.5"))
    assert done.returncode == 0, done.stderr
    assert "API quota: pacing calls to 4 per 1.5 s" in done.stderr


def test_refused_video_originals_wait_for_the_user(make_sandbox, tmp_path):
    # The default sandbox, like Flickr, wants the owner's browser session for videos.
    client = make_sandbox(photos=10, videos=3, albums=2, seed=26, media_size=(2_000, 4_000))
    dest = tmp_path / "dest"
    env = exodus_env(client, tmp_path)
    done = exodus(["backup", str(dest), "--json"], env)
    assert done.returncode == 3, done.stderr
    summary = json.loads(done.stdout)
    assert summary["counts"]["needs_manual"] == 3 and summary["counts"]["downloaded"] == 10
    assert not [p for p in (dest / "photos").rglob("*") if p.suffix in (".mp4", ".mov", ".part")]
    status = exodus(["status", str(dest)], env)
    assert status.returncode == 3
    assert "needs_manual" in status.stdout and "/photos/" in status.stdout and "cookies" in status.stdout


def test_item_deleted_on_flickr_mid_run_is_marked_gone(make_sandbox, tmp_path):
    client = make_sandbox(photos=12, videos=0, albums=1, seed=27, media_size=(200_000, 200_000),
                          bandwidth=1_000_000)
    dest = tmp_path / "dest"
    last = max(client.manifest())  # fetched last: downloads go in id order
    proc = subprocess.Popen(
        [*EXODUS, "backup", str(dest), "--json", "--concurrency", "1"],
        env=exodus_env(client, tmp_path), stdout=-1, stderr=-1, text=True)
    # The listing is over once albums are asked for; then the item goes.
    while client.stats()["api_calls"].get("flickr.photosets.getList", 0) == 0:
        assert proc.poll() is None
        time.sleep(0.01)
    client.control("delete", id=last)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    row = catalog_rows(dest, "SELECT state, reason, path FROM photos WHERE id = ?", [last])[0]
    assert row["state"] == "remote_gone", row
    others = [r for r in catalog_rows(dest) if r["id"] != last]
    assert all(r["state"] == "downloaded" for r in others)
