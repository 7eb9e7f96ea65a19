"""A fake Immich server (aiohttp, 127.0.0.1) for the push tests: the dozen endpoints push
uses, with the server's rules as the reference describes them (push-targets.md §3.2),
written from those facts and not from our client:

- an unknown API key gets 401; every request is validated against its DTO: a missing
  required field or a wrong type gets 400, and so does any field the DTO lacks (stricter
  than the real server, which strips them, so that a misspelt field fails here) except
  deviceAssetId/deviceId on 3.x, which 3.x strips silently;
- schema "2" requires deviceAssetId and deviceId on upload, schema "3" has neither;
- assets are deduplicated by SHA-1: POST /assets answers 200 "duplicate"; with a
  matching x-immich-checksum header it answers before reading the body and closes the
  connection, as the real server does;
- `fail_uploads` makes the next N uploads answer 500;
- `redirects` ({path: URL}) answers a GET of that path with a 302 to the URL (before any
  key check, as a reverse proxy in front of Immich would), for the tests of where the
  API key may go.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime

from aiohttp import web

from threaded_app import ThreadedApp

UPLOAD_FIELDS = {"assetData", "fileCreatedAt", "fileModifiedAt", "filename", "isFavorite", "livePhotoVideoId",
                 "sidecarData", "visibility", "duration", "metadata"}
V2_ONLY = {"deviceAssetId", "deviceId"}
UPDATE_FIELDS = {"description": str, "dateTimeOriginal": str, "latitude": (int, float),
                 "longitude": (int, float), "isFavorite": bool, "rating": (int, type(None)), "visibility": str,
                 "livePhotoVideoId": (str, type(None))}


class Invalid(Exception):
    pass


def _iso(value) -> str:
    if not isinstance(value, str):
        raise Invalid("must be an ISO 8601 date string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{value!r} must be an ISO 8601 date string") from None
    return value


def _checksum(value: str) -> str:
    """Hex or base64 SHA-1 to base64, as the server stores it."""
    if len(value) == 40:
        return base64.b64encode(bytes.fromhex(value)).decode()
    if len(base64.b64decode(value)) == 20:
        return value
    raise Invalid("checksum must be a SHA-1")


class FakeImmich:
    def __init__(self, schema: int = 3, api_key: str = "immich-test-key"):
        self.schema, self.api_key = schema, api_key
        self.version = {2: {"major": 1, "minor": 138, "patch": 1}, 3: {"major": 3, "minor": 2, "patch": 2}}[schema]
        self.assets: dict[str, dict] = {}
        self.albums: dict[str, dict] = {}
        self.tags: dict[str, dict] = {}     # id -> {value, assets}
        self.calls: list[str] = []
        self.fail_uploads = 0
        self.redirects: dict[str, str] = {}
        self.uploads_received = 0
        self.url = ""

    # -- state helpers for tests --
    def by_name(self) -> dict[str, dict]:
        return {a["originalFileName"]: a for a in self.assets.values()}

    def tag_values(self, asset_id: str) -> set[str]:
        return {t["value"] for t in self.tags.values() if asset_id in t["assets"]}

    # -- server --
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._redirect, self._auth], client_max_size=1 << 30)
        r = app.router
        r.add_get("/api/server/ping", self.ping)
        r.add_get("/api/server/version", self.server_version)
        r.add_get("/api/users/me", self.me)
        r.add_post("/api/assets/bulk-upload-check", self.bulk_check)
        r.add_post("/api/assets", self.upload)
        r.add_get("/api/assets/{id}", self.get_asset)
        r.add_put("/api/assets/{id}", self.update_asset)
        r.add_get("/api/albums", self.list_albums)
        r.add_post("/api/albums", self.create_album)
        r.add_put("/api/albums/{id}/assets", self.add_to_album)
        r.add_put("/api/tags", self.upsert_tags)
        r.add_put("/api/tags/{id}/assets", self.tag_assets)
        return app

    @web.middleware
    async def _redirect(self, request: web.Request, handler):
        if request.method == "GET" and request.path in self.redirects and "hop" not in request.query:
            raise web.HTTPFound(self.redirects[request.path])
        return await handler(request)

    @web.middleware
    async def _auth(self, request: web.Request, handler):
        self.calls.append(f"{request.method} {request.path}")
        if request.headers.get("x-api-key") != self.api_key:
            return web.json_response({"message": "Invalid API key", "statusCode": 401}, status=401)
        try:
            return await handler(request)
        except Invalid as error:
            return web.json_response({"message": [str(error)], "error": "Bad Request", "statusCode": 400}, status=400)

    async def _body(self, request: web.Request, fields: dict, required: set[str]) -> dict:
        body = await request.json()
        if not isinstance(body, dict):
            raise Invalid("body must be an object")
        extra = set(body) - set(fields)
        if extra:
            raise Invalid(f"property {sorted(extra)[0]} should not exist")
        for name in required - set(body):
            raise Invalid(f"{name} should not be empty")
        for name, kind in fields.items():
            if name in body and not isinstance(body[name], kind):
                raise Invalid(f"{name} has the wrong type")
        return body

    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({"res": "pong"})

    async def server_version(self, request: web.Request) -> web.Response:
        return web.json_response(self.version)

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response({"id": "user-1", "email": "me@example.org"})

    async def bulk_check(self, request: web.Request) -> web.Response:
        body = await self._body(request, {"assets": list}, {"assets"})
        results = []
        known = {a["checksum"]: a for a in self.assets.values()}
        for item in body["assets"]:
            if set(item) != {"id", "checksum"}:
                raise Invalid("each asset needs exactly id and checksum")
            there = known.get(_checksum(item["checksum"]))
            if there:
                results.append({"id": item["id"], "action": "reject", "reason": "duplicate",
                                "assetId": there["id"], "isTrashed": there["isTrashed"]})
            else:
                results.append({"id": item["id"], "action": "accept"})
        return web.json_response({"results": results})

    async def upload(self, request: web.Request) -> web.Response:
        header = request.headers.get("x-immich-checksum")
        if header:
            there = next((a for a in self.assets.values() if a["checksum"] == _checksum(header)), None)
            if there:  # answered before the body is read; the connection is then closed
                response = web.json_response({"id": there["id"], "status": "duplicate"})
                response.force_close()
                return response
        if self.fail_uploads:
            self.fail_uploads -= 1
            await request.read()
            return web.json_response({"message": "Internal server error"}, status=500)
        form: dict[str, object] = {}
        files: dict[str, tuple[str, bytes]] = {}
        reader = await request.multipart()
        async for part in reader:
            if part.filename is not None:
                files[part.name] = (part.filename, await part.read())
            else:
                form[part.name] = await part.text()
        self.uploads_received += 1
        allowed = UPLOAD_FIELDS | (V2_ONLY if self.schema == 2 else set())
        stripped = V2_ONLY if self.schema == 3 else set()
        for name in set(form) | set(files):
            if name not in allowed and name not in stripped:
                raise Invalid(f"property {name} should not exist")
        required = {"assetData", "fileCreatedAt", "fileModifiedAt"} | (V2_ONLY if self.schema == 2 else set())
        for name in required:
            if name not in form and name not in files:
                raise Invalid(f"{name} should not be empty")
        if "assetData" not in files:
            raise Invalid("assetData must be a file")
        _iso(form["fileCreatedAt"]), _iso(form["fileModifiedAt"])
        if form.get("isFavorite") not in (None, "true", "false"):
            raise Invalid("isFavorite must be a boolean value")
        name, data = files["assetData"]
        checksum = base64.b64encode(hashlib.sha1(data).digest()).decode()
        there = next((a for a in self.assets.values() if a["checksum"] == checksum), None)
        if there:
            return web.json_response({"id": there["id"], "status": "duplicate"})
        asset = {"id": str(uuid.uuid4()), "checksum": checksum, "originalFileName": form.get("filename") or name,
                 "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                 "fileCreatedAt": form["fileCreatedAt"], "isFavorite": form.get("isFavorite") == "true",
                 "isTrashed": False, "sidecar": files.get("sidecarData", (None, None))[1],
                 "exifInfo": {"description": "", "dateTimeOriginal": None, "latitude": None, "longitude": None}}
        self.assets[asset["id"]] = asset
        return web.json_response({"id": asset["id"], "status": "created"}, status=201)

    def _asset(self, request: web.Request) -> dict:
        asset = self.assets.get(request.match_info["id"])
        if asset is None:
            raise web.HTTPBadRequest(text='{"message":"Not found or no asset.read access"}')
        return asset

    async def get_asset(self, request: web.Request) -> web.Response:
        asset = self._asset(request)
        return web.json_response({k: v for k, v in asset.items() if k not in ("sidecar", "sha256", "size")})

    async def update_asset(self, request: web.Request) -> web.Response:
        asset = self._asset(request)
        body = await self._body(request, UPDATE_FIELDS, set())
        if "dateTimeOriginal" in body:
            asset["exifInfo"]["dateTimeOriginal"] = _iso(body["dateTimeOriginal"])
        for name in ("latitude", "longitude"):
            if name in body:
                if not -180 <= body[name] <= 180:
                    raise Invalid(f"{name} out of range")
                asset["exifInfo"][name] = body[name]
        if "description" in body:
            asset["exifInfo"]["description"] = body["description"]
        if "isFavorite" in body:
            asset["isFavorite"] = body["isFavorite"]
        return web.json_response({k: v for k, v in asset.items() if k not in ("sidecar", "sha256", "size")})

    def _album(self, album: dict) -> dict:
        return {"id": album["id"], "albumName": album["albumName"], "description": album["description"],
                "assetCount": len(album["assets"])}

    async def list_albums(self, request: web.Request) -> web.Response:
        return web.json_response([self._album(a) for a in self.albums.values()])

    async def create_album(self, request: web.Request) -> web.Response:
        body = await self._body(request, {"albumName": str, "description": (str, type(None)), "assetIds": list,
                                          "albumUsers": list}, {"albumName"})
        album = {"id": str(uuid.uuid4()), "albumName": body["albumName"], "description": body.get("description") or "",
                 "assets": []}
        self.albums[album["id"]] = album
        for asset_id in body.get("assetIds") or []:
            if asset_id in self.assets:
                album["assets"].append(asset_id)
        return web.json_response(self._album(album), status=201)

    def _add(self, members: list, ids: list) -> list[dict]:
        results = []
        for asset_id in ids:
            if asset_id not in self.assets:
                results.append({"id": asset_id, "success": False, "error": "not_found"})
            elif asset_id in members:
                results.append({"id": asset_id, "success": False, "error": "duplicate"})
            else:
                members.append(asset_id)
                results.append({"id": asset_id, "success": True})
        return results

    async def add_to_album(self, request: web.Request) -> web.Response:
        album = self.albums.get(request.match_info["id"])
        body = await self._body(request, {"ids": list}, {"ids"})
        if album is None:
            raise web.HTTPBadRequest(text='{"message":"Not found or no album.update access"}')
        return web.json_response(self._add(album["assets"], body["ids"]))

    async def upsert_tags(self, request: web.Request) -> web.Response:
        body = await self._body(request, {"tags": list}, {"tags"})
        answer = []
        for value in body["tags"]:
            parent = None
            for depth in range(1, value.count("/") + 2):  # hierarchical: parents made too
                path = "/".join(value.split("/")[:depth])
                tag = next((t for t in self.tags.values() if t["value"] == path), None)
                if tag is None:
                    tag = {"id": str(uuid.uuid4()), "value": path, "name": path.rsplit("/", 1)[-1],
                           "parentId": parent, "assets": []}
                    self.tags[tag["id"]] = tag
                parent = tag["id"]
            answer.append({k: v for k, v in tag.items() if k != "assets"})
        return web.json_response(answer)

    async def tag_assets(self, request: web.Request) -> web.Response:
        tag = self.tags.get(request.match_info["id"])
        body = await self._body(request, {"ids": list}, {"ids"})
        if tag is None:
            raise web.HTTPBadRequest(text='{"message":"Not found"}')
        return web.json_response(self._add(tag["assets"], body["ids"]))

    # -- running it beside the tests --
    def start(self) -> "FakeImmich":
        self._server = ThreadedApp(self.app(), "fake Immich")
        self.url = self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
