"""Bad input gets one clear line and a non-zero exit, and loses nothing: a DEST that is a
file, missing credentials, a second exodus on the same DEST, a disk that fills up."""

from __future__ import annotations

import json
import resource
import signal
import subprocess

from conftest import EXODUS, assert_complete, catalog_rows, exodus, exodus_env
from flickr_exodus.dest import DestLock


def one_line_error(done) -> str:
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("exodus:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_dest_that_is_a_file(sb, tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    done = exodus(["backup", str(target)], exodus_env(sb, tmp_path))
    assert done.returncode == 2
    assert "is a file" in one_line_error(done)
    assert target.read_text() == "keep me"


def test_missing_credentials_name_the_variables_and_auth(sb, tmp_path):
    env = exodus_env(sb, tmp_path)
    for name in ("FLICKR_API_KEY", "FLICKR_API_SECRET", "FLICKR_OAUTH_TOKEN", "FLICKR_OAUTH_TOKEN_SECRET"):
        env.pop(name)
    done = exodus(["backup", str(tmp_path / "dest")], env)
    assert done.returncode == 2
    line = one_line_error(done)
    assert "FLICKR_API_KEY" in line and "exodus auth" in line
    env.update(FLICKR_API_KEY="k", FLICKR_API_SECRET="s")
    line = one_line_error(exodus(["backup", str(tmp_path / "dest")], env))
    assert "exodus auth" in line and "FLICKR_OAUTH_TOKEN" in line


def test_bad_api_rate_is_a_usage_error(sb, tmp_path):
    done = exodus(["backup", str(tmp_path / "d"), "--api-rate", "fast"], exodus_env(sb, tmp_path))
    assert done.returncode == 2 and "CALLS/SECONDS" in one_line_error(done)


def test_a_second_backup_on_the_same_dest_is_refused(sb, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    with DestLock(dest):
        done = exodus(["backup", str(dest)], exodus_env(sb, tmp_path))
    assert done.returncode == 2
    assert "another exodus" in one_line_error(done)
    assert not (dest / "catalog.db").exists()


def test_revoked_token_is_one_clear_line(sb, tmp_path):
    env = exodus_env(sb, tmp_path, FLICKR_OAUTH_TOKEN="72157600000000000-0000000000000000")
    done = exodus(["backup", str(tmp_path / "dest")], env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Flickr refused" in done.stderr
    assert env["FLICKR_OAUTH_TOKEN_SECRET"] not in done.stderr + done.stdout


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_stops_cleanly_and_the_rerun_completes(make_sandbox, tmp_path):
    # No file may grow past 1 MB: the 3 MB video cannot fit, as on a disk that fills up.
    client = make_sandbox(photos=8, videos=1, albums=1, seed=41, video_access="oauth",
                          media_size=(5_000, 9_000), video_size=(3_000_000, 3_000_000))
    dest = tmp_path / "dest"
    env = exodus_env(client, tmp_path)
    done = subprocess.run([*EXODUS, "backup", str(dest), "--json", "--concurrency", "1"], env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_file_size(1_000_000))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "disk_full" and "disk is full" in summary["notes"][-1]
    parts = list(dest.rglob("*.part"))
    assert len(parts) == 1 and parts[0].stat().st_size == 1_000_000  # kept for the rerun
    states = {r["state"] for r in catalog_rows(dest)}
    assert states <= {"pending", "downloaded"}
    rerun = exodus(["backup", str(dest), "--json"], env)
    assert rerun.returncode == 0, rerun.stderr
    assert_complete(client, dest)


def test_flickr_unreachable_is_one_line_and_resumable(tmp_path, sb):
    env = exodus_env(sb, tmp_path, EXODUS_API_BASE="http://127.0.0.1:9")  # nothing listens there
    done = exodus(["backup", str(tmp_path / "dest")], env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "did not answer" in done.stderr


def test_a_backup_of_another_account_is_refused(make_sandbox, tmp_path):
    """One DEST, one account: another account's token would make every item look gone."""
    first = make_sandbox(photos=3, videos=0, albums=1, seed=71, media_size=(2_000, 3_000))
    other = make_sandbox(photos=3, videos=0, albums=1, seed=72, media_size=(2_000, 3_000))
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], exodus_env(first, tmp_path)).returncode == 0
    before = catalog_rows(dest, "SELECT id, state FROM photos")
    for command in (["backup", str(dest)], ["verify", str(dest), "--remote"]):
        done = exodus(command, exodus_env(other, tmp_path / "other"))
        assert done.returncode == 2 and "token belongs to" in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert catalog_rows(dest, "SELECT id, state FROM photos") == before
