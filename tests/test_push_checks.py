"""How `exodus push` knows an upload arrived whole, recorded in `pushes.checked`, against
stores that do not answer as plain S3 does; where a target's credentials may go; and
that rclone's daemon, which holds a remote's credentials, never outlives exodus.

- S3 under SSE-KMS or SSE-C answers ETags that are not MD5s: the push succeeds, checked
  by the size read back (and the signed Content-MD5 the store accepted); a store whose
  plain ETag disagrees with the bytes is still caught. A hostile proxy in front of
  `rclone serve s3` (which checks every signature) plays those stores.
- A fake Nextcloud with 32-hex ETags that are not MD5s: checked by X-Hash-MD5, or by the
  size and the OC-Checksum it keeps where it does not compute hashes.
- rclone rcd dies with exodus on SIGINT, SIGTERM and kill -9; an unreachable remote is
  one line within EXODUS_REACH_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from conftest import EXODUS, catalog_rows, exodus, sha256_file
from test_push import (KEY, SECRET, copy, expected_keys, finished, push, rclone_serve, s3,  # noqa: F401
                       s3_env, stored)
from threaded_app import ThreadedApp

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "te", "trailer",
        "upgrade", "proxy-authorization", "proxy-authenticate"}


class HostileS3:
    """A proxy in front of an S3 server that rewrites what it says of objects:
    "kms" and "sse-c" answer as a store encrypting with SSE-KMS or SSE-C does (the ETag of
    a PUT or HEAD is a random 32-hex id, with the encryption header); "liar" gives such an
    ETag with no encryption header (a plain store whose ETag disagrees with the bytes);
    "redirect" sends object PUTs to `elsewhere`. Everything else passes unchanged, Host
    included, so the upstream still checks each signature."""

    def __init__(self, upstream: str, mode: str, elsewhere: str = ""):
        self.upstream, self.mode, self.elsewhere = upstream, mode, elsewhere
        self.session: ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        is_object = request.method in ("PUT", "HEAD") and request.path.strip("/").count("/") >= 1 \
            and not request.query
        if self.mode == "redirect" and is_object and request.method == "PUT":
            raise web.HTTPTemporaryRedirect(f"{self.elsewhere}{request.path}")
        if self.session is None:
            self.session = ClientSession(auto_decompress=False)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self.session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                        data=body or None, allow_redirects=False) as answer:
            payload = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            length = answer.headers.get("Content-Length")
        if is_object and answer.status == 200 and any(k.lower() == "etag" for k in out):
            out = {k: v for k, v in out.items() if k.lower() != "etag"}
            out["ETag"] = f'"{uuid.uuid4().hex}"'
            if self.mode == "kms":
                out["x-amz-server-side-encryption"] = "aws:kms"
                out["x-amz-server-side-encryption-aws-kms-key-id"] = "arn:aws:kms:us-east-1:1:key/test"
            elif self.mode == "sse-c":
                out["x-amz-server-side-encryption-customer-algorithm"] = "AES256"
        if request.method == "HEAD":  # no body, but the object's length
            response = web.StreamResponse(status=answer.status, headers=out)
            response.content_length = int(length or 0)
            await response.prepare(request)
            return response
        return web.Response(status=answer.status, headers=out, body=payload)


class Recorder:
    """Another host: records what reaches it (method, path, headers) and answers 200."""

    def __init__(self, answer=None):
        self.seen: list[tuple[str, str, dict]] = []
        self.answer = answer or (lambda request: web.Response(text="ok"))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.seen.append((request.method, request.path, {k.lower(): v for k, v in request.headers.items()}))
        return self.answer(request)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


@contextmanager
def serving(app: web.Application, name: str):
    server = ThreadedApp(app, name)
    address = server.start()
    try:
        yield address
    finally:
        server.stop()


def checked(dest: Path, target: str) -> dict[str, str]:
    """What was recorded as pushed to `target` ("s3://bucket/prefix"), at any endpoint: the
    catalog names an S3 target with its store's host, "s3://bucket/prefix (host:port)"."""
    rows = catalog_rows(dest, "SELECT key, checked FROM pushes WHERE target = ? OR substr(target, 1, ?) = ?",
                        [target, len(target) + 2, target + " ("])
    return {r["key"]: r["checked"] for r in rows}


