"""Stops at chosen instants: kill -9 and Ctrl-C mid-listing, N bytes into a large video,
between the catalog commit and the rename, between items. Each rerun completes with the
same files an uninterrupted run gives, and fetches again at most the bytes it lacked."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from conftest import EXODUS, assert_complete, exodus, exodus_env

CHUNK = 1 << 20


def start(client, tmp_path, dest, **env):
    return subprocess.Popen([*EXODUS, "backup", str(dest), "--json", "--concurrency", "2"],
                            env=exodus_env(client, tmp_path, **env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(proc, condition, what: str) -> None:
    """Poll the sandbox's own report until it says the instant has come."""
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, f"exodus ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"never reached {what}"
        time.sleep(0.005)


def on_disk(dest) -> tuple[int, int, int]:
    """(bytes in finished files, bytes in .part files, number of .part files)."""
    finished = sum(p.stat().st_size for p in (dest / "photos").rglob("*")
                   if p.is_file() and p.suffix not in (".json", ".part", ".tmp")) if (dest / "photos").exists() else 0
    parts = list(dest.rglob("*.part"))
    return finished, sum(p.stat().st_size for p in parts), len(parts)


def rerun_and_check(client, tmp_path, dest, library: int) -> None:
    finished, partial, nparts = on_disk(dest)
    before = client.stats()["bytes_served"]
    done = exodus(["backup", str(dest), "--json"], exodus_env(client, tmp_path))
    assert done.returncode == 0, done.stderr
    assert_complete(client, dest)
    fetched_again = client.stats()["bytes_served"] - before
    remaining = library - finished - partial
    assert fetched_again <= remaining + CHUNK * nparts, (fetched_again, remaining, nparts)


def library_size(client) -> int:
    return sum(m["size"] for m in client.manifest().values())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_stop_mid_listing_resumes_mid_listing(make_sandbox, tmp_path, sig):
    # 1,300 items: three listing pages, each slowed so the stop lands between them.
    client = make_sandbox(photos=1300, videos=0, albums=1, seed=31, media_size=(200, 400), latency_ms=150)
    dest = tmp_path / "dest"
    proc = start(client, tmp_path, dest)
    # Page 2 is asked for only after page 1 is committed.
    wait_for(proc, lambda: client.stats()["api_calls"].get("flickr.people.getPhotos", 0) >= 2, "page 2")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "again to resume" in err
    before = client.stats()["api_calls"]["flickr.people.getPhotos"]
    client.control("faults", latency_ms=0)
    rerun_and_check(client, tmp_path, dest, library_size(client))
    # The rerun started from the page after the last committed one, not from page 1.
    assert client.stats()["api_calls"]["flickr.people.getPhotos"] - before <= 2


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_stop_inside_a_large_video_resumes_with_a_range(make_sandbox, tmp_path, sig):
    client = make_sandbox(photos=4, videos=1, albums=1, seed=32, video_access="oauth",
                          media_size=(5_000, 9_000), video_size=(6_000_000, 6_000_000), bandwidth=1_500_000)
    dest = tmp_path / "dest"
    proc = start(client, tmp_path, dest)
    wait_for(proc, lambda: client.stats()["bytes_served"] >= 2_500_000, "2.5 MB into the video")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
    finished, partial, nparts = on_disk(dest)
    assert nparts == 1 and partial >= 1_000_000  # the video's .part was kept
    client.control("faults", bandwidth=None)
    rerun_and_check(client, tmp_path, dest, library_size(client))


@pytest.mark.parametrize("point", ["after-commit:3", "after-rename:3", "between-items:5"])
def test_kill_at_exact_points_of_a_download(make_sandbox, tmp_path, point):
    client = make_sandbox(photos=12, videos=2, albums=2, seed=33, video_access="oauth",
                          media_size=(50_000, 90_000), video_size=(300_000, 400_000))
    dest = tmp_path / "dest"
    proc = start(client, tmp_path, dest, EXODUS_DIE_AT=point)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    if point.startswith("after-commit"):
        assert list(dest.rglob("*.part")), "the kill left a committed .part"
    rerun_and_check(client, tmp_path, dest, library_size(client))
