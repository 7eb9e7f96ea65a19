"""A download's connection does not wait for the disk: once a file's bytes are in, its
landing (format check, fsync, catalog commit, rename, the folder's fsync) goes on beside
the next transfer. Shown with one worker (--concurrency 1), stopped (SIGSTOP) at the
instant its first file is committed and not yet renamed: the sandbox's CDN has been asked
for the second file by then. A worker that landed each file itself would ask for the
next one only once the first was in place; the run still ends complete."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import requests

from conftest import EXODUS, assert_complete, catalog_rows, exodus, exodus_env, sha256_file
from test_errors import one_line, run_with_disk_filled_at, small_disk

BOUND = 60  # seconds for an event to come; far beyond what it needs, even on a busy machine


def stopped(pid: int) -> bool:
    return open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "T"


def wait_for(proc: subprocess.Popen, condition, what: str) -> bool:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert proc.poll() is None, f"exodus ended before {what}"
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_next_file_is_asked_for_before_the_last_one_lands(make_sandbox, tmp_path):
    client = make_sandbox(photos=4, videos=0, albums=1, seed=241, media_size=(60_000, 90_000))
    dest = tmp_path / "dest"
    env = exodus_env(client, tmp_path, EXODUS_PAUSE_AT="after-commit:1")
    proc = subprocess.Popen([*EXODUS, "backup", str(dest), "--quiet", "--no-deep", "--concurrency", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_for(proc, lambda: stopped(proc.pid), "the first commit"), "exodus never reached its first commit"
        committed = catalog_rows(dest, "SELECT path FROM photos WHERE state = 'downloaded'")
        assert len(committed) == 1, committed
        first = dest / committed[0]["path"]
        assert not first.exists() and first.with_name(first.name + ".part").exists(), "committed, not yet renamed"
        # Asked while the process was still running: the request is on its way (or served).
        asked = wait_for(proc, lambda: client.stats()["cdn_requests"] >= 2, "the second request")
        assert asked, "the CDN heard nothing of the next file while the first was landing"
        os.kill(proc.pid, signal.SIGCONT)
        assert proc.wait(timeout=BOUND * 4) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert_complete(client, dest)


def test_a_whole_part_left_before_its_landing_is_landed_not_fetched_again(make_sandbox, tmp_path):
    """A stop between a file's last byte and its landing leaves it whole in its .part, the
    item pending with the CDN's ETag and length noted; with files waiting for a lander,
    several may be left so. The next run asks for the rest (Range + If-Range), hears that
    there is none (416, bytes */SIZE: this very version), and lands the .part as it is.
    The state is made by hand from a finished backup, exactly as such a stop leaves it."""
    client = make_sandbox(photos=3, videos=0, albums=1, seed=242, media_size=(60_000, 90_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert subprocess.run([*EXODUS, "backup", str(dest), "--quiet", "--no-deep"], env=env, timeout=BOUND * 4,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    row = catalog_rows(dest, "SELECT id, path, source_url, size FROM photos ORDER BY id LIMIT 1")[0]
    final = dest / row["path"]
    final.rename(final.with_name(final.name + ".part"))
    etag = requests.head(row["source_url"], timeout=30).headers["ETag"]
    with sqlite3.connect(dest / "catalog.db") as conn:
        conn.execute("UPDATE photos SET state = 'pending', sha256 = NULL, size = NULL, etag = ?, "
                     "expected_size = ? WHERE id = ?", (etag, row["size"], row["id"]))
    served = client.stats()["bytes_served"]
    assert subprocess.run([*EXODUS, "backup", str(dest), "--quiet", "--no-deep"], env=env, timeout=BOUND * 4,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    assert client.stats()["bytes_served"] == served, "the whole .part was fetched again"
    assert_complete(client, dest)


def test_a_disk_that_fills_while_files_wait_to_land_ends_the_run_and_keeps_them(make_sandbox, tmp_path):
    """A full disk found by a lander or by a worker ends the run at once, with one line;
    every file the catalog calls downloaded is whole (under its name, or as the committed
    .part the next run renames), and the rerun completes. The disk (a real tmpfs) fills
    while the first file is committed and not renamed, with others in flight behind it."""
    client = make_sandbox(photos=10, videos=0, albums=1, seed=243, media_size=(60_000, 90_000))
    env = exodus_env(client, tmp_path)
    with small_disk(tmp_path / "disk") as disk:
        dest = disk / "dest"
        done = run_with_disk_filled_at("after-commit:1", ["backup", str(dest), "--quiet", "--no-deep",
                                                          "--concurrency", "2"], env, disk)
        assert done.returncode == 1, done.stderr
        assert "disk is full" in one_line(done)
        kept = catalog_rows(dest, "SELECT path, sha256 FROM photos WHERE state = 'downloaded'")
        assert kept, "the first commit was made before the disk filled"
        for row in kept:
            final = dest / row["path"]
            file = final if final.exists() else final.with_name(final.name + ".part")
            assert sha256_file(file) == row["sha256"], row["path"]
        (disk / "filler").unlink()
        rerun = exodus(["backup", str(dest), "--json", "--no-deep"], env)
        assert rerun.returncode == 0, rerun.stderr
        assert_complete(client, dest)
