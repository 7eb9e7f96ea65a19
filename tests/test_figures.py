"""Figures a person reads are true and carry their unit; failures are told as they happen,
once, with where and what to check. At the level a user meets them: the CLI in a
subprocess, a pty where the terminal matters."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import socket
import struct
import subprocess
import termios
import time
from pathlib import Path

from conftest import EXODUS, exodus, exodus_env

MB = 1e6  # exodus counts in decimal units, as its README does


def run_in_terminal(args: list[str], env: dict, cols: int, timeout: float = 100) -> tuple[int, str]:
    """Run exodus with a pty as its terminal (stdin, stdout and stderr) of `cols` columns;
    everything it wrote, with the pty's \\r\\n turned back into \\n."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([*EXODUS, *args], stdin=follower, stdout=follower, stderr=follower, env=env,
                            close_fds=True)
    os.close(follower)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the last holder of the terminal is gone
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(leader)
    return proc.wait(timeout=10), out.decode("utf-8", "replace").replace("\r\n", "\n")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


def unreachable_env(tmp_path: Path, port: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "EXODUS_"))}
    env.update(FLICKR_API_KEY="k" * 32, FLICKR_API_SECRET="s" * 16, FLICKR_OAUTH_TOKEN="1-t",
               FLICKR_OAUTH_TOKEN_SECRET="ts", EXODUS_API_BASE=f"http://127.0.0.1:{port}",
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"), **extra)
    return env


# --- quota wait -----------------------------------------------------------------------

def test_quota_wait_is_wall_time_never_more_than_the_run(make_sandbox, tmp_path):
    # A client quota much tighter than the work, and downloads in parallel with comments:
    # many calls wait at once. Their waits, summed, came to more than the run lasted.
    sb = make_sandbox(photos=60, videos=8, albums=3, seed=5, comment_share=0.8,
                      video_access="oauth")
    env = exodus_env(sb, tmp_path, EXODUS_API_RATE="30/1.5")
    done = exodus(["backup", str(tmp_path / "dest"), "--json", "--concurrency", "8"], env)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["this_run"]
    assert run["quota_wait_s"] > 0, run  # the quota was in the way...
    assert run["quota_wait_s"] <= run["seconds"], run  # ...but no longer than the run itself


# --- Flickr unreachable -----------------------------------------------------------------

def test_unreachable_flickr_is_told_within_seconds_and_the_error_once_with_its_host(tmp_path):
    port = closed_port()
    env = unreachable_env(tmp_path, port, EXODUS_BACKOFF="0.2")
    proc = subprocess.Popen([*EXODUS, "backup", str(tmp_path / "dest")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:  # as it comes, stamped on arrival
        lines.append((time.time(), line.rstrip("\n")))
    code = proc.wait(timeout=100)
    assert code == 1, lines
    waiting = [(t, line) for t, line in lines if line.startswith("waiting for Flickr (attempt ")]
    assert waiting, lines
    first_at, first = waiting[0]
    assert first.startswith("waiting for Flickr (attempt 1, next in ") and f"127.0.0.1:{port}" in first, first
    # The run's log stamps the first failure: the line reached the user within 5 s of it.
    log = next((tmp_path / "dest" / "logs").glob("backup-*.log")).read_text()
    stamp = re.search(r"^(\S+ \S+),(\d+) INFO exodus.flickr: retrying", log, re.M)
    failed_at = time.mktime(time.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S")) + int(stamp.group(2)) / 1000
    assert first_at - failed_at < 5, (first_at - failed_at, lines)
    errors = [line for _, line in lines if "did not answer" in line]
    assert len(errors) == 1, lines
    assert f"127.0.0.1:{port}" in errors[0] and "check the network" in errors[0], errors
    assert not any("Traceback" in line for _, line in lines)


def test_quiet_silences_the_waiting_but_not_the_final_error(tmp_path):
    port = closed_port()
    done = exodus(["backup", str(tmp_path / "dest"), "--quiet"],
                  unreachable_env(tmp_path, port, EXODUS_BACKOFF="0.01"))
    assert done.returncode == 1
    assert "waiting for Flickr" not in done.stderr
    assert done.stderr.count("did not answer") == 1 and f"127.0.0.1:{port}" in done.stderr, done.stderr


# --- credentials ------------------------------------------------------------------------

def test_a_wrong_api_secret_is_one_line_with_the_hint(sb, tmp_path):
    done = exodus(["backup", str(tmp_path / "dest")], exodus_env(sb, tmp_path, FLICKR_API_SECRET="0" * 16))
    assert done.returncode == 2, done.stderr
    refused = [line for line in done.stderr.splitlines() if "refused" in line]
    assert len(refused) == 1, done.stderr
    assert "FLICKR_API_SECRET" in refused[0] and "clock" in refused[0], refused
    assert sb.base.split("//")[1] in refused[0]
    assert "debug_sbs" not in done.stderr and "Traceback" not in done.stderr


def test_auth_with_a_wrong_secret_is_one_line(sb, tmp_path):
    env = exodus_env(sb, tmp_path, FLICKR_API_SECRET="0" * 16)
    del env["FLICKR_OAUTH_TOKEN"], env["FLICKR_OAUTH_TOKEN_SECRET"]
    done = exodus(["auth"], env, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "FLICKR_API_SECRET" in done.stderr and sb.base.split("//")[1] in done.stderr
    assert "debug_sbs" not in done.stderr and "do_request" not in done.stderr


def test_auth_without_a_terminal_says_it_needs_one(sb, tmp_path):
    env = exodus_env(sb, tmp_path)
    del env["FLICKR_OAUTH_TOKEN"], env["FLICKR_OAUTH_TOKEN_SECRET"]
    done = exodus(["auth"], env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "needs a terminal" in last and "FLICKR_OAUTH_TOKEN" in last, done.stderr
    assert "interrupted" not in done.stderr
    assert not (tmp_path / "config" / "flickr-exodus" / "token.json").exists()


# --- the demo ---------------------------------------------------------------------------

def demo_figures_agree_with_the_disk(out: str, target: Path) -> None:
    """What the demo printed about sizes and waits, against the disk (test_cli runs the demo
    once for all its checks)."""
    originals, files, everything = re.search(
        r"On disk: ([\d.]+) MB in (\d+) originals?, ([\d.]+) MB in all", out).groups()
    paths = [target / p for p in _catalog_paths(target)]
    assert int(files) == len(paths)
    assert abs(float(originals) - sum(p.stat().st_size for p in paths) / MB) <= 0.05
    tree = sum(p.lstat().st_size for p in target.rglob("*") if p.is_file() or p.is_symlink())
    assert abs(float(everything) - tree / MB) <= 0.05
    on_disk = re.search(r"\(([\d.]+) MB on disk\)", out).group(1)  # the status line agrees too
    assert on_disk == originals
    waited, seconds = map(float, re.search(r"waited (\d+) s for the quota, within a (\d+) s backup", out).groups())
    assert waited <= seconds
    assert not re.search(r"\b1 (files|faults|times|retries|originals|API calls)\b", out), out


def _catalog_paths(dest: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(dest / "catalog.db")
    try:
        return [r[0] for r in db.execute("SELECT path FROM photos WHERE path IS NOT NULL AND sha256 IS NOT NULL")]
    finally:
        db.close()


# --- bars -------------------------------------------------------------------------------

def test_a_terminal_of_no_width_gets_the_bars_as_plain_lines_in_decimal_mb(make_sandbox, tmp_path):
    sb = make_sandbox(photos=30, videos=0, albums=2, seed=9, media_size=(100_000, 300_000))
    dest = tmp_path / "dest"
    code, out = run_in_terminal(["backup", str(dest), "--no-deep"], exodus_env(sb, tmp_path), cols=0)
    assert code == 0, out
    assert "\r" not in out and "\x1b[" not in out, repr(out[-2000:])  # nothing drawn in place
    assert re.search(r"^files: 100% 30/30\b", out, re.M), out
    shown = re.findall(r"^bytes: ([\d.]+)MB\b", out, re.M)
    assert shown, out
    total = sum(p.stat().st_size for p in (dest / "photos").rglob("*")
                if p.is_file() and p.suffix not in (".json", ".xmp"))
    assert abs(float(shown[-1]) - total / MB) <= 0.1, (shown, total)  # MB, not MiB (a 4.6% gap)


def test_push_files_bar_has_a_total(make_sandbox, tmp_path):
    sb = make_sandbox(photos=12, videos=0, albums=1, seed=3)
    env = exodus_env(sb, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--no-deep", "--quiet"], env).returncode == 0
    code, out = run_in_terminal(["push", str(dest), f"rclone:{tmp_path / 'copy'}"], env, cols=0)
    assert code == 0, out
    sent = sum(1 for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert re.search(rf"^files: 100% {sent}/{sent}\b", out, re.M), out