def test_plain_s3_etags_are_md5s_and_recorded_so(copy, s3):
    """rclone serve s3, no encryption: every upload is checked by the ETag, the store's
    own MD5 of what it received."""
    _, env, dest = copy
    url, _ = s3
    code, _, done = push(s3_env(env, url), dest, "s3://backup/plain")
    assert code == 0, done.stderr
    assert set(checked(dest, "s3://backup/plain").values()) == {"md5:etag"}


def test_the_same_bucket_on_another_store_is_another_target(copy, s3, tmp_path):
    """Pushes are recorded with the store's host: what was pushed to a bucket and prefix on
    one store counts for nothing on another with the same names (a new MinIO, the same
    bucket), so everything is sent there; the first store's record stays its own."""
    _, env, dest = copy
    url, bucket = s3
    code, report, done = push(s3_env(env, url), dest, "s3://backup/same")
    assert code == 0 and report["counts"]["sent"] == len(expected_keys(dest)), done.stderr
    other_data = tmp_path / "other-s3"
    (other_data / "backup").mkdir(parents=True)
    with rclone_serve("s3", other_data, {"RCLONE_AUTH_KEY": f'"{KEY},{SECRET}"'}) as other:
        code, report, done = push(s3_env(env, other), dest, "s3://backup/same")
        assert code == 0, done.stderr
        assert report["counts"]["sent"] == len(expected_keys(dest)) and report["counts"]["unchanged"] == 0
        assert stored(other_data / "backup" / "same") == expected_keys(dest)
        code, report, _ = push(s3_env(env, other), dest, "s3://backup/same")
        assert report["counts"]["sent"] == 0  # now it is there, and recorded so
    targets = {r["target"] for r in catalog_rows(dest, "SELECT DISTINCT target FROM pushes")}
    assert len(targets) == 2 and all(t.startswith("s3://backup/same (127.0.0.1:") for t in targets), targets


@pytest.mark.parametrize("mode", ["kms", "sse-c"])
def test_encrypted_s3_etags_are_not_taken_for_md5s(copy, s3, mode):
    _, env, dest = copy
    url, bucket = s3
    with serving(HostileS3(url, mode).app(), f"S3 with {mode}") as proxy:
        code, report, done = push(s3_env(env, f"http://{proxy}"), dest, "s3://backup/enc")
    assert code == 0, done.stdout + done.stderr
    assert report["counts"]["failed"] == 0
    found = checked(dest, "s3://backup/enc")
    assert set(found) == expected_keys(dest)
    assert set(found.values()) == {"size+content-md5"}
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(bucket / "enc" / key) == sha256_file(dest / key), key


def test_a_plain_etag_that_disagrees_with_the_bytes_still_fails(copy, s3):
    """The rule is not "ignore ETags": unencrypted, an ETag that is not the file's MD5
    means other bytes, and nothing is recorded as pushed."""
    _, env, dest = copy
    url, _ = s3
    with serving(HostileS3(url, "liar").app(), "lying S3") as proxy:
        code, report, done = push({**s3_env(env, f"http://{proxy}"), "EXODUS_BACKOFF": "0"}, dest, "s3://backup/lie")
    assert code == 1, done.stdout + done.stderr
    assert report["counts"]["sent"] == 0 and report["counts"]["failed"] == len(expected_keys(dest))
    assert all("MD5" in f["reason"] for f in report["failed"])
    assert checked(dest, "s3://backup/lie") == {}


