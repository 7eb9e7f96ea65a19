"""What the review of issue 17 found untested, met the way a user meets it: `exodus` run as a
process against a sandbox on 127.0.0.1, judged by the sandbox's own manifest and counters
and by the files in DEST."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import time
from collections import Counter

import pytest

from conftest import (EXODUS, Client, assert_complete, catalog_rows, exodus, exodus_env, sha256_file,
                      sign_in)
from flickr_exodus.sandbox import Sandbox, SandboxConfig

WEEK_S = 7 * 24 * 3600


def backup(env, dest, *args) -> dict:
    done = exodus(["backup", str(dest), "--json", *args], env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def account(make_sandbox, tmp_path, **config):
    """A small running account of photos, the environment that points exodus at it, and
    where its backup goes: (client, env, dest)."""
    client = make_sandbox(**{"photos": 4, "videos": 0, "albums": 1, "media_size": (3_000, 5_000), **config})
    return client, exodus_env(client, tmp_path), tmp_path / "dest"


def deleted_on(client) -> set[str]:
    return {i for i, m in client.manifest().items() if m["deleted"]}


def calls_during(client, work) -> Counter:
    """The API calls the sandbox answered while `work()` ran."""
    before = Counter(client.stats()["api_calls"])
    work()
    return Counter(client.stats()["api_calls"]) - before


# --- delete-remote: the username typed on a terminal -------------------------------------

def verified_account(make_sandbox, tmp_path, *backup_args, **config):
    """A small account, backed up and verified: every photo is proved and may go."""
    client, env, dest = account(make_sandbox, tmp_path, **{"photos": 5, **config})
    backup(env, dest, *backup_args)
    verified = exodus(["verify", str(dest), "--json"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return client, env, dest


def on_terminal(args: list[str], env: dict, answer: str) -> tuple[int, str, str]:
    """Run exodus with a pseudo-terminal as its standard input; once it asks for the
    username, type `answer` and Enter. Returns (exit code, stdout, stderr)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*EXODUS, *args], env=env, stdin=follower, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    os.close(follower)
    err = b""
    deadline = time.monotonic() + 90
    while b"username" not in err:
        assert time.monotonic() < deadline and proc.poll() is None, err.decode(errors="replace")
        ready, _, _ = select.select([proc.stderr, leader], [], [], 1)
        if proc.stderr in ready:
            err += os.read(proc.stderr.fileno(), 4096)
        if leader in ready:
            os.read(leader, 4096)  # the terminal's echo
    os.write(leader, answer.encode() + b"\n")
    out, rest = proc.communicate(timeout=90)
    os.close(leader)
    return proc.returncode, out.decode(), (err + rest).decode()


def test_delete_remote_on_a_terminal_deletes_only_after_the_right_username(make_sandbox, tmp_path):
    client, env, dest = verified_account(make_sandbox, tmp_path, seed=171)
    photos = set(client.manifest())
    username = client.info["username"]

    code, out, err = on_terminal(["delete-remote", str(dest), "--json"], env, username + "x")
    assert code == 0 and "Traceback" not in err, err
    report = json.loads(out)
    assert report["dry_run"] and report["counts"]["eligible"] == len(photos)
    assert deleted_on(client) == set() and "flickr.photos.delete" not in client.stats()["api_calls"]
    assert catalog_rows(dest, "SELECT count(*) AS n FROM deletions")[0]["n"] == 0

    code, out, err = on_terminal(["delete-remote", str(dest), "--json"], env, username)
    assert code == 0, err
    report = json.loads(out)
    assert not report["dry_run"] and report["counts"]["deleted"] == len(photos)
    assert deleted_on(client) == photos
    assert {r["state"] for r in catalog_rows(dest)} == {"deleted_remote"}


# --- delete-remote --allow-shallow --------------------------------------------------------

def test_allow_shallow_lets_items_without_deep_metadata_go(make_sandbox, tmp_path):
    client, env, dest = verified_account(make_sandbox, tmp_path, "--no-deep", seed=172)
    photos = set(client.manifest())

    plain = exodus(["delete-remote", str(dest), "--json", "--yes"], env)
    assert plain.returncode == 0, plain.stderr
    report = json.loads(plain.stdout)
    assert report["counts"]["eligible"] == 0 and report["counts"]["by_reason"] == {"shallow": len(photos)}
    assert deleted_on(client) == set()

    shallow = exodus(["delete-remote", str(dest), "--json", "--yes", "--allow-shallow"], env)
    assert shallow.returncode == 0, shallow.stderr
    assert json.loads(shallow.stdout)["counts"]["deleted"] == len(photos)
    assert deleted_on(client) == photos


