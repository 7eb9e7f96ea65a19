"""`exodus push` to real servers on 127.0.0.1: an S3 store (`rclone serve s3`, which checks
signatures) and a WebDAV server (wsgidav). Every object's bytes equal the local file; a
rerun sends nothing; a replaced photo sends exactly its files; a kill -9 is finished by the
rerun; bad targets get one line and nothing recorded."""

from __future__ import annotations

from contextlib import contextmanager
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import backed_up, catalog_rows, exodus, exodus_env, private_copy, sha256_file
from flickr_exodus.sandbox import SandboxConfig

RCLONE = str(Path(sys.executable).with_name("rclone"))
KEY, SECRET = "AKIDEXODUS", "SECRETSECRETSECRET"


@contextmanager
def rclone_serve(kind: str, root: Path, env: dict, *args: str):
    """`rclone serve KIND` of a folder on a free port of 127.0.0.1; yields its base URL."""
    proc = subprocess.Popen([RCLONE, "serve", kind, "--addr", "127.0.0.1:0", *args, str(root)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    url = None
    for line in proc.stderr:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if found:
            url = found.group(1)
            break
    assert url, f"rclone serve {kind} did not start"
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its pipe drained
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3(tmp_path):
    """rclone serve s3 on a free port; its data folder holds one bucket, 'backup'."""
    data = tmp_path / "s3data"
    (data / "backup").mkdir(parents=True)
    with rclone_serve("s3", data, {"RCLONE_AUTH_KEY": f'"{KEY},{SECRET}"'}) as url:
        yield url, data / "backup"


def free_ports(count: int) -> list[int]:
    """Ports free now on 127.0.0.1, each with port + 10000 free too (SeaweedFS puts its
    gRPC there unless told otherwise)."""
    import socket

    found, held = [], []
    while len(found) < count:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        held.append(probe)
        port = probe.getsockname()[1]
        if port < 55000:
            found.append(port)
    for probe in held:
        probe.close()
    return found


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    """SeaweedFS `weed mini` (master, volume, filer and S3 gateway in one process), every
    port on 127.0.0.1 chosen here; a bucket 'backup'. Yields (endpoint URL, S3 client)."""
    import time

    import botocore.config
    import botocore.exceptions
    import botocore.session

    home = tmp_path_factory.mktemp("seaweedfs")
    (home / "s3.json").write_text(json.dumps({"identities": [{"name": "exodus", "credentials": [
        {"accessKey": KEY, "secretKey": SECRET}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    names = ["s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
             "filer.port", "filer.port.grpc", "admin.port", "admin.port.grpc"]
    ports = dict(zip(names, free_ports(len(names))))
    (home / "data").mkdir()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("weed")), "mini", f"-dir={home / 'data'}",
                             "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={home / 's3.json'}",
                             "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                             "-bucket=backup", *(f"-{name}={port}" for name, port in ports.items())],
                            stdout=subprocess.DEVNULL, stderr=open(home / "weed.log", "w"))
    url = f"http://127.0.0.1:{ports['s3.port']}"
    session = botocore.session.get_session()
    client = session.create_client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    probe = session.create_client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))
    # Ready means what the tests do: a signed write into the bucket 'backup' and its removal.
    # /healthz answers about 0.7 s before `-bucket=backup` has made the bucket, and a bucket
    # can exist before a volume takes writes.
    deadline = time.monotonic() + 60
    while True:
        try:
            probe.put_object(Bucket="backup", Key="readiness-probe", Body=b"ready")
            probe.delete_object(Bucket="backup", Key="readiness-probe")
            break
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (home / "weed.log").read_text()[-2000:]
        time.sleep(0.1)
    yield url, client
    proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def rclone_webdav(tmp_path):
    """rclone serve webdav on a free port, user u, password p."""
    root = tmp_path / "rclone-dav"
    root.mkdir()
    with rclone_serve("webdav", root, {"RCLONE_PASS": "p"}, "--user", "u") as url:
        yield url.removeprefix("http://"), root


@pytest.fixture
def webdav(tmp_path):
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root = tmp_path / "davroot"
    root.mkdir()
    app = WsgiDAVApp({"host": "127.0.0.1", "port": 0, "provider_mapping": {"/": str(root)},
                      "http_authenticator": {"domain_controller": None, "accept_basic": True,
                                             "accept_digest": False, "default_to_digest": False},
                      "simple_dc": {"user_mapping": {"*": {"u": {"password": "p"}}}},
                      "verbose": 0, "logging": {"enable": False}, "property_manager": True, "lock_storage": True})
    server = wsgi.Server(("127.0.0.1", 0), app)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.bind_addr[1]}", root
    server.stop()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    config = SandboxConfig(photos=20, videos=2, albums=2, seed=111, video_access="oauth",
                           media_size=(3_000, 6_000), video_size=(20_000, 40_000))
    with backed_up(tmp_path_factory.mktemp("push"), config, "--xmp") as account:
        yield account


@pytest.fixture
def copy(finished, tmp_path):
    return private_copy(finished, tmp_path)


def s3_target(url: str, target: str) -> str:
    """The name exodus records pushes to `target` under, at the endpoint `url`."""
    return f"{target} ({urlsplit(url).netloc})"


def s3_env(env, url, **extra):
    return {**env, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ENDPOINT_URL": url, **extra}


def push(env, dest, target, *args):
    done = exodus(["push", str(dest), target, "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done


def expected_keys(dest) -> set[str]:
    keys = {"catalog.db", "links.csv"}
    for row in catalog_rows(dest, "SELECT path, media FROM photos WHERE sha256 IS NOT NULL"):
        keys |= {row["path"], row["path"] + ".json", row["path"] + ".xmp"}
        if row["media"] == "video":  # its poster, a companion like the sidecars
            keys.add(row["path"] + ".poster.jpg")
    keys |= {r["path"] for r in catalog_rows(dest, "SELECT path FROM versions")}
    return keys


def stored(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_push_to_s3_then_a_rerun_sends_nothing(copy, s3):
    _, env, dest = copy
    url, bucket = s3
    code, report, done = push(s3_env(env, url), dest, "s3://backup/flickr")
    assert code == 0, done.stderr
    root = bucket / "flickr"
    assert stored(root) == expected_keys(dest)
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(root / key) == sha256_file(dest / key), key
    snapshot = sqlite3.connect(root / "catalog.db")
    assert snapshot.execute("SELECT count(*) FROM photos").fetchone()[0] == len(catalog_rows(dest))
    snapshot.close()
    assert not [k for k in stored(root) if k.startswith("logs/") or k.endswith(("-wal", "-shm", ".lock"))]
    # Listed back through the target itself.
    import asyncio

    from flickr_exodus.targets import open_target

    async def listing():
        os.environ.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_ENDPOINT_URL=url)
        target = open_target("s3://backup/flickr")
        await target.open()
        try:
            return {o.key: o.size async for o in target.list()}
        finally:
            await target.close()

    listed = asyncio.run(listing())
    assert listed == {k: (dest / k).stat().st_size for k in expected_keys(dest) - {"catalog.db"}} | \
        {"catalog.db": (root / "catalog.db").stat().st_size}
    code, report, _ = push(s3_env(env, url), dest, "s3://backup/flickr")
    assert code == 0 and report["counts"]["sent"] == 0 and report["counts"]["unchanged"] == len(expected_keys(dest))


def test_s3_credentials_from_a_profile_file(copy, s3, tmp_path):
    """Keys in the environment open an S3 target with one signed HEAD; keys only in a
    shared credentials file go through botocore's chain, and sign the uploads too."""
    _, env, dest = copy
    url, bucket = s3
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[good]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
                           f"[bad]\naws_access_key_id = {KEY}\naws_secret_access_key = wrong\n")
    profile = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                          "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")}
    profile.update(AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_ENDPOINT_URL=url)
    code, _, done = push({**profile, "AWS_PROFILE": "bad"}, dest, "s3://backup/profile")
    assert code == 2 and "refused the credentials" in done.stderr, done.stderr
    code, report, done = push({**profile, "AWS_PROFILE": "good"}, dest, "s3://backup/profile")
    assert code == 0 and report["counts"]["failed"] == 0, done.stderr
    assert stored(bucket / "profile") == expected_keys(dest)
    code, report, _ = push({**profile, "AWS_PROFILE": "good"}, dest, "s3://backup/profile")
    assert code == 0 and report["counts"]["sent"] == 0


def test_a_replaced_photo_sends_exactly_its_files(copy, s3):
    client, env, dest = copy
    url, _ = s3
    assert push(s3_env(env, url), dest, "s3://backup/x")[0] == 0
    before = {r["key"]: r["pushed_at"] + r["sha256"] for r in catalog_rows(dest, "SELECT * FROM pushes")}
    victim = next(r for r in catalog_rows(dest) if r["media"] == "photo")
    client.control("replace", id=victim["id"])
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    code, report, _ = push(s3_env(env, url), dest, "s3://backup/x")
    assert code == 0
    after = {r["key"]: r["pushed_at"] + r["sha256"] for r in catalog_rows(dest, "SELECT * FROM pushes")}
    sent = {k for k in after if before.get(k) != after[k]}
    path = catalog_rows(dest, "SELECT path FROM photos WHERE id = ?", [victim["id"]])[0]["path"]
    version = catalog_rows(dest, "SELECT path FROM versions WHERE photo_id = ?", [victim["id"]])[0]["path"]
    mine = {path, path + ".json", path + ".xmp", version, version + ".json", version + ".xmp"}
    # Its new file and the earlier one; besides them only links.csv (new secrets) and the catalog.
    assert {path, version} <= sent <= mine | {"links.csv", "catalog.db"}


def test_kill_9_mid_push_then_rerun_completes_without_duplicates(copy, s3):
    _, env, dest = copy
    url, bucket = s3
    done = exodus(["push", str(dest), "s3://backup/k", "--concurrency", "2"],
                  {**s3_env(env, url), "EXODUS_DIE_AT": "push-item:7"})
    assert done.returncode == -9  # killed with 7 files sent but at most 6 recorded
    assert len(catalog_rows(dest, "SELECT * FROM pushes")) < 7 <= len(stored(bucket / "k"))
    code, report, _ = push(s3_env(env, url), dest, "s3://backup/k")
    assert code == 0
    assert stored(bucket / "k") == expected_keys(dest)
    keys = [r["key"] for r in catalog_rows(dest, "SELECT key FROM pushes WHERE target = ?",
                                                  [s3_target(url, "s3://backup/k")])]
    assert sorted(keys) == sorted(expected_keys(dest))


def test_bad_targets_get_one_line_and_nothing_recorded(copy, s3):
    _, env, dest = copy
    url, _ = s3
    cases = [(s3_env(env, url, AWS_SECRET_ACCESS_KEY="wrong"), "s3://backup/p", "refused the credentials"),
             (s3_env(env, "http://127.0.0.1:9"), "s3://backup/p", "cannot reach"),
             (s3_env(env, url), "s3://no-such-bucket/p", "does not exist"),
             (env, "ftp://example/x", "unknown target")]
    for environment, target, words in cases:
        done = exodus(["push", str(dest), target], environment)
        assert done.returncode == 2 and words in done.stderr, (target, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1
    assert catalog_rows(dest, "SELECT * FROM pushes") == []


def test_push_to_webdav_and_a_wrong_password(copy, webdav):
    _, env, dest = copy
    host, root = webdav
    code, report, done = push(env, dest, f"webdav://u:p@{host}/photos-backup")
    assert code == 0, done.stderr
    there = root / "photos-backup"
    assert stored(there) == expected_keys(dest)
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(there / key) == sha256_file(dest / key), key
    code, report, _ = push(env, dest, f"webdav://u:p@{host}/photos-backup")
    assert report["counts"]["sent"] == 0
    done = exodus(["push", str(dest), f"webdav://u:wrong@{host}/other"], env)
    assert done.returncode == 2 and "refused" in done.stderr and "wrong" not in done.stderr


def test_delete_remote_can_require_a_push(make_sandbox, tmp_path, s3):
    """Only what was pushed to the named target (as it is now) may go."""
    client = make_sandbox(photos=5, videos=0, albums=1, seed=112, media_size=(3_000, 4_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    url, _ = s3
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert exodus(["verify", str(dest), "--json"], env).returncode == 0
    assert push(s3_env(env, url), dest, "s3://backup/r")[0] == 0
    ids = sorted(r["id"] for r in catalog_rows(dest))
    with sqlite3.connect(dest / "catalog.db") as conn:  # as if one item had never been pushed
        conn.execute("DELETE FROM pushes WHERE key = (SELECT path FROM photos WHERE id = ?)", [ids[0]])
    done = exodus(["delete-remote", str(dest), "--yes", "--json", "--require-pushed", "s3://backup/r"],
                  s3_env(env, url))
    assert json.loads(done.stdout)["counts"]["by_reason"]["not_pushed"] == 1
    assert {i for i, m in client.manifest().items() if m["deleted"]} == set(ids[1:])


def test_push_through_rclone_to_a_folder_and_to_s3(copy, s3, tmp_path):
    _, env, dest = copy
    url, bucket = s3
    folder = tmp_path / "rclone-folder"
    code, report, done = push(env, dest, f"rclone:{folder}")
    assert code == 0, done.stderr
    assert stored(folder) == expected_keys(dest)
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(folder / key) == sha256_file(dest / key), key
    assert push(env, dest, f"rclone:{folder}")[1]["counts"]["sent"] == 0
    remote = f"rclone::s3,provider=Rclone,endpoint='{url}',access_key_id={KEY},secret_access_key={SECRET}:backup/rc"
    code, report, done = push(env, dest, remote)
    assert code == 0, done.stderr
    assert stored(bucket / "rc") == expected_keys(dest)
    assert SECRET not in done.stdout + done.stderr  # the report names the remote without its secret
    assert {r["target"] for r in catalog_rows(dest, "SELECT DISTINCT target FROM pushes")} >= {
        f"rclone:{folder}", f"rclone::s3,provider=Rclone,endpoint='{url}',access_key_id=***,secret_access_key=***:backup/rc"}
    bad = exodus(["push", str(dest), "rclone:nosuchremote:x"], env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_dry_run_sends_nothing_and_says_what_would_go(copy, s3):
    _, env, dest = copy
    url, bucket = s3
    code, report, _ = push(s3_env(env, url), dest, "s3://backup/dry", "--dry-run")
    assert code == 0 and report["dry_run"] and report["counts"]["would_send"] == len(expected_keys(dest))
    assert not (bucket / "dry").exists() and catalog_rows(dest, "SELECT * FROM pushes") == []


def test_push_to_seaweedfs_object_store(copy, seaweedfs):
    """A second, independent S3 implementation: objects read back through its API."""
    _, env, dest = copy
    url, client = seaweedfs
    code, report, done = push(s3_env(env, url), dest, "s3://backup/sw")
    assert code == 0, done.stdout + done.stderr
    listed = {o["Key"][len("sw/"):]: o["Size"]
              for page in client.get_paginator("list_objects_v2").paginate(Bucket="backup", Prefix="sw/")
              for o in page.get("Contents", [])}
    assert set(listed) == expected_keys(dest)
    import hashlib
    for key in expected_keys(dest) - {"catalog.db"}:
        body = client.get_object(Bucket="backup", Key=f"sw/{key}")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == sha256_file(dest / key), key
    code, report, _ = push(s3_env(env, url), dest, "s3://backup/sw")
    assert code == 0 and report["counts"]["sent"] == 0


def test_a_large_file_goes_in_parts(seaweedfs, tmp_path, monkeypatch):
    """Above 64 MiB our own multipart, each part with its Content-MD5: SeaweedFS's ETag is
    then '<md5 of the parts' md5s>-N', which the push recomputes and compares; the bytes
    read back are the file's."""
    import asyncio
    import hashlib

    from flickr_exodus.targets.s3 import MULTIPART_ABOVE, PART_SIZE, S3Target

    url, client = seaweedfs
    big = tmp_path / "big.mp4"
    with open(big, "wb") as out:
        for _ in range(MULTIPART_ABOVE // (8 << 20) + 1):
            out.write(os.urandom(8 << 20))
    size = big.stat().st_size
    md5 = hashlib.md5(big.read_bytes()).hexdigest()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    async def send():
        target = S3Target("backup", "parts", url)
        await target.open()
        try:
            sent = await target.put("videos/big.mp4", big, md5, big.stat().st_mtime)
            return sent, await target.stat("videos/big.mp4")
        finally:
            await target.close()

    sent, there = asyncio.run(send())
    parts = -(-size // PART_SIZE)
    with open(big, "rb") as handle:
        digests = b"".join(hashlib.md5(block).digest() for block in iter(lambda: handle.read(PART_SIZE), b""))
    assert sent.etag == there.etag == f"{hashlib.md5(digests).hexdigest()}-{parts}"
    assert (sent.md5, sent.md5_by) == (md5, "multipart-etag") and there.size == size
    body = client.get_object(Bucket="backup", Key="parts/videos/big.mp4")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()
    uploads = client.list_multipart_uploads(Bucket="backup").get("Uploads", [])
    assert uploads == []  # none left open


def test_push_to_rclone_serve_webdav(copy, rclone_webdav):
    _, env, dest = copy
    host, root = rclone_webdav
    code, report, done = push({**env, "WEBDAV_USER": "u", "WEBDAV_PASSWORD": "p"}, dest, f"webdav://{host}/b")
    assert code == 0, done.stdout + done.stderr
    assert stored(root / "b") == expected_keys(dest)
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(root / "b" / key) == sha256_file(dest / key), key
    code, report, _ = push({**env, "WEBDAV_USER": "u", "WEBDAV_PASSWORD": "p"}, dest, f"webdav://{host}/b")
    assert code == 0 and report["counts"]["sent"] == 0


@pytest.fixture
def nextcloud(tmp_path):
    from nextcloud_fake import FakeNextcloud

    fake = FakeNextcloud(tmp_path / "nextcloud").start()
    yield fake
    fake.stop()


def test_push_to_nextcloud_with_a_chunked_upload(copy, nextcloud, tmp_path):
    """A backup to Nextcloud's files path; a file above 64 MiB through chunked upload v2,
    assembled byte for byte, with its mtime."""
    import asyncio

    from flickr_exodus.targets.webdav import CHUNK_SIZE, WebDavTarget

    _, env, dest = copy
    target = f"webdav://u:p@{nextcloud.url}/remote.php/dav/files/u/flickr"
    code, report, done = push(env, dest, target)
    assert code == 0, done.stdout + done.stderr
    root = nextcloud.files() / "flickr"
    assert stored(root) == expected_keys(dest) and nextcloud.chunk_puts == 0
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(root / key) == sha256_file(dest / key), key

    big = tmp_path / "big.mov"
    with open(big, "wb") as out:
        for _ in range(9):
            out.write(os.urandom(8 << 20))
    os.utime(big, (1_500_000_000, 1_500_000_000))

    import hashlib
    md5 = hashlib.md5(big.read_bytes()).hexdigest()

    async def send():
        dav = WebDavTarget.from_url(target)
        await dav.open()
        try:
            sent = await dav.put("videos/big.mov", big, md5, big.stat().st_mtime)
            return sent, await dav.stat("videos/big.mov")
        finally:
            await dav.close()

    sent, there = asyncio.run(send())
    # The final MOVE answers X-Hash-MD5 of the assembled file; the OC-Checksum is kept.
    assert (sent.md5, sent.md5_by) == (md5, "x-hash") and there.declared_md5 == md5
    assert there.size == big.stat().st_size
    assert nextcloud.chunk_puts == -(-big.stat().st_size // CHUNK_SIZE) and nextcloud.moves == 1
    assert sha256_file(root / "videos" / "big.mov") == sha256_file(big)
    assert (root / "videos" / "big.mov").stat().st_mtime == 1_500_000_000
    assert not any((nextcloud.root / "uploads").iterdir())  # the upload folder is gone