def test_an_s3_upload_redirected_elsewhere_is_refused(copy, s3):
    """The signature and the credentials are for the endpoint's host: a PUT redirected to
    another host (localhost is not 127.0.0.1 to a client) is not followed."""
    _, env, dest = copy
    url, _ = s3
    other = Recorder()
    with serving(other.app(), "other host") as elsewhere:
        port = elsewhere.rsplit(":", 1)[1]
        with serving(HostileS3(url, "redirect", f"http://localhost:{port}").app(), "redirecting S3") as proxy:
            done = exodus(["push", str(dest), "s3://backup/moved"], s3_env(env, f"http://{proxy}"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "redirected" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert other.seen == []
    assert SECRET not in done.stderr and checked(dest, "s3://backup/moved") == {}


def test_a_webdav_redirect_to_another_host_gets_no_password(copy):
    """Kept as it was (aiohttp drops Authorization across hosts), now by the same rule as
    Immich's key: the other host answers 401 and never sees the password."""
    _, env, dest = copy
    other = Recorder(lambda request: web.Response(status=401))
    with serving(other.app(), "other host") as elsewhere:
        port = elsewhere.rsplit(":", 1)[1]
        async def move(request: web.Request) -> web.Response:
            return web.Response(status=307, headers={"Location": f"http://localhost:{port}{request.path}"})

        mover = web.Application()
        mover.router.add_route("*", "/{tail:.*}", move)
        with serving(mover, "redirecting WebDAV") as dav:
            done = exodus(["push", str(dest), f"webdav://u:secretpw@{dav}/b"], env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert other.seen and all("authorization" not in headers for _, _, headers in other.seen)
    assert "secretpw" not in done.stderr


@pytest.fixture(params=[True, False], ids=["x-hash", "no-x-hash"])
def nextcloud(request, tmp_path):
    from nextcloud_fake import FakeNextcloud

    fake = FakeNextcloud(tmp_path / "nextcloud", x_hash=request.param).start()
    yield fake
    fake.stop()


def test_nextcloud_etags_are_not_md5s_and_the_push_checks_otherwise(copy, nextcloud):
    _, env, dest = copy
    target = f"webdav://u:p@{nextcloud.url}/remote.php/dav/files/u/flickr"
    code, report, done = push(env, dest, target)
    assert code == 0, done.stdout + done.stderr
    root = nextcloud.files() / "flickr"
    assert stored(root) == expected_keys(dest)
    for key in expected_keys(dest) - {"catalog.db"}:
        assert sha256_file(root / key) == sha256_file(dest / key), key
        etag = nextcloud.etags[root / key]
        assert len(etag) == 32 and etag != hashlib.md5((dest / key).read_bytes()).hexdigest()
    name = "webdav://" + nextcloud.url + "/remote.php/dav/files/u/flickr"
    assert set(checked(dest, name).values()) == ({"md5:x-hash"} if nextcloud.x_hash else {"size+oc-checksum"})
    assert push(env, dest, target)[1]["counts"]["sent"] == 0


def test_generic_webdav_is_checked_by_size(copy, tmp_path):
    """rclone serve webdav computes no hash for us: existence and size it is."""
    _, env, dest = copy
    root = tmp_path / "dav"
    root.mkdir()
    with rclone_serve("webdav", root, {"RCLONE_PASS": "p"}, "--user", "u") as url:
        host = url.removeprefix("http://")
        code, _, done = push(env, dest, f"webdav://u:p@{host}/b")
    assert code == 0, done.stderr
    assert set(checked(dest, f"webdav://{host}/b").values()) == {"size"}


# -- rclone's daemon --

def _rclone_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if comm == "rclone" and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """A process that still runs (a zombie waiting for its reaper has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _in_session(sid: int) -> list[int]:
    """Live processes whose session id is sid (rclone runs in a session of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _alive(int(entry.name)):
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[3]) == sid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["int", "term", "kill"])
def test_rclone_dies_with_exodus(copy, tmp_path, how):
    _, env, dest = copy
    folder = tmp_path / "slow"
    # rclone reads its flags from the environment: 1 kB/s keeps the push going for minutes.
    proc = subprocess.Popen([*EXODUS, "push", str(dest), f"rclone:{folder}", "--quiet"],
                            env={**env, "RCLONE_BWLIMIT": "1k"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while not (children and folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            children = children or _rclone_children(proc.pid)
            time.sleep(0.1)
        proc.send_signal(how)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "rclone outlived exodus"
        assert not [pid for sid in children for pid in _in_session(sid)]
        assert not _rclone_children(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _rclone_children(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_an_unreachable_rclone_remote_is_one_line_within_the_bound(copy):
    """A remote that accepts connections and never answers: exit 2 and one line after
    EXODUS_REACH_TIMEOUT, not rclone's minutes of retries; no rclone left behind."""
    _, env, dest = copy
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        port = hole.getsockname()[1]
        proc = subprocess.Popen([*EXODUS, "push", str(dest), f"rclone::webdav,url='http://127.0.0.1:{port}/':x"],
                                env={**env, "EXODUS_REACH_TIMEOUT": "3"}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        children: list[int] = []
        try:
            while proc.poll() is None and not children:
                children = _rclone_children(proc.pid)
                time.sleep(0.05)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 2, out + err
    assert "did not answer within 3 s" in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not [pid for pid in children if _alive(pid)]


# -- bounded answers: a target that trickles or never ends an answer cannot hold a push --

# A stall: under 1000 bytes within half a second; answers over 1 MB are refused.
BOUNDS = {"EXODUS_STALL_SECONDS": "0.5", "EXODUS_STALL_BYTES": "1000", "EXODUS_TARGET_MAX_BYTES": "1000000",
          "EXODUS_BACKOFF": "0"}
BOUND = 60  # seconds: ample with these knobs; a trickled answer per file would take minutes


async def _trickle(request: web.Request, body: bytes, status: int = 200, headers=None) -> web.StreamResponse:
    """`body`, declared, one byte every 20 ms (50 bytes/s): never silent for long."""
    response = web.StreamResponse(status=status, headers=headers or {"Content-Type": "application/json"})
    response.content_length = len(body)
    await response.prepare(request)
    try:
        for i in range(len(body)):
            await response.write(body[i:i + 1])
            await asyncio.sleep(0.02)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # exodus hung up: what it should do
    return response


async def _endless(request: web.Request, start: bytes) -> web.StreamResponse:
    """`start`, then spaces in 8 KiB blocks every 10 ms (~800 KB/s, well above any floor),
    chunked, without end."""
    response = web.StreamResponse(status=207, headers={"Content-Type": "application/xml; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        await response.write(start)
        while True:
            await response.write(b" " * 8192)
            await asyncio.sleep(0.01)
    except (ConnectionError, RuntimeError):
        return response


class HostileDav:
    """A WebDAV server that takes every folder and file, and answers the PROPFIND of a
    file (how push reads back what it sent) by trickling ("trickle") or without end
    ("endless"). The PROPFIND of its root, push's first question, is answered at once."""

    def __init__(self, mode: str, root: str = "/b"):
        self.mode, self.root = mode, root
        self.stats: dict[str, int] = {}
        self.propfinds = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.method == "PUT":
            self.stats[request.path] = int(request.headers.get("Content-Length", 0))
            return web.Response(status=201)
        if request.method == "MKCOL":
            return web.Response(status=201)
        if request.method != "PROPFIND":
            return web.Response(status=405)
        if request.path.rstrip("/") == self.root:
            return web.Response(status=207, content_type="application/xml",
                                text='<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>')
        self.propfinds += 1
        size = self.stats.get(request.path)
        if size is None:
            return web.Response(status=404)
        start = ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response>'
                 f"<d:href>{request.path}</d:href><d:propstat><d:prop><d:resourcetype/>"
                 f"<d:getcontentlength>{size}</d:getcontentlength></d:prop>").encode()
        if self.mode == "endless":
            return await _endless(request, start)
        body = start + b"<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
        return await _trickle(request, body, 207, {"Content-Type": "application/xml; charset=utf-8"})


@pytest.mark.parametrize("mode", ["trickle", "endless"])
def test_a_webdav_answer_that_trickles_or_never_ends_ends_the_push(copy, mode):
    """Every upload is read back by PROPFIND, whose answer here trickles (50 bytes/s) or
    never ends: the push ends within the bound, with one line, and records nothing. Before
    the answers were bounded it read each one to its end, or forever."""
    _, env, dest = copy
    dav = HostileDav(mode)
    with serving(dav.app(), f"WebDAV that answers by {mode}") as address:
        done = exodus(["push", str(dest), f"webdav://u:p@{address}/b"], {**env, **BOUNDS}, timeout=BOUND)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    said = "stalls in a row" if mode == "trickle" else "went past the cap of 1000000 bytes"
    assert said in done.stderr and "nothing more was recorded" in done.stderr, done.stderr
    assert dav.stats and dav.propfinds >= 1
    assert catalog_rows(dest, "SELECT * FROM pushes") == []


@pytest.mark.parametrize("calls", ["after-open", "getAssetInfo"])
def test_an_immich_that_trickles_its_answers_ends_the_push(copy, calls):
    """A fake Immich that answers at once until the push has opened it, then trickles
    (50 bytes/s) every JSON answer ("after-open": the bulk-upload check comes first) or
    only those of getAssetInfo (how push reads back an upload's checksum, retried): the
    push ends within the bound, with one line, and records nothing."""
    from immich_fake import FakeImmich

    class TricklingImmich(FakeImmich):
        OPEN = {"/api/server/ping", "/api/server/version", "/api/users/me"}

        def app(self) -> web.Application:
            app = super().app()
            app.middlewares.append(self._trickle)
            return app

        @web.middleware
        async def _trickle(self, request: web.Request, handler):
            response = await handler(request)
            slow = (request.path not in self.OPEN if calls == "after-open"
                    else request.method == "GET" and request.path.startswith("/api/assets/"))
            if not slow or not isinstance(response, web.Response) or response.body is None:
                return response
            return await _trickle(request, response.body, response.status)

    _, env, dest = copy
    immich = TricklingImmich(api_key="immich-test-key").start()
    try:
        done = exodus(["push", str(dest), f"immich://{immich.url}"],
                      {**env, **BOUNDS, "IMMICH_API_KEY": "immich-test-key"}, timeout=BOUND)
    finally:
        immich.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "stalls in a row" in done.stderr and "nothing more was recorded" in done.stderr, done.stderr
    assert catalog_rows(dest, "SELECT * FROM pushes") == []
    if calls == "getAssetInfo":
        assert immich.uploads_received >= 1  # uploaded, never recorded: its checksum never came whole


def test_an_s3_put_answer_that_trickles_ends_the_push(copy, s3):
    """The store takes each object, but the answer to the signed PUT trickles: one line
    within the bound, nothing recorded."""

    class TricklingS3(HostileS3):
        async def handle(self, request: web.Request) -> web.StreamResponse:
            response = await super().handle(request)
            if request.method != "PUT" or request.query or response.status != 200:
                return response
            return await _trickle(request, b"<?xml version='1.0'?><PutObjectResult/>" * 4, 200,
                                  {"Content-Type": "application/xml"})

    _, env, dest = copy
    url, _ = s3
    with serving(TricklingS3(url, "plain").app(), "trickling S3") as proxy:
        done = exodus(["push", str(dest), "s3://backup/slow"], {**s3_env(env, f"http://{proxy}"), **BOUNDS},
                      timeout=BOUND)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "the answer to the PUT of" in done.stderr and "stalls in a row" in done.stderr, done.stderr
    assert SECRET not in done.stderr and checked(dest, "s3://backup/slow") == {}