# --- a backup through the token `exodus auth` stored -------------------------------------

def test_a_backup_runs_on_the_token_exodus_auth_stored(make_sandbox, tmp_path):
    client, env, dest = account(make_sandbox, tmp_path, photos=6, albums=2, seed=173)
    for name in ("FLICKR_OAUTH_TOKEN", "FLICKR_OAUTH_TOKEN_SECRET"):
        env.pop(name)
    before = exodus(["backup", str(dest), "--json"], env)
    assert before.returncode == 2 and "not signed in" in before.stderr, before.stderr

    signed = sign_in(client, env, "read")
    assert signed.returncode == 0, signed.stderr
    summary = backup(env, dest)
    assert summary["counts"]["downloaded"] == 6
    assert_complete(client, dest)


# --- the weekly full listing -------------------------------------------------------------

def listing_age(dest, seconds: float) -> None:
    """Make the last complete listing `seconds` old: what DEST holds after that long."""
    conn = sqlite3.connect(dest / "catalog.db")
    try:
        checkpoint = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'listing'").fetchone()[0])
        checkpoint["full_at"] = time.time() - seconds
        with conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'listing'", (json.dumps(checkpoint),))
    finally:
        conn.close()


def test_a_full_listing_runs_once_a_week_even_when_the_counts_add_up(make_sandbox, tmp_path):
    # More items than one page: the only size at which recentlyUpdated stands in for a listing.
    client, env, dest = account(make_sandbox, tmp_path, photos=520, seed=174, media_size=(300, 600))
    backup(env, dest, "--no-deep")

    def run() -> tuple[dict, Counter]:
        summary = {}
        calls = calls_during(client, lambda: summary.update(backup(env, dest, "--no-deep")))
        return summary["listing"], calls

    listing_age(dest, WEEK_S - 3600)  # six days and 23 hours: the changes are enough
    listing, calls = run()
    assert listing["incremental"] and calls["flickr.photos.recentlyUpdated"] == 1
    assert calls["flickr.people.getPhotos"] == 0

    listing_age(dest, WEEK_S + 3600)  # a week and an hour: everything is listed again
    listing, calls = run()
    assert not listing["incremental"] and listing["complete"] and calls["flickr.photos.recentlyUpdated"] == 0
    assert calls["flickr.people.getPhotos"] >= 2

    listing, calls = run()  # and the week starts again from that listing
    assert listing["incremental"] and calls["flickr.people.getPhotos"] == 0


# --- a free account turning Pro ----------------------------------------------------------

@pytest.fixture(scope="module")
def turned_pro(tmp_path_factory):
    """A free account backed up, then turned Pro and backed up again: (client, env, dest,
    the ids whose originals the free account withheld)."""
    home = tmp_path_factory.mktemp("pro")
    config = SandboxConfig(photos=16, videos=0, albums=2, seed=175, free_account=True,
                           media_size=(150_000, 190_000))
    with Sandbox(config) as sandbox:
        client = Client(sandbox)
        env = exodus_env(client, home)
        dest = home / "dest"
        first = exodus(["backup", str(dest), "--json"], env)
        assert first.returncode == 3, first.stderr
        withheld = {r["id"] for r in catalog_rows(dest) if r["state"] == "original_unavailable"}
        assert withheld, "the free account withheld no original: the tests prove nothing"
        client.control("faults", free_account=False)
        assert backup(env, dest)["ok"]
        yield client, env, dest, withheld


def test_a_free_account_that_turns_pro_gets_every_original(turned_pro):
    client, _, dest, withheld = turned_pro
    rows = assert_complete(client, dest)  # every item now holds Flickr's original, byte for byte
    assert all(rows[i]["kept_size"] is None and rows[i]["reason"] is None for i in withheld)


