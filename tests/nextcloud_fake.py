"""A fake of the Nextcloud WebDAV endpoints push uses (aiohttp, 127.0.0.1), written from
Nextcloud's developer manual as summarised in push-targets.md §3.1. Generic WebDAV is
tested against real servers (wsgidav, rclone serve webdav); this covers what only
Nextcloud has: files under /remote.php/dav/files/USER/, X-OC-Mtime, and chunked upload
v2 under /remote.php/dav/uploads/USER/ (MKCOL with Destination, numbered chunk PUTs of at
least 5 MB but the last, each with Destination; MOVE of .file with OC-Total-Length).

Like the real server: every ETag is 32 hex digits that are not the file's MD5 (a fresh
random id per write); `X-Hash: md5|sha1|sha256` on a PUT or the final MOVE is answered
with X-Hash-MD5 (...) of the bytes received (Nextcloud 19+; `x_hash=False` plays an
older one); `OC-Checksum` is stored as sent, unchecked, and reported in PROPFIND's
oc:checksums when asked for."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import uuid
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from threaded_app import ThreadedApp

MIN_CHUNK = 5 * 1024 * 1024


class FakeNextcloud:
    def __init__(self, root: Path, user: str = "u", password: str = "p", x_hash: bool = True):
        self.root, self.user, self.x_hash = root, user, x_hash
        self.etags: dict[Path, str] = {}       # a new random one per write, as Nextcloud's
        self.checksums: dict[Path, str] = {}   # OC-Checksum as the client sent it
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        (root / "files").mkdir(parents=True)
        (root / "uploads").mkdir()
        self.chunk_puts = 0
        self.moves = 0
        self.plain_puts = 0
        self.url = ""

    def files(self) -> Path:
        return self.root / "files"

    def _local(self, request: web.Request) -> tuple[str, Path]:
        path = unquote(request.path)
        for kind in ("files", "uploads"):
            prefix = f"/remote.php/dav/{kind}/{self.user}"
            if path == prefix or path.startswith(prefix + "/"):
                rest = path[len(prefix):].strip("/")
                local = (self.root / kind / rest).resolve()
                if not str(local).startswith(str((self.root / kind).resolve())):
                    raise web.HTTPForbidden()
                return kind, local
        raise web.HTTPNotFound()

    def _destination(self, request: web.Request) -> Path:
        target = request.headers.get("Destination")
        if not target:
            raise web.HTTPBadRequest(text="Destination header missing")
        path = unquote(urlsplit(target).path)
        prefix = f"/remote.php/dav/files/{self.user}/"
        if not path.startswith(prefix):
            raise web.HTTPBadRequest(text="Destination outside the user's files")
        return self.files() / path[len(prefix):]

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._check_auth], client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    @web.middleware
    async def _check_auth(self, request: web.Request, handler):
        if request.headers.get("Authorization") != self.auth:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="Nextcloud"'})
        return await handler(request)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        kind, local = self._local(request)
        method = request.method
        if method == "PROPFIND":
            return self._propfind(request, local, (await request.read()).decode(errors="replace"))
        if method == "MKCOL":
            if kind == "uploads":
                self._destination(request)  # v2 requires it
            if local.exists():
                return web.Response(status=405)
            if not local.parent.is_dir():
                return web.Response(status=409)
            local.mkdir()
            return web.Response(status=201)
        if method == "PUT":
            if not local.parent.is_dir():
                return web.Response(status=409)
            if kind == "uploads":
                self._destination(request)
                if not local.name.isdigit() or not 1 <= int(local.name) <= 10000:
                    return web.Response(status=400, text="chunk names are numbers 1 to 10000")
                self.chunk_puts += 1
            else:
                self.plain_puts += 1
            body = await request.read()
            local.write_bytes(body)
            headers = {}
            if kind == "files":
                headers.update(self._written(request, local, body))
            if kind == "files" and "X-OC-Mtime" in request.headers:
                stamp = int(request.headers["X-OC-Mtime"])
                os.utime(local, (stamp, stamp))
                headers["X-OC-MTime"] = "accepted"
            return web.Response(status=201, headers=headers)
        if method == "MOVE" and kind == "uploads" and local.name == ".file":
            target = self._destination(request)
            chunks = sorted(local.parent.iterdir(), key=lambda p: int(p.name))
            if any(c.stat().st_size < MIN_CHUNK for c in chunks[:-1]):
                return web.Response(status=400, text="chunks but the last must be at least 5 MB")
            total = sum(c.stat().st_size for c in chunks)
            if str(total) != request.headers.get("OC-Total-Length"):
                return web.Response(status=400, text="OC-Total-Length does not match the chunks")
            if not target.parent.is_dir():
                return web.Response(status=409)
            with open(target, "wb") as out:
                for chunk in chunks:
                    with open(chunk, "rb") as part:
                        shutil.copyfileobj(part, out)
            if "X-OC-Mtime" in request.headers:
                stamp = int(request.headers["X-OC-Mtime"])
                os.utime(target, (stamp, stamp))
            shutil.rmtree(local.parent)
            self.moves += 1
            return web.Response(status=201, headers=self._written(request, target, target.read_bytes()))
        if method == "DELETE":
            if local.is_dir():
                shutil.rmtree(local)
            elif local.exists():
                local.unlink()
            else:
                return web.Response(status=404)
            return web.Response(status=204)
        if method in ("GET", "HEAD") and local.is_file():
            return web.FileResponse(local)
        return web.Response(status=404 if not local.exists() else 405)

    def _written(self, request: web.Request, local: Path, body: bytes) -> dict:
        """A file was written: a new ETag, the declared checksum kept, X-Hash answered."""
        self.etags[local] = uuid.uuid4().hex
        if "OC-Checksum" in request.headers:
            self.checksums[local] = request.headers["OC-Checksum"].strip()
        else:
            self.checksums.pop(local, None)
        headers = {"ETag": f'"{self.etags[local]}"', "OC-ETag": f'"{self.etags[local]}"'}
        wanted = request.headers.get("X-Hash", "").strip().lower()
        if self.x_hash and wanted in ("md5", "sha1", "sha256"):
            headers[f"X-Hash-{wanted.upper()}"] = hashlib.new(wanted, body).hexdigest()
        return headers

    def _propfind(self, request: web.Request, local: Path, body_text: str) -> web.Response:
        if not local.exists():
            return web.Response(status=404)
        entries = [local]
        if local.is_dir() and request.headers.get("Depth", "1") == "1":
            entries += sorted(local.iterdir())
        base = request.path.rstrip("/")
        parts = []
        for entry in entries:
            href = base if entry == local else f"{base}/{quote(entry.name)}"
            if entry.is_dir():
                props = "<d:resourcetype><d:collection/></d:resourcetype>"
                href += "/"
            else:
                props = (f"<d:resourcetype/><d:getcontentlength>{entry.stat().st_size}</d:getcontentlength>"
                         f'<d:getetag>"{self.etags.setdefault(entry, uuid.uuid4().hex)}"</d:getetag>')
                if "checksums" in body_text and entry in self.checksums:
                    props += f"<oc:checksums><oc:checksum>{self.checksums[entry]}</oc:checksum></oc:checksums>"
            props += f"<d:getlastmodified>{formatdate(entry.stat().st_mtime, usegmt=True)}</d:getlastmodified>"
            parts.append(f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>"
                         "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>")
        body = (f'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
                f'{"".join(parts)}</d:multistatus>')
        return web.Response(status=207, text=body, content_type="application/xml")

    # -- running it beside the tests --
    def start(self) -> "FakeNextcloud":
        self._server = ThreadedApp(self.app(), "fake Nextcloud")
        self.url = self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
