"""A backup is the user's alone: exodus makes its folders 0700 and its files 0600 (the
tree, catalog.db, logs, sidecars, links.csv, the faves, an imported export) whatever the
user's umask, keeps a stricter one, leaves an older tree's modes alone but says so, and
keeps the static URLs of non-public items out of links.csv unless asked."""

from __future__ import annotations

import csv
import json
import os
import stat
import time
from pathlib import Path

import pytest

from conftest import catalog_rows, exodus, exodus_env

from flickr_exodus.backup.run import BackupOptions, run_backup
from flickr_exodus.flickr import Credentials

SMALL = dict(photos=20, videos=2, albums=2, media_size=(3_000, 6_000), video_size=(20_000, 30_000),
             video_access="open")


def with_umask(mask: int):
    """For subprocess: the child starts with this umask, as a user's shell would give it."""
    return lambda: os.umask(mask)


def modes(dest: Path) -> dict[str, int]:
    """{path relative to DEST: permission bits} of DEST, every folder and file under it
    (links skipped: their own bits mean nothing)."""
    found = {".": stat.S_IMODE(dest.lstat().st_mode)}
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            path = Path(root, name)
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode):
                found[path.relative_to(dest).as_posix()] = stat.S_IMODE(info.st_mode)
    return found


def not_private(dest: Path) -> list[tuple[str, str]]:
    return [(p, oct(m)) for p, m in modes(dest).items()
            if m != (0o700 if (dest / p).is_dir() else 0o600)]


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_backup_tree_catalog_and_logs_are_private_whatever_the_umask(make_sandbox, tmp_path, mask):
    client = make_sandbox(seed=161, **SMALL)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--xmp", "--faves", "--json"], env, preexec_fn=with_umask(mask))
    assert done.returncode == 0, done.stderr
    done = exodus(["verify", str(dest), "--json"], env, preexec_fn=with_umask(mask))
    assert done.returncode == 0, done.stdout
    found = modes(dest)
    # What the check covers is really there: every kind of file exodus writes.
    for name in ("catalog.db", "links.csv", ".exodus.lock"):
        assert name in found
    for kind in (".log", ".jpg", ".json", ".xmp"):
        assert any(p.endswith(kind) for p in found), kind
    assert any(p.startswith("faves/") for p in found) and any(p.startswith("albums/") for p in found)
    assert len([p for p in found if p.startswith("logs/")]) >= 2  # backup's and verify's
    assert not_private(dest) == []


def test_an_imported_export_is_private_too(make_sandbox, tmp_path):
    client = make_sandbox(seed=162, **SMALL)
    env = exodus_env(client, tmp_path)
    client.control("export", dir=str(tmp_path / "export"), defects=[])
    dest = tmp_path / "dest"
    done = exodus(["import-export", str(dest), *map(str, sorted((tmp_path / "export").iterdir())), "--json"],
                  env, preexec_fn=with_umask(0o022))
    assert done.returncode in (0, 3), done.stdout + done.stderr
    assert any(p.endswith(".jpg") for p in modes(dest))
    assert not_private(dest) == []


def test_an_older_world_readable_tree_is_left_as_it_is_and_said_once(make_sandbox, tmp_path):
    client = make_sandbox(seed=163, **SMALL)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env, preexec_fn=with_umask(0o022)).returncode == 0
    for path, _ in modes(dest).items():  # as an exodus before this one left it
        (dest / path).chmod(0o755 if (dest / path).is_dir() else 0o644)
    older = set(modes(dest))
    client.control("add", count=1)
    time.sleep(1.1)  # this run's log is a new file, not the last run's (named to the second)
    done = exodus(["backup", str(dest)], env, preexec_fn=with_umask(0o022))
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "open to other users" in line]
    assert len(said) == 1, done.stderr
    assert "chmod -R go=" in said[0]
    now = modes(dest)
    assert {p: m for p, m in now.items() if p in older and p not in ("catalog.db", "links.csv")} == \
        {p: 0o755 if (dest / p).is_dir() else 0o644 for p in older if p not in ("catalog.db", "links.csv")}
    new = {p: m for p, m in now.items() if p not in older}
    assert any(p.startswith("logs/") for p in new) and any(p.startswith("photos/") for p in new), new
    assert [p for p, m in new.items() if m != (0o700 if (dest / p).is_dir() else 0o600)] == []