def test_an_original_that_follows_a_kept_size_is_named_as_an_original(turned_pro):
    client, env, dest, withheld = turned_pro
    rows = {r["id"]: r for r in catalog_rows(dest)}
    manifest = client.manifest()
    for item_id in withheld:
        name = rows[item_id]["path"].rsplit("/", 1)[-1]
        assert ".size-" not in name and name.endswith("." + rows[item_id]["original_format"]), name
        assert manifest[item_id]["sha256"] == sha256_file(dest / rows[item_id]["path"])
    done = exodus(["verify", str(dest), "--json"], env)  # and the kept copy left no stray file
    assert done.returncode == 0, done.stdout


# --- --no-xmp ------------------------------------------------------------------------------

def test_no_xmp_stops_the_xmp_sidecars_and_is_remembered(make_sandbox, tmp_path):
    client, env, dest = account(make_sandbox, tmp_path, seed=176)

    def sidecars_of(item_id: str) -> tuple[bool, bool]:
        path = catalog_rows(dest, "SELECT path FROM photos WHERE id = ?", [item_id])[0]["path"]
        return (dest / (path + ".json")).is_file(), (dest / (path + ".xmp")).is_file()

    backup(env, dest, "--xmp")
    assert all(sidecars_of(i) == (True, True) for i in client.manifest())
    off = client.control("add", title="after --no-xmp")["items"][0]["id"]
    backup(env, dest, "--no-xmp")
    assert sidecars_of(off) == (True, False)
    later = client.control("add", title="a run later")["items"][0]["id"]
    backup(env, dest)
    assert sidecars_of(later) == (True, False)


# --- --api-base as a flag --------------------------------------------------------------------

def test_api_base_as_a_flag_wins_over_the_environment(make_sandbox, tmp_path):
    client, _, dest = account(make_sandbox, tmp_path, seed=177)
    # The environment names a closed local port: only the flag can reach the sandbox, and a
    # flag that were ignored could reach nothing but 127.0.0.1.
    env = exodus_env(client, tmp_path, EXODUS_API_BASE="http://127.0.0.1:9")
    done = exodus(["backup", str(dest), "--json", "--api-base", client.base], env)
    assert done.returncode == 0, done.stderr
    assert_complete(client, dest)
    remote = exodus(["verify", str(dest), "--json", "--remote", "--api-base", client.base], env)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert json.loads(remote.stdout)["checked"]["remote"]


# --- verify exit 3 ---------------------------------------------------------------------------

def test_verify_exits_3_when_only_the_user_can_finish(make_sandbox, tmp_path):
    # Video originals need the owner's browser session: without --cookies they need the user.
    client, env, dest = account(make_sandbox, tmp_path, photos=3, videos=1, seed=178, video_size=(20_000, 30_000))
    assert exodus(["backup", str(dest), "--json"], env).returncode == 3
    video = next(i for i, m in client.manifest().items() if m["media"] == "video")
    done = exodus(["verify", str(dest), "--json"], env)
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert not report["ok"] and report["counts"]["problems"] == 0 and report["counts"]["whole"] == 3
    assert [n["id"] for n in report["needs_user"]] == [video]
    text = exodus(["verify", str(dest)], env)
    assert text.returncode == 3 and "Traceback" not in text.stderr


# --- two processes, one quota ledger -----------------------------------------------------

def two_backups(client, tmp_path, shared: bool) -> None:
    """Two backups side by side, each with its own DEST, under one API key; with `shared`
    they keep their quota ledger in the same state directory, as two runs of one user do."""
    procs = []
    for n in range(2):
        home = tmp_path / ("home" if shared else f"home{n}")
        env = exodus_env(client, home, EXODUS_API_RATE="8/2")
        procs.append(subprocess.Popen([*EXODUS, "backup", str(tmp_path / f"dest{n}"), "--json", "--no-deep"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=110)
        assert proc.returncode == 0, err


def test_two_processes_share_one_quota_ledger(make_sandbox, tmp_path):
    # The sandbox enforces the very quota the client is given: one ledger, no 429.
    client = make_sandbox(photos=6, videos=0, albums=2, seed=179, media_size=(2_000, 3_000), rate_limit=(8, 2.0))
    two_backups(client, tmp_path / "shared", shared=True)
    assert client.stats()["rate_limited"] == 0
    assert client.stats()["api_calls_total"] > 16  # enough calls that two budgets would overrun one
    # The control: two ledgers spend twice the budget, and the sandbox says so.
    client.control("reset-stats")
    two_backups(client, tmp_path / "apart", shared=False)
    assert client.stats()["rate_limited"] > 0
