"""One line, never a traceback, data kept: a disk that fills at any step, a damaged or
lost catalog, a read-only DEST, odd export JSON, terminal escapes in what Flickr or a zip
says, and dry runs that write nothing. Every command runs as the user runs it (a
subprocess); a full disk is a real one (a small tmpfs), a read-only DEST a read-only bind
mount, so these tests need root to mount, and say so when they cannot."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web

from conftest import (EXODUS, assert_complete, backed_up, catalog_rows, exodus, exodus_env,
                      private_copy)
from flickr_exodus.sandbox import SandboxConfig
from threaded_app import ThreadedApp

SMALL = dict(photos=6, videos=1, albums=2, seed=151, video_access="oauth", media_size=(3_000, 6_000),
             video_size=(20_000, 30_000))


def one_line(done) -> str:
    """The command's whole stderr: one line, exodus's, no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("exodus: "), done.stderr
    return lines[0]


def tree(dest: Path) -> dict[str, str]:
    """Every file under DEST but the lock, the logs and SQLite's shared memory, with its
    sha256 (links: their target)."""
    out = {}
    for path in sorted(dest.rglob("*")):
        relative = path.relative_to(dest).as_posix()
        if relative.startswith("logs") or relative == ".exodus.lock" or relative == "catalog.db-shm":
            continue
        if relative == "catalog.db-wal" and not path.stat().st_size:
            continue  # SQLite's, empty: nothing in it
        if path.is_symlink():
            out[relative] = "-> " + os.readlink(path)
        elif path.is_file():
            out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@contextmanager
def small_disk(where: Path, size: str = "16m"):
    """A real disk that fills: a tmpfs of `size` at `where`."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as error:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {error}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@contextmanager
def read_only_view(source: Path, where: Path):
    """`source` seen through a read-only bind mount at `where` (root ignores chmod)."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        mount("--bind", str(source), str(where))
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as error:
        pytest.skip(f"cannot bind-mount (needs root): {error}")
    try:
        mount("-o", "remount,ro,bind", str(where))
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def fill(disk: Path) -> Path:
    """Write zeros until the disk says ENOSPC; the filler is returned, to free it later."""
    filler = disk / "filler"
    # Unbuffered: a buffered file keeps what a failed flush could not write, and its close
    # raises ENOSPC again.
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    try:
        with open(disk / "probe", "wb") as probe:
            probe.write(b"\0" * 8192)
            probe.flush()
            os.fsync(probe.fileno())
        raise AssertionError("the disk is not full")
    except OSError:
        (disk / "probe").unlink(missing_ok=True)
    return filler


