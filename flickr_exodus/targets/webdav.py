"""WebDAV (Nextcloud, ownCloud, PhotoPrism, NAS boxes): `webdav://HOST[:PORT]/PATH`
(plain HTTP) or `webdavs://...` (HTTPS), the user and password in the URL or in
WEBDAV_USER / WEBDAV_PASSWORD. Folders made with MKCOL; each file PUT with its mtime in
`X-OC-Mtime` (honoured by Nextcloud and ownCloud).

On Nextcloud (a PATH under /remote.php/dav/files/USER/) files above 64 MiB go by its
chunked upload v2, so that no single request outlives a proxy's timeout or body limit:
MKCOL an upload folder, PUT numbered chunks, MOVE the assembled `.file` into place.

A WebDAV ETag is a version tag, never an MD5 (Nextcloud's are 32 hex digits of
something else). Each upload asks for the MD5 of the bytes received (`X-Hash: md5`,
answered in X-Hash-MD5 by Nextcloud 19 and later) and declares the file's MD5
(`OC-Checksum`, which Nextcloud stores unchecked and reports in oc:checksums); where no
X-Hash-MD5 comes back, the push reads back the size (and that declared checksum).

PROPFIND answers are read within the bounds of answers.py: a server that trickles one,
or never ends it, stalls or overflows a cap instead of holding the push. An upload that
goes wrong is told as net/'s kinds: a lost connection, a 5xx, 408, 423 (locked) or 425
is Transient, a 429 Throttled, any other refusal Permanent."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
import xml.etree.ElementTree as ET
from contextlib import nullcontext
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import quote, unquote, urlsplit

import aiohttp

from .answers import Answers
from .base import RemoteObject, Target, TargetProblem, basic_auth, split_url, web_base
from ..net.errors import Permanent, Throttled, Transient, on_the_wire, parse_retry_after
from ..net.scope import scoped

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
# What stat asks for: the standard properties and the checksums Nextcloud and ownCloud keep.
PROPS = ('<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
         "<d:resourcetype/><d:getcontentlength/><d:getetag/><oc:checksums/></d:prop></d:propfind>")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
NEXTCLOUD_FILES = re.compile(r"^/remote\.php/dav/files/([^/]+)(?:/|$)")
CHUNKED_ABOVE = 64 * 1024 * 1024
CHUNK_SIZE = 16 * 1024 * 1024  # Nextcloud takes 5 MB to 5 GB, at most 10,000 chunks


class WebDavTarget(Target):
    def __init__(self, base: str, root: str, user: str | None, password: str | None):
        self.base, self.root = base, "/" + root.strip("/")
        self.name = f"{base}{self.root}".replace("https://", "webdavs://").replace("http://", "webdav://")
        self.credentials = {}
        if user is not None:
            self.credentials["Authorization"] = basic_auth(user, password or "")
        self.session: aiohttp.ClientSession | None = None
        self.made: set[str] = set()
        self.making = asyncio.Lock()  # one MKCOL at a time: two for one folder race on some servers
        nextcloud = NEXTCLOUD_FILES.match(self.root)
        self.uploads = f"/remote.php/dav/uploads/{nextcloud.group(1)}" if nextcloud else None
        self.reads = Answers(self.name)

    @classmethod
    def from_url(cls, url: str) -> "WebDavTarget":
        parts = split_url(url, "webdav://HOST[:PORT]/PATH")
        user = unquote(parts.username) if parts.username else os.environ.get("WEBDAV_USER")
        password = unquote(parts.password) if parts.password else os.environ.get("WEBDAV_PASSWORD")
        return cls(web_base(parts, "webdavs"), unquote(parts.path), user, password)

    def _url(self, key: str) -> str:
        path = f"{self.root.rstrip('/')}/{key}" if key else self.root
        return self.base + quote(path)

    async def open(self) -> None:
        # The password goes to this server only, never to where a redirect points elsewhere.
        self.session = aiohttp.ClientSession(middlewares=(scoped(self.base, self.credentials),),
                                             timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=120))
        try:
            async with self.session.request("PROPFIND", self._url(""), headers={"Depth": "0"}) as answer:
                status = answer.status
        except aiohttp.ClientError:
            await self.close()
            raise TargetProblem(f"cannot reach {self.base} for {self.name}") from None
        if status in (401, 403):
            await self.close()
            raise TargetProblem(f"{self.base} refused the user and password for {self.name}")
        if status == 404:
            try:
                await self._make_root(self.root)
            except BaseException:
                await self.close()
                raise
        elif status >= 400:
            await self.close()
            raise TargetProblem(f"{self.base} answered HTTP {status} for {self.name}")

    async def _make_root(self, path: str) -> None:
        """MKCOL the root, its missing parents first (409), never the levels above them
        (on Nextcloud, /remote.php/dav/files/USER exists and cannot be made)."""
        async with self.session.request("MKCOL", self.base + quote(path)) as answer:
            status = answer.status
        if status == 409 and path.rstrip("/").count("/") > 1:
            await self._make_root(path.rstrip("/").rsplit("/", 1)[0])
            return await self._make_root(path)
        if status not in (201, 405, 301):
            raise TargetProblem(f"{self.base} would not make the folder {path} (HTTP {status})")

    async def _folder(self, folder: str) -> None:
        """MKCOL every missing level under the root (405: it exists already)."""
        async with self.making:
            path = ""
            for part in [p for p in folder.split("/") if p]:
                path = f"{path}/{part}" if path else part
                if path in self.made:
                    continue
                async with self.session.request("MKCOL", self._url(path)) as answer:
                    if answer.status not in (201, 405, 301):
                        raise TargetProblem(f"{self.base} would not make the folder {path} (HTTP {answer.status})")
                self.made.add(path)

    async def put(self, key: str, path: Path, md5: str, mtime: float, data: bytes | None = None) -> RemoteObject:
        with on_the_wire(self.name):
            return await self._put(key, path, md5, mtime, data)

    async def _put(self, key: str, path: Path, md5: str, mtime: float, data: bytes | None) -> RemoteObject:
        folder = key.rsplit("/", 1)[0] if "/" in key else ""
        if folder:
            await self._folder(folder)
        size = len(data) if data is not None else path.stat().st_size
        if self.uploads and size > CHUNKED_ABOVE:
            return _answered(key, size, await self._put_chunked(key, path, size, mtime, md5))
        with (nullcontext(data) if data is not None else open(path, "rb")) as body:
            async with self.session.put(self._url(key), data=body, headers={
                    "X-OC-Mtime": str(int(mtime)), "Content-Length": str(size), **_hashes(md5)}) as answer:
                if answer.status in (401, 403):
                    raise TargetProblem(f"{self.base} refused the upload of {key} (HTTP {answer.status})")
                if answer.status not in (200, 201, 204):
                    raise self._refused(answer, f"the PUT of {key}")
                return _answered(key, size, answer.headers)

    async def _put_chunked(self, key: str, path: Path, size: int, mtime: float, md5: str) -> dict:
        """The upload in chunks; the headers of the MOVE's answer (X-Hash-MD5 of the whole)."""
        folder = self.base + quote(f"{self.uploads}/exodus-{uuid.uuid4().hex}")
        headers = {"Destination": self._url(key), "OC-Total-Length": str(size)}
        await self._expect(await self.session.request("MKCOL", folder, headers=headers), key, "MKCOL")
        try:
            with open(path, "rb") as handle:
                number = 1
                while block := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                    await self._expect(await self.session.put(f"{folder}/{number}", data=block, headers=headers),
                                       key, f"chunk {number}")
                    number += 1
            return await self._expect(await self.session.request("MOVE", f"{folder}/.file", headers={
                **headers, "X-OC-Mtime": str(int(mtime)), **_hashes(md5)}), key, "MOVE")
        except BaseException:
            try:
                async with self.session.delete(folder + "/"):
                    pass
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise

    async def _expect(self, answer: aiohttp.ClientResponse, key: str, step: str) -> dict:
        async with answer:
            if answer.status in (401, 403):
                raise TargetProblem(f"{self.base} refused the upload of {key} (HTTP {answer.status})")
            if answer.status >= 300:
                raise self._refused(answer, f"the {step} of {key}")
            return dict(answer.headers)

    def _refused(self, answer: aiohttp.ClientResponse, what: str) -> Exception:
        """An upload's step answered other than yes: worth another try or not."""
        said = f"{self.base}: HTTP {answer.status} for {what}"
        if answer.status == 429:
            return Throttled(said, parse_retry_after(answer.headers.get("Retry-After")))
        if answer.status >= 500 or answer.status in (408, 423, 425):
            return Transient(said)
        return Permanent(said)

    async def stat(self, key: str) -> RemoteObject | None:
        with on_the_wire(self.name):
            return await self._stat(key)

    async def _stat(self, key: str) -> RemoteObject | None:
        # PROPFIND, not HEAD: some servers (rclone serve webdav) gzip text files for a
        # client that accepts it and give the compressed length, and a body, to a HEAD.
        what = f"the PROPFIND answer for {key}"
        async with self.reads.answer(self.session.request("PROPFIND", self._url(key), data=PROPS, headers={
                "Depth": "0", "Content-Type": "application/xml"}), what) as answer:
            if answer.status == 404:
                return None
            if answer.status >= 400:
                raise TargetProblem(f"{self.base}: HTTP {answer.status} for {key}")
            body = await self.reads.read(answer, what)
        response = ET.fromstring(body).find(f"{DAV}response")
        return _described(key, response) if response is not None else None

    async def list(self, prefix: str = "") -> AsyncIterator[RemoteObject]:
        pending = [prefix.strip("/")]
        while pending:
            folder = pending.pop()
            what = f"the PROPFIND answer for {folder or 'the root'}/"
            async with self.reads.answer(self.session.request("PROPFIND", self._url(folder) + "/",
                                                              headers={"Depth": "1"}), what) as answer:
                if answer.status == 404:
                    continue
                body = await self.reads.read(answer, what)
            for response in ET.fromstring(body).iter(f"{DAV}response"):
                href = unquote(urlsplit(response.findtext(f"{DAV}href") or "").path)
                key = href[len(self.root.rstrip("/")) + 1:].strip("/")
                if key == folder or not key:
                    continue
                if response.find(f".//{DAV}collection") is not None:
                    pending.append(key)
                else:
                    yield _described(key, response)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _hashes(md5: str) -> dict[str, str]:
    """Ask for the MD5 of the bytes received (X-Hash) and declare ours (OC-Checksum)."""
    return {"X-Hash": "md5", "OC-Checksum": f"MD5:{md5}"} if HEX32.match(md5 or "") else {}


def _answered(key: str, size: int, headers) -> RemoteObject:
    """What an upload's answer says: the ETag (a version tag) and, from a server that
    computed it while receiving (X-Hash-MD5), the MD5 of the bytes it stored."""
    headers = {k.lower(): v for k, v in headers.items()}
    computed = (headers.get("x-hash-md5") or "").strip().lower()
    return RemoteObject(key, size, (headers.get("etag") or "").strip('"') or None,
                        md5=computed if HEX32.match(computed) else None, md5_by="x-hash")


def _declared_md5(response: ET.Element) -> str | None:
    """The MD5 among oc:checksums ("MD5:hex SHA1:hex ..."), as a client declared it."""
    for element in response.iter(f"{OC}checksum"):
        for word in (element.text or "").split():
            kind, _, value = word.partition(":")
            if kind.lower() == "md5" and HEX32.match(value.lower()):
                return value.lower()
    return None


def _described(key: str, response: ET.Element) -> RemoteObject:
    size = response.findtext(f".//{DAV}getcontentlength")
    return RemoteObject(key, int(size) if size else -1,
                        (response.findtext(f".//{DAV}getetag") or "").strip('"') or None,
                        declared_md5=_declared_md5(response))
