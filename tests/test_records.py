"""What exodus keeps of what it did: a log per run (arguments without secrets, the closing
summary), a row in `runs` for every command (a dry run: its log only), runs that died
marked so, and `status` with the figures a user asks for next."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EXODUS, Client, catalog_rows, exodus, exodus_env
from flickr_exodus.sandbox import Sandbox, SandboxConfig

# Videos behind the owner's browser session: the backup leaves them needing the user.
CONFIG = SandboxConfig(photos=24, videos=2, albums=2, seed=16, media_size=(3_000, 6_000),
                       video_size=(20_000, 40_000))


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    home = tmp_path_factory.mktemp("records")
    with Sandbox(CONFIG) as sandbox:
        client = Client(sandbox)
        env = exodus_env(client, home)
        dest = home / "dest"
        done = exodus(["backup", str(dest), "--quiet", "--no-deep"], env)
        assert done.returncode == 3, done.stderr  # the two videos need the user
        yield client, env, dest


@pytest.fixture
def copy(account, tmp_path):
    client, env, dest = account
    target = tmp_path / "copy"
    shutil.copytree(dest, target, symlinks=True)
    shutil.rmtree(target / "logs")
    return client, env, target


def logs(dest: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((dest / "logs").glob("*.log"))}


def runs(dest: Path) -> list[dict]:
    return catalog_rows(dest, "SELECT id, command, status, summary FROM runs ORDER BY id")


def test_every_command_logs_its_arguments_and_its_summary_and_records_a_run(copy, tmp_path):
    client, env, dest = copy
    before = len(runs(dest))
    folder = tmp_path / "pushed"
    for args in (["verify", str(dest), "--quiet"], ["push", str(dest), f"rclone:{folder}", "--quiet"],
                 ["backup", str(dest), "--quiet", "--no-deep"]):
        done = exodus(args, env)
        assert done.returncode in (0, 3), done.stderr
    written = logs(dest)
    assert [re.sub(r"-\d{8}-\d{6}.*", "", name) for name in written] == ["backup", "push", "verify"]
    for name, text in written.items():
        command = name.split("-")[0]
        first, *_, finished, summary = text.strip().splitlines()
        assert f"exodus {command} (pid " in first and json.loads(first.split("): ", 1)[1])["dest"] == str(dest)
        assert re.search(r"finished: done, exit code [03]", finished)
        assert json.loads(summary.split("summary: ", 1)[1])["exit_code"] in (0, 3)
        assert client.info["oauth_token_secret"] not in text and client.info["api_secret"] not in text
    rows = runs(dest)[before:]
    assert [r["command"] for r in rows] == ["verify", "push", "backup"]
    assert {r["status"] for r in rows} == {"done"} and all(json.loads(r["summary"]) for r in rows)
    assert json.loads(rows[1]["summary"])["counts"]["sent"] > 0  # push's own figures, kept


def test_a_log_never_hides_a_password_or_another_runs_file(copy):
    client, env, dest = copy
    (dest / "logs").mkdir()
    now = time.time()
    # Runs of the same seconds (a fast command twice): each log file is taken already, for
    # every second the run below may start in (its timeout bounds that, however loaded the
    # machine is, so the run cannot find a free name by starting late).
    window = 60
    taken = {f"push-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now + s))}.log" for s in range(window + 1)}
    for name in taken:
        (dest / "logs" / name).write_text("another run's log\n")
    done = exodus(["push", str(dest), "webdav://me:hunter2@127.0.0.1:1/x", "--quiet"], env, timeout=window)
    assert done.returncode == 2 and "hunter2" not in done.stderr  # nobody answers there
    written = logs(dest)
    assert all(written[name] == "another run's log\n" for name in taken)
    (new,) = set(written) - taken
    assert re.fullmatch(r"push-\d{8}-\d{6}-2\.log", new)
    assert "hunter2" not in written[new] and "webdav://me:***@127.0.0.1:1/x" in written[new]
    assert "finished: refused" in written[new]
    assert runs(dest)[-1]["command"] == "push" and runs(dest)[-1]["status"] == "refused"


def test_a_dry_run_writes_nothing_in_the_catalog_and_its_log_says_so(copy):
    client, env, dest = copy
    catalog = (dest / "catalog.db").read_bytes()
    done = exodus(["verify", str(dest), "--quiet"], env)  # a proof for the delete-remote dry run
    catalog = (dest / "catalog.db").read_bytes()
    before = runs(dest)
    done = exodus(["delete-remote", str(dest), "--allow-shallow"], env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    # 24 photos can go; ten are named, and the rest counted.
    assert len(re.findall(r"would delete", done.stdout)) == 10 and "... and 14 more" in done.stdout
    assert runs(dest) == before and (dest / "catalog.db").read_bytes() == catalog
    (log,) = [text for name, text in logs(dest).items() if name.startswith("delete-remote")]
    assert "dry run: nothing is recorded in catalog.db" in log and '"dry_run": true' in log


def test_a_killed_run_is_marked_died_by_the_next_one(copy, tmp_path):
    client, env, dest = copy
    folder = tmp_path / "pushed"
    killed = exodus(["push", str(dest), f"rclone:{folder}", "--quiet"], {**env, "EXODUS_DIE_AT": "push-item:3"})
    assert killed.returncode == -signal.SIGKILL
    assert runs(dest)[-1]["status"] == "running"
    # status only reads: it tells, and leaves the row to the next command that writes.
    done = exodus(["status", str(dest)], env)
    assert "The last run (push, started" in done.stdout and "was cut off" in done.stdout
    assert runs(dest)[-1]["status"] == "running"
    assert exodus(["verify", str(dest), "--quiet"], env).returncode == 3
    assert [r["status"] for r in runs(dest)[-2:]] == ["died", "done"]
    (log,) = [text for name, text in logs(dest).items() if name.startswith("verify")]
    assert "1 earlier run(s) never finished (killed or cut off): marked died" in log


def test_status_shows_verified_pushed_deep_and_needs_you(copy, tmp_path):
    client, env, dest = copy
    done = exodus(["status", str(dest), "--json"], env)
    report = json.loads(done.stdout)
    assert report["verified"] == 0 and report["with_files"] == 24 and report["pushed"] == {}
    assert report["deep_missing"] == 24 and report["needs_you"] == 2 and report["busy"] is None
    assert exodus(["verify", str(dest), "--quiet"], env).returncode == 3
    folder = tmp_path / "pushed"
    assert exodus(["push", str(dest), f"rclone:{folder}", "--quiet"], env).returncode == 0
    done = exodus(["status", str(dest)], env)
    assert done.returncode == 3
    assert re.search(r"verified \(proof recorded\)\s+24 of 24 files", done.stdout)
    assert re.search(rf"pushed to rclone:{re.escape(str(folder))}\s+24", done.stdout)
    assert re.search(r"deep metadata missing\s+24", done.stdout)
    assert re.search(r"needs you\s+2", done.stdout)


def test_status_knows_another_exodus_is_at_work(account, tmp_path):
    client, env, _ = account
    dest = tmp_path / "dest"
    proc = subprocess.Popen([*EXODUS, "backup", str(dest), "--quiet"], env={**env, "EXODUS_PAUSE_AT": "between-items:3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while open(f"/proc/{proc.pid}/stat").read().split(") ")[1][0] != "T":  # stopped mid-download
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        done = exodus(["status", str(dest)], env)
        assert f"Another exodus (pid {proc.pid}) is working on {dest} now" in done.stdout
        assert json.loads(exodus(["status", str(dest), "--json"], env).stdout)["left"] > 0
        assert "still to fetch" not in done.stdout  # not "run backup again": one is running
    finally:
        proc.kill()
        proc.wait()
    done = exodus(["status", str(dest)], env)
    assert "Another exodus" not in done.stdout  # the kernel let go of the lock with the process
    assert "still to fetch: run 'exodus backup" in done.stdout and "was cut off" in done.stdout


def test_a_folder_that_is_not_a_backup_is_named_before_exodus_writes_there(account, tmp_path):
    client, env, _ = account
    dest = tmp_path / "pictures"
    dest.mkdir()
    (dest / "holiday.jpg").write_bytes(b"mine")
    done = exodus(["backup", str(dest), "--no-deep"], env)
    assert done.returncode == 3, done.stderr
    notes = [line for line in done.stderr.splitlines() if "is not empty and holds no exodus backup" in line]
    assert len(notes) == 1 and "'holiday.jpg'" in notes[0]
    assert (dest / "holiday.jpg").read_bytes() == b"mine"
    again = exodus(["backup", str(dest), "--no-deep"], env)  # a backup now: nothing to say
    assert "is not empty" not in again.stderr