def run_with_disk_filled_at(point: str, args: list[str], env: dict, disk: Path) -> subprocess.CompletedProcess:
    """Run exodus until it reaches `point` (EXODUS_PAUSE_AT stops it there), fill the disk
    under it, and let it go on."""
    process = subprocess.Popen([*EXODUS, *args], env={**env, "EXODUS_PAUSE_AT": point}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 90
    while not stopped(process.pid):
        assert process.poll() is None, f"exodus ended before {point}: {process.communicate()}"
        assert time.monotonic() < deadline, f"exodus never reached {point}"
        time.sleep(0.05)
    fill(disk)
    os.kill(process.pid, signal.SIGCONT)
    out, err = process.communicate(timeout=90)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state == "T"


# --- a full disk -----------------------------------------------------------------------

@pytest.mark.parametrize("point", ["backup-finish:1", "backup-tree:1"])
def test_a_disk_that_fills_at_the_end_of_a_backup_is_one_line_and_the_rerun_completes(make_sandbox, tmp_path,
                                                                                        point):
    client = make_sandbox(**SMALL)
    env = exodus_env(client, tmp_path)
    with small_disk(tmp_path / "disk") as disk:
        dest = disk / "dest"
        done = run_with_disk_filled_at(point, ["backup", str(dest), "--quiet"], env, disk)
        assert done.returncode == 1
        assert "disk is full" in one_line(done)
        rows = catalog_rows(dest)
        assert {r["state"] for r in rows} == {"downloaded"}  # every file fetched is kept
        for row in rows:
            assert hashlib.sha256((dest / row["path"]).read_bytes()).hexdigest() == row["sha256"]
        (disk / "filler").unlink()
        rerun = exodus(["backup", str(dest), "--json"], env)
        assert rerun.returncode == 0, rerun.stderr
        assert_complete(client, dest)
        assert catalog_rows(dest, "SELECT status FROM runs ORDER BY id DESC LIMIT 1")[0]["status"] == "done"


@pytest.mark.parametrize("command", [["backup"], ["verify"]])
def test_a_disk_full_before_the_command_starts_is_one_line(tmp_path, command):
    with backed_up(tmp_path, SandboxConfig(**SMALL)) as (client, env, built):
        with small_disk(tmp_path / "disk", "4m") as disk:
            dest = disk / "dest"
            subprocess.run(["cp", "-a", str(built), str(dest)], check=True)
            before = tree(dest)
            filler = fill(disk)
            done = exodus([*command, str(dest)], env, stdin=subprocess.DEVNULL)
            assert done.returncode == 1
            assert "disk is full" in one_line(done)
            assert tree(dest) == before
            filler.unlink()
            again = exodus([*command, str(dest), "--json"], env)
            assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("point", ["import-item:2", "import-finish:1"])
def test_a_disk_that_fills_during_import_export_is_one_line_and_the_rerun_completes(make_sandbox, tmp_path, point):
    client = make_sandbox(photos=8, videos=0, albums=2, seed=152, media_size=(40_000, 60_000))
    env = exodus_env(client, tmp_path)
    written = client.control("export", dir=str(tmp_path / "export"), defects=[])
    assert written["media"]
    parts = [str(p) for p in sorted((tmp_path / "export").iterdir())]
    with small_disk(tmp_path / "disk") as disk:
        dest = disk / "dest"
        done = run_with_disk_filled_at(point, ["import-export", str(dest), *parts, "--quiet"], env, disk)
        assert done.returncode == 1
        assert "disk is full" in one_line(done)
        for row in catalog_rows(dest, "SELECT id, path, sha256 FROM photos WHERE sha256 IS NOT NULL"):
            assert hashlib.sha256((dest / row["path"]).read_bytes()).hexdigest() == row["sha256"]
        (disk / "filler").unlink()
        rerun = exodus(["import-export", str(dest), *parts, "--json"], env)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        manifest = client.manifest()
        rows = catalog_rows(dest)
        assert {r["id"] for r in rows} == set(manifest)
        for row in rows:
            assert row["state"] == "downloaded"
            assert row["sha256"] == manifest[row["id"]]["sha256"]
            assert hashlib.sha256((dest / row["path"]).read_bytes()).hexdigest() == row["sha256"]
        assert not list(dest.rglob("*.part"))


# --- a damaged or lost catalog -----------------------------------------------------------

@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A backed-up, verified account, shared: each test damages its own copy."""
    home = tmp_path_factory.mktemp("account")
    with backed_up(home, SandboxConfig(**SMALL)) as (client, env, dest):
        assert exodus(["verify", str(dest), "--json"], env).returncode == 0
        yield client, env, dest


def damage(catalog: Path, kind: str) -> None:
    data = catalog.read_bytes()
    if kind == "empty":
        catalog.write_bytes(b"")
    elif kind == "missing":
        catalog.unlink()
    elif kind == "random":
        catalog.write_bytes(os.urandom(len(data)))
    elif kind == "truncated":
        catalog.write_bytes(data[:len(data) // 2 + 1000])
    elif kind == "pages":  # whole length, a valid header, garbage inside: only quick_check sees it
        damaged = bytearray(data)
        for page in range(2, len(data) // 4096, 2):
            damaged[page * 4096 + 8:page * 4096 + 208] = os.urandom(200)
        catalog.write_bytes(bytes(damaged))


COMMANDS = {
    "status": ["status", "{dest}"], "verify": ["verify", "{dest}"], "repair": ["verify", "--repair", "{dest}"],
    "delete": ["delete-remote", "--yes", "{dest}"], "lockdown": ["lockdown", "--yes", "{dest}"],
    "push": ["push", "{dest}", "rclone::local:{target}"], "backup": ["backup", "{dest}"],
    "audit": ["audit", "--no-faces", "{dest}"],
}


@pytest.mark.parametrize("kind", ["empty", "missing", "random", "truncated"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_damaged_or_lost_catalog_is_one_line_and_nothing_changes(account, tmp_path, kind, command):
    client, env, dest = private_copy(account, tmp_path)
    damage(dest / "catalog.db", kind)
    before = tree(dest)
    args = [a.format(dest=dest, target=tmp_path / "pushed") for a in COMMANDS[command]]
    done = exodus(args, env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    line = one_line(done)
    if kind in ("empty", "missing"):  # beside a backup's files: never a new backup
        assert "holds a backup's files" in line and "--adopt" in line
    else:
        assert "damaged" in line and "Restore catalog.db from a copy" in line
    assert tree(dest) == before  # the tree, and the catalog's bytes, as they were
    assert not (tmp_path / "pushed").exists()
    assert client.stats()["deleted"] == 0


@pytest.mark.parametrize("command", ["delete", "lockdown", "push", "repair", "audit"])
def test_quick_check_runs_before_any_change_and_refuses(account, tmp_path, command):
    client, env, dest = private_copy(account, tmp_path)
    damage(dest / "catalog.db", "pages")
    before = tree(dest)
    args = [a.format(dest=dest, target=tmp_path / "pushed") for a in COMMANDS[command]]
    done = exodus(args, env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "is damaged" in one_line(done)
    assert tree(dest) == before
    assert not (tmp_path / "pushed").exists()
    changes = ("flickr.photos.delete", "flickr.photos.setPerms", "flickr.photos.licenses.setLicense")
    assert not set(client.stats()["api_calls"]) & set(changes)


@pytest.mark.parametrize("command", ["status", "verify"])
def test_reading_a_damaged_catalog_is_one_line(account, tmp_path, command):
    _, env, dest = private_copy(account, tmp_path)
    damage(dest / "catalog.db", "pages")
    done = exodus([command, str(dest)], env)
    assert done.returncode == 2
    assert "catalog" in one_line(done)


def test_an_empty_catalog_in_an_empty_folder_is_a_new_backup(make_sandbox, tmp_path):
    client = make_sandbox(**SMALL)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "catalog.db").write_bytes(b"")
    done = exodus(["backup", str(dest), "--json"], exodus_env(client, tmp_path))
    assert done.returncode == 0, done.stderr
    assert_complete(client, dest)


# --- a read-only DEST ---------------------------------------------------------------------

def test_a_read_only_dest_is_read_and_never_written(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    (dest / ".exodus.lock").unlink()  # no lock needed to read
    with read_only_view(dest, tmp_path / "ro") as view:
        before = tree(view)
        status = exodus(["status", str(view), "--json"], env)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["counts"]["downloaded"] == len(catalog_rows(dest))
        for args in (["verify", str(view), "--json"], ["verify", str(view), "--remote", "--json"]):
            done = exodus(args, env)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
            report = json.loads(done.stdout)
            assert report["ok"] and report["counts"]["whole"] == len(catalog_rows(dest))
        for command in ("repair", "delete", "lockdown", "push", "backup", "audit"):
            args = [a.format(dest=view, target=tmp_path / "pushed") for a in COMMANDS[command]]
            done = exodus(args, env, stdin=subprocess.DEVNULL)
            assert done.returncode == 2, (command, done.stderr)
            assert "read-only" in one_line(done), command
        assert tree(view) == before
        assert not (view / ".exodus.lock").exists()
    assert client.stats()["deleted"] == 0
    assert not (tmp_path / "pushed").exists()


# --- dry runs ----------------------------------------------------------------------------

def catalog_files(dest: Path) -> dict[str, tuple]:
    """catalog.db and its -wal, bytes and mtime (the -shm is SQLite's shared memory, a
    reader's too)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in dest.iterdir()
            if p.name in ("catalog.db", "catalog.db-wal")}


def test_dry_runs_write_nothing_to_the_catalog(make_sandbox, tmp_path):
    client = make_sandbox(**{**SMALL, "seed": 153})
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert exodus(["verify", str(dest), "--json"], env).returncode == 0
    # A delete-remote killed between its journal's intent and Flickr's answer leaves an
    # open intent and the catalog's -wal behind: a dry run reads both and writes neither.
    killed = exodus(["delete-remote", str(dest), "--yes", "--json"], {**env, "EXODUS_DIE_AT": "delete-intent:1"})
    assert killed.returncode == -signal.SIGKILL
    assert (dest / "catalog.db-wal").exists()
    for args in (["delete-remote", str(dest)], ["lockdown", str(dest)], ["delete-remote", str(dest), "--json"]):
        before = catalog_files(dest)
        time.sleep(0.01)
        done = exodus(args, env, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert catalog_files(dest) == before, args
    assert json.loads(done.stdout)["dry_run"] is True
    assert catalog_rows(dest, "SELECT count(*) AS n FROM deletions WHERE result IS NULL")[0]["n"] == 1
    # The real run settles the intent first, as before.
    real = exodus(["delete-remote", str(dest), "--yes", "--json"], env)
    assert real.returncode == 0, real.stderr
    assert catalog_rows(dest, "SELECT count(*) AS n FROM deletions WHERE result IS NULL")[0]["n"] == 0
    # A clean catalog: a dry run leaves no -wal or -shm behind either.
    before = catalog_files(dest)
    assert set(before) == {"catalog.db"} and not (dest / "catalog.db-shm").exists()
    assert exodus(["lockdown", str(dest)], env, stdin=subprocess.DEVNULL).returncode == 0
    assert catalog_files(dest) == before and not (dest / "catalog.db-shm").exists()


# --- odd export JSON, CRC errors ---------------------------------------------------------

def rewrite_zip(path: Path, change) -> None:
    """The zip with each entry's bytes passed through change(name, data) (None: as it was)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            changed = change(info.filename, data)
            target.writestr(info, data if changed is None else changed)


ODD = {
    "a list where an object belongs": ("photo_", lambda doc: []),
    "a number where a list belongs": ("albums.json", lambda doc: {"albums": [{**doc["albums"][0], "photos": 7}]}),
    "a string where an object belongs": ("account_profile.json", lambda doc: "me"),
    "a number for a whole list": ("faves_part", lambda doc: {"faves": 5}),
}


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_export_json_is_named_file_and_entry_and_the_rest_comes_in(make_sandbox, tmp_path, case):
    client = make_sandbox(photos=5, videos=0, albums=2, seed=154, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    written = client.control("export", dir=str(tmp_path / "export"), defects=[])
    account_zip = tmp_path / "export" / written["account"][0]
    good = account_zip.read_bytes()
    prefix, change = ODD[case]
    hit = []

    def odd(name: str, data: bytes):
        if name.startswith(prefix) and not hit:
            hit.append(name)
            return json.dumps(change(json.loads(data))).encode()
        return None

    rewrite_zip(account_zip, odd)
    dest = tmp_path / "dest"
    parts = [str(p) for p in sorted((tmp_path / "export").iterdir())]
    # The odd file is named (zip and entry) and read as far as it can be; the rest of the
    # export comes in: exit 1, problems found, never a traceback.
    done = exodus(["import-export", str(dest), *parts, "--json"], env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    named = [p for p in json.loads(done.stdout)["problems"] if str(account_zip) in p["detail"]]
    assert len(named) == 1 and hit[0] in named[0]["detail"], named
    assert named[0]["kind"] in ("bad_shape", "bad_record")
    account_zip.write_bytes(good)  # the export downloaded again: the same DEST takes it whole
    rerun = exodus(["import-export", str(dest), *parts, "--json"], env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    manifest = client.manifest()
    assert {r["id"]: r["sha256"] for r in catalog_rows(dest)} == {i: m["sha256"] for i, m in manifest.items()}


def test_a_crc_error_in_export_json_is_one_line_and_keeps_the_backup(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    written = client.control("export", dir=str(tmp_path / "export"), defects=[])
    account_zip = tmp_path / "export" / written["account"][0]
    with zipfile.ZipFile(account_zip) as archive:
        info = next(i for i in archive.infolist() if i.filename.startswith("photo_"))
    data = bytearray(account_zip.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # the entry's own bytes: its CRC no longer matches
    account_zip.write_bytes(bytes(data))
    files, rows = tree(dest), catalog_rows(dest)
    done = exodus(["import-export", str(dest), *map(str, sorted((tmp_path / "export").iterdir()))], env)
    assert done.returncode == 2
    line = one_line(done)
    assert str(account_zip) in line and "cannot be read whole" in line
    assert tree(dest).keys() == files.keys()
    assert all(tree(dest)[name] == digest for name, digest in files.items() if name != "catalog.db")
    assert catalog_rows(dest) == rows  # every item as it was


# --- terminal escapes ----------------------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil"


def test_flickrs_words_reach_the_terminal_inert(tmp_path):
    """A Flickr that answers with escape sequences in its error message."""
    async def rest(request: web.Request) -> web.Response:
        return web.json_response({"stat": "fail", "code": 98, "message": f"Invalid token {ESCAPES}"})

    app = web.Application()
    app.router.add_route("*", "/services/rest/", rest)
    server = ThreadedApp(app, "hostile Flickr")
    url = server.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "EXODUS_"))}
        env.update(FLICKR_API_KEY="k", FLICKR_API_SECRET="s", FLICKR_OAUTH_TOKEN="t", FLICKR_OAUTH_TOKEN_SECRET="u",
                   EXODUS_API_BASE=f"http://{url}", EXODUS_BACKOFF="0.01", XDG_STATE_HOME=str(tmp_path / "state"),
                   XDG_CONFIG_HOME=str(tmp_path / "config"))
        done = exodus(["backup", str(tmp_path / "dest"), "--quiet"], env)
    finally:
        server.stop()
    assert done.returncode == 2
    line = one_line(done)
    assert "Invalid token" in line and "\\x1b]0;owned\\x07" in line and "\\u202eevil" in line
    assert not any(c in line for c in "\x1b\x07\x9b\u202e")


def test_zip_member_names_reach_the_terminal_inert_and_json_stays_exact(make_sandbox, tmp_path):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=155, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    client.control("export", dir=str(tmp_path / "export"), defects=[])
    stray = f"{ESCAPES}_99999999999_o.jpg"
    with zipfile.ZipFile(tmp_path / "export" / "data-download-9.zip", "w") as extra:
        extra.writestr(stray, b"\xff\xd8\xff\xe0 not an item")
    parts = [str(p) for p in sorted((tmp_path / "export").iterdir())]
    dest = tmp_path / "dest"
    text = exodus(["import-export", str(dest), *parts], env)
    assert text.returncode == 1, text.stderr
    assert "99999999999" in text.stdout and "\\x1b]0;owned\\x07" in text.stdout
    assert not any(c in text.stdout + text.stderr for c in "\x1b\x07\x9b\u202e")
    as_json = exodus(["import-export", str(dest), *parts, "--json"], env)
    assert not any(c in as_json.stdout for c in "\x1b\x07\x9b\u202e")
    problems = json.loads(as_json.stdout)["problems"]
    assert any(p["detail"].startswith(stray + ":") for p in problems)  # the same name, exactly
