"""Immich (1.1xx to 3.x): `immich://HOST[:PORT]` (HTTP) or `immichs://...` (HTTPS), with
the API key in IMMICH_API_KEY. A photo library, not a file store: each item becomes an
asset (found first by its SHA-1 through the bulk-upload check, so nothing goes twice),
then gets its description, date, GPS and favourite; albums and tags follow.

`SENT` names every call and field we send, by @immich/sdk's names: the contract test
reads the SDK's typings (npm) of several server versions and fails on any that does not
exist there. deviceAssetId and deviceId are required up to 2.x and gone in 3.x, whose
validation strips unknown fields silently, so they are always sent.

Every answer is read within the bounds of answers.py (speed, average floor, size cap):
a server that trickles its JSON, or never ends it, cannot hold the push. What goes wrong
is told as net/'s kinds: a 429 is Throttled, a 5xx or a lost connection Transient, any
other refusal an ImmichError (Permanent)."""

from __future__ import annotations

import base64
import json
import os
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp

from .answers import Answers, TargetStalled
from .base import LibraryTarget, TargetProblem, split_url, web_base
from ..net.errors import Permanent, Throttled, Transient, on_the_wire, parse_retry_after
from ..net.scope import scoped

# sdk function: (method, path); "{id}" stands for a path parameter.
CALLS = {name: (method, path) for name, method, path in map(str.split, """
    pingServer GET /server/ping
    getServerVersion GET /server/version
    getMyUser GET /users/me
    checkBulkUpload POST /assets/bulk-upload-check
    uploadAsset POST /assets
    getAssetInfo GET /assets/{id}
    updateAsset PUT /assets/{id}
    getAllAlbums GET /albums
    createAlbum POST /albums
    addAssetsToAlbum PUT /albums/{id}/assets
    upsertTags PUT /tags
    tagAssets PUT /tags/{id}/assets""".strip().splitlines())}
# sdk type: the fields of it we send (requests) or read (responses).
SENT = {
    "AssetMediaCreateDto": {"assetData", "deviceAssetId", "deviceId", "fileCreatedAt", "fileModifiedAt",
                            "filename", "isFavorite", "sidecarData"},
    "AssetBulkUploadCheckDto": {"assets"},
    "AssetBulkUploadCheckItem": {"id", "checksum"},
    "UpdateAssetDto": {"description", "dateTimeOriginal", "latitude", "longitude", "isFavorite"},
    "CreateAlbumDto": {"albumName", "description"},
    "BulkIdsDto": {"ids"},
    "TagUpsertDto": {"tags"},
}
READ = {
    "AssetMediaResponseDto": {"id", "status"},
    "AssetBulkUploadCheckResponseDto": {"results"},
    "AssetBulkUploadCheckResult": {"id", "action", "assetId", "isTrashed", "reason"},
    "AssetResponseDto": {"id", "checksum"},
    "AlbumResponseDto": {"id", "albumName"},
    "BulkIdResponseDto": {"id", "success", "error"},
    "TagResponseDto": {"id", "value"},
    "ServerVersionResponseDto": {"major", "minor", "patch"},
}
REMOVED_IN_3 = {"deviceAssetId", "deviceId"}
DEVICE_ID = "flickr-exodus"
CHECK_BATCH = 500
ADD_BATCH = 1000


@dataclass
class Found:
    """What the bulk-upload check says of one file."""
    asset_id: str | None   # already in Immich (a duplicate)
    trashed: bool = False
    rejected: str | None = None  # a reason other than duplicate (unsupported-format)