def test_a_library_caller_gets_a_new_dest_no_one_else_can_enter(make_sandbox, tmp_path, monkeypatch):
    """No umask change in the library (it is the host process's), but DEST itself is 0700."""
    client = make_sandbox(seed=164, **SMALL)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("EXODUS_BACKOFF", "0.01")
    info = client.info
    creds = Credentials(info["api_key"], info["api_secret"], info["oauth_token"], info["oauth_token_secret"])
    dest = tmp_path / "new" / "dest"
    old = os.umask(0o022)
    try:
        code, _ = run_backup(BackupOptions(dest=dest, quiet=True, api_base=client.base, api_rate=(100000, 1.0),
                                           creds=creds))
        assert os.umask(0o022) == 0o022  # the host's umask is its own
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700


def links(dest: Path) -> dict[str, list[str]]:
    """{item id: its URLs in links.csv}."""
    out: dict[str, list[str]] = {}
    with open(dest / "links.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] == "item":
                out.setdefault(row["id"], []).append(row["flickr_url"])
    return out


def static(item_id: str, urls: list[str]) -> list[str]:
    """The URLs that open the image itself: Flickr's CDN shape, {server}/{id}_{secret}..."""
    return [u for u in urls if "staticflickr" in u or f"/{item_id}_" in u]


def test_links_csv_keeps_static_urls_of_non_public_items_out_unless_asked(make_sandbox, tmp_path):
    client = make_sandbox(seed=165, **SMALL)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    rows = {r["id"]: r for r in catalog_rows(dest)}
    public = {i for i, r in rows.items() if r["is_public"] == 1}
    hidden = set(rows) - public
    assert public and hidden
    listed = links(dest)
    assert set(listed) == set(rows)
    assert all(static(i, listed[i]) for i in public)
    assert {i: static(i, listed[i]) for i in hidden} == {i: [] for i in hidden}
    assert all(len(listed[i]) == 2 for i in hidden)  # the page and the flic.kr link stay
    for i in hidden:  # the catalog keeps every URL
        assert any(k.startswith("url_") for k in json.loads(rows[i]["raw"])), i

    asked = exodus(["backup", str(dest), "--links-with-private-urls", "--json"], env)
    assert asked.returncode == 0, asked.stderr
    listed = links(dest)
    assert all(static(i, listed[i]) for i in hidden)

    assert exodus(["backup", str(dest), "--json"], env).returncode == 0  # for that run only
    listed = links(dest)
    assert not any(static(i, listed[i]) for i in hidden)


def test_sidecars_of_non_public_items_carry_no_url_secret(make_sandbox, tmp_path):
    """Sidecars go wherever push sends the backup: an item's secrets (which build URLs that
    open it for anyone) stay in the catalog unless the item is public."""
    client = make_sandbox(seed=166, **SMALL)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    rows = {r["id"]: r for r in catalog_rows(dest)}
    hidden = {i for i, r in rows.items() if r["is_public"] != 1 and r["path"]}
    public = {i for i, r in rows.items() if r["is_public"] == 1 and r["path"]}
    assert hidden and public
    for item_id in hidden | public:
        raw = json.loads(rows[item_id]["raw"])
        text = (dest / (rows[item_id]["path"] + ".json")).read_text()
        secrets = [raw[k] for k in ("secret", "originalsecret") if raw.get(k)]
        assert secrets, item_id  # the catalog has them: the check below can fail
        if item_id in hidden:
            assert not [s for s in secrets if s in text], item_id
            assert json.loads(text)["original"]["sha256"] == rows[item_id]["sha256"]
        else:
            assert all(s in text for s in secrets), item_id


def test_help_names_the_option_and_why():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "flickr_exodus", "backup", "--help"], capture_output=True,
                          text=True, timeout=60)
    text = " ".join(done.stdout.split())
    assert "--links-with-private-urls" in text and "Anyone who holds such a URL can open the photo" in text