class ImmichTarget(LibraryTarget):
    def __init__(self, base: str, key: str | None):
        self.base = base
        self.name = base.replace("https://", "immichs://").replace("http://", "immich://")
        self.key = key
        self.session: aiohttp.ClientSession | None = None
        self.version = ""
        self.reads = Answers(self.name)

    @classmethod
    def from_url(cls, url: str) -> "ImmichTarget":
        parts = split_url(url, "immich://HOST[:PORT] or immichs://HOST[:PORT]",
                          lambda p: p.hostname and p.path.strip("/") in ("", "api"))
        return cls(web_base(parts, "immichs"), os.environ.get("IMMICH_API_KEY") or None)

    async def _json(self, call: str, body=None, id: str = "", **kwargs):
        """One call's JSON answer; a lost connection is Transient."""
        with on_the_wire(self.name):
            return await self._answer(call, body, id, **kwargs)

    async def _answer(self, call: str, body=None, id: str = "", **kwargs):
        method, path = CALLS[call]
        url = f"{self.base}/api{path.replace('{id}', quote(id, safe=''))}"
        request = self.session.request(method, url, json=body, **kwargs)
        # An upload's answer comes once its body is sent, which may rightly take longer
        # than a stall window: only the answers of small requests have their headers timed.
        what = f"the answer to {call}"
        async with (request if call == "uploadAsset" else self.reads.answer(request, what)) as answer:
            if answer.status in (401, 403):
                raise TargetProblem(f"{self.name} refused the API key in IMMICH_API_KEY "
                                    f"({answer.status}; it needs the asset, album and tag permissions)")
            text = (await self.reads.read(answer, what)).decode("utf-8", "replace")
            if answer.status >= 300:
                said = f"{call}: HTTP {answer.status} {text[:200]}"
                if answer.status == 429:
                    raise Throttled(said, parse_retry_after(answer.headers.get("Retry-After")))
                raise (Transient(said) if answer.status >= 500 else ImmichError(said, answer.status))
        return json.loads(text) if text else None

    async def open(self) -> None:
        if not self.key:
            raise TargetProblem(f"set IMMICH_API_KEY to an API key of {self.name} (Account Settings, API Keys)")
        # The key goes to this server only, never to where a redirect points elsewhere.
        self.session = aiohttp.ClientSession(headers={"Accept": "application/json"},
                                             middlewares=(scoped(self.base, {"x-api-key": self.key}),),
                                             timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=300))
        try:
            pong = await self._json("pingServer")
            if not isinstance(pong, dict) or pong.get("res") != "pong":
                raise ImmichError("no pong", 0)
            await self._json("getMyUser")
            version = await self._json("getServerVersion")
            self.version = "{major}.{minor}.{patch}".format(**version)
        except TargetProblem:
            await self.close()
            raise
        except TargetStalled as error:
            await self.close()
            raise TargetProblem(str(error)) from None
        except (Transient, OSError, ImmichError, ValueError, KeyError, TypeError):
            await self.close()
            raise TargetProblem(f"cannot reach an Immich server at {self.base} for {self.name}") from None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def check(self, files: dict[str, str]) -> dict[str, Found]:
        """{client id: SHA-1 hex} -> {client id: Found}, in batches."""
        found: dict[str, Found] = {}
        ids = list(files)
        for start in range(0, len(ids), CHECK_BATCH):
            batch = ids[start:start + CHECK_BATCH]
            answer = await self._json("checkBulkUpload", _dto("AssetBulkUploadCheckDto", assets=[
                _dto("AssetBulkUploadCheckItem", id=i, checksum=files[i]) for i in batch]))
            for result in answer["results"]:
                if result.get("action") == "accept":
                    found[result["id"]] = Found(None)
                elif result.get("reason") == "duplicate" and result.get("assetId"):
                    found[result["id"]] = Found(result["assetId"], trashed=bool(result.get("isTrashed")))
                else:
                    found[result["id"]] = Found(None, rejected=result.get("reason") or "rejected")
        return found

    async def upload(self, path: Path, sha1: str, taken: str, modified: str, favourite: bool,
                     sidecar: Path | None) -> str:
        """Send one file; its asset id. A 'duplicate' answer is as good as 'created'."""
        form = aiohttp.FormData()
        size = path.stat().st_size
        fields = _dto("AssetMediaCreateDto", deviceAssetId=f"{path.name}-{size}", deviceId=DEVICE_ID,
                      fileCreatedAt=taken, fileModifiedAt=modified, filename=path.name,
                      isFavorite="true" if favourite else "false")
        for name, value in fields.items():
            form.add_field(name, value)
        with open(path, "rb") as data, (open(sidecar, "rb") if sidecar else nullcontext()) as xmp, \
                on_the_wire(self.name):
            form.add_field(_field("AssetMediaCreateDto", "assetData"), data, filename=path.name,
                           content_type="application/octet-stream")
            if sidecar:
                form.add_field(_field("AssetMediaCreateDto", "sidecarData"), xmp, filename=sidecar.name,
                               content_type="application/xml")
            try:
                answer = await self._answer("uploadAsset", data=form, headers={"x-immich-checksum": sha1})
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                # A server that knows the checksum answers "duplicate" and closes the
                # connection before reading the body: ask which asset it has.
                found = (await self.check({"file": sha1}))["file"]
                if found.asset_id is None:
                    raise
                return found.asset_id
        if answer.get("status") not in ("created", "duplicate") or not answer.get("id"):
            raise ImmichError(f"uploadAsset: unexpected answer {answer!r:.200}", 0)
        return answer["id"]

    async def checksum(self, asset_id: str) -> str:
        """The SHA-1 (hex) of the bytes Immich holds for the asset."""
        info = await self._json("getAssetInfo", id=asset_id)
        return base64.b64decode(info["checksum"]).hex()

    async def describe(self, asset_id: str, meta: dict) -> None:
        await self._json("updateAsset", _dto("UpdateAssetDto", **meta), id=asset_id)

    async def albums(self) -> dict[str, str]:
        """Album name -> id, matched client-side (the list's filters differ by version)."""
        return {a["albumName"]: a["id"] for a in await self._json("getAllAlbums") or []}

    async def create_album(self, name: str, description: str) -> str:
        album = await self._json("createAlbum", _dto("CreateAlbumDto", albumName=name, description=description))
        return album["id"]

    async def add_to_album(self, album_id: str, asset_ids: list[str]) -> bool:
        """False when the album is not there (deleted in the library)."""
        for start in range(0, len(asset_ids), ADD_BATCH):
            try:
                results = await self._json("addAssetsToAlbum",
                                           _dto("BulkIdsDto", ids=asset_ids[start:start + ADD_BATCH]), id=album_id)
            except ImmichError as error:
                if error.status in (400, 404):
                    return False
                raise
            _all_done(results, "album")
        return True

    async def tag(self, names: list[str]) -> dict[str, str]:
        """Create (or find) tags by their full names; name -> id."""
        made: dict[str, str] = {}
        for start in range(0, len(names), ADD_BATCH):
            for tag in await self._json("upsertTags", _dto("TagUpsertDto", tags=names[start:start + ADD_BATCH])):
                made[tag["value"]] = tag["id"]
        return made

    async def tag_assets(self, tag_id: str, asset_ids: list[str]) -> None:
        for start in range(0, len(asset_ids), ADD_BATCH):
            _all_done(await self._json("tagAssets", _dto("BulkIdsDto", ids=asset_ids[start:start + ADD_BATCH]),
                                       id=tag_id), "tag")


def _dto(name: str, **fields) -> dict:
    """A request body; only fields listed in SENT (what the contract test checks) pass."""
    for field in fields:
        _field(name, field)
    return fields


def _field(dto: str, name: str) -> str:
    if name not in SENT[dto]:
        raise AssertionError(f"{dto}.{name} is not in SENT: add it there for the contract test")
    return name


def _all_done(results: list[dict], what: str) -> None:
    """'duplicate' means it was there already: what makes a rerun harmless."""
    bad = [r for r in results if not r.get("success") and r.get("error") != "duplicate"]
    if bad:
        raise ImmichError(f"{len(bad)} assets not added to the {what}: {bad[0].get('error')}", 0)


class ImmichError(Permanent):
    """Immich refused (a 4xx other than 429) or answered what it should not."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status
