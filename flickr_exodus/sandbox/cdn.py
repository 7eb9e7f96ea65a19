"""The photo and video CDN (reference §5): sizes at Flickr's URL shapes, byte ranges,
/play/ redirects to signed, expiring /video/ URLs, and broken bodies on demand."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import socket
import struct
import time
from email.utils import formatdate

from aiohttp import web

from . import media, wire
from .oauth import OAuthProblem, parse_header
from .running import SandboxState
from .state import SIZES, VIDEO_RENDITIONS, Item

PHOTO_PATH = re.compile(r"^/(?P<server>\d+)/(?P<id>\d+)_(?P<secret>[0-9a-f]+)"
                        r"(?:_(?P<suffix>[a-z0-9]+?))?(?P<download>_d)?\.(?P<ext>[a-z0-9]+)$")
SUFFIXES = {s for s, *_ in SIZES}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


def _http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """'bytes=a-b' -> (start, end exclusive); None for no/ignored range; 'bad' if unsatisfiable."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None  # multiple or malformed ranges: serve the whole body (RFC 9110 allows)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or start >= end:
        return "bad"
    return start, end


async def serve_blob(state: "SandboxState", request: web.Request, blob: media.Blob,
                     content_type: str, etag: str, modified: int,
                     extra: dict[str, str] | None = None) -> web.StreamResponse:
    state.stats["cdn_requests"] += 1
    headers = {"Content-Type": content_type, "ETag": etag, "Accept-Ranges": "bytes",
               "Last-Modified": _http_date(modified), "Cache-Control": "public, max-age=31536000",
               **(extra or {})}
    start, end, status = 0, blob.size, 200
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if wanted and (if_range is None or if_range == etag):
        parsed = parse_range(wanted, blob.size)
        if parsed == "bad":
            return web.Response(status=416, headers={"Content-Range": f"bytes */{blob.size}"})
        if parsed:
            start, end = parsed
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
    fault = state.faults.roll(cdn=True)
    if fault == "http_5xx":
        return web.Response(status=503, body=wire.UNAVAILABLE, content_type="text/html")
    if state.config.endless_cdn and request.method != "HEAD":
        return await endless(state, request, blob, headers)
    if state.config.trickle and "cdn" in state.config.trickle_on and request.method != "HEAD":
        return await trickle(state, request, b"".join(blob.read(start, end, chunk=media.CHUNK)), headers,
                             status)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    stop = end
    if fault in ("reset", "short_body"):
        stop = start + state.faults.cut_point(end - start)
    link = state.faults.link
    for chunk in blob.read(start, stop, chunk=64 * 1024 if link.capped else media.CHUNK):
        await link.send(request, len(chunk))
        await response.write(chunk)
        state.stats["bytes_served"] += len(chunk)
    if fault in ("reset", "short_body"):
        break_connection(request, reset=fault == "reset")
        return response
    await response.write_eof()
    return response


async def trickle(state: "SandboxState", request: web.Request, body: bytes, headers: dict,
                  status: int = 200) -> web.StreamResponse:
    """The whole body, declared, one byte every `trickle` seconds: never silent long enough
    for a read timeout, never done."""
    state.stats["trickled"] += 1
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    try:
        for i in range(len(body)):
            await response.write(body[i:i + 1])
            await asyncio.sleep(state.config.trickle)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client gave up: what it should do
    return response


async def endless(state: "SandboxState", request: web.Request, blob: media.Blob,
                  headers: dict) -> web.StreamResponse:
    """Chunked, no length: the blob's bytes (a real file's start), then zeros until the
    client hangs up."""
    state.stats["endless"] += 1
    headers = {k: v for k, v in headers.items() if k not in ("Content-Range", "Accept-Ranges")}
    response = web.StreamResponse(status=200, headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    zeros = bytes(64 * 1024)
    chunks = blob.read(0, blob.size, chunk=64 * 1024)
    try:
        while True:
            chunk = next(chunks, zeros)
            await state.faults.link.send(request, len(chunk))
            await response.write(chunk)
            state.stats["bytes_served"] += len(chunk)
    except (ConnectionError, RuntimeError):
        return response  # the client gave up: what it should do


def break_connection(request: web.Request, *, reset: bool) -> None:
    """End the connection before the body is complete: RST for a reset, FIN for a short body."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def admit(state: "SandboxState", request: web.Request, *, cdn: bool) -> web.Response | None:
    """Every faultable request starts here: its round trip, then its quota. A 429 answer
    when over the quota, else None."""
    await state.faults.link.round_trip(request)
    wait = state.faults.throttle(cdn=cdn)
    if wait is None:
        return None
    state.stats["rate_limited"] += 1
    headers = {"Retry-After": str(max(1, int(wait + 0.999)))} if state.config.retry_after else {}
    return web.Response(status=429, body=wire.TOO_MANY_REQUESTS, content_type="text/html",
                        headers=headers)


async def photo(state: "SandboxState", request: web.Request) -> web.StreamResponse:
    """/{server}/{id}_{secret}[_{suffix}][_d].{ext}"""
    if refused := await admit(state, request, cdn=True):
        return refused
    match = PHOTO_PATH.match(request.path)
    if not match:
        raise web.HTTPNotFound()
    suffix = match["suffix"] or ""
    download = bool(match["download"])
    if suffix == "d" and not download:  # "{id}_{secret}_d.jpg": Medium, as a download
        suffix, download = "", True
    item = state.account.item(match["id"])
    if item is None or suffix not in SUFFIXES or match["secret"] != item.secret_for(suffix):
        raise web.HTTPNotFound()
    ext = item.original_format if suffix == "o" and not item.is_video else "jpg"
    if match["ext"] != ext:
        raise web.HTTPNotFound()
    if suffix not in item.available_suffixes(state.config.free_account):
        if suffix in item.available_suffixes(False):
            raise web.HTTPForbidden()  # withheld from a free account (inferred status)
        raise web.HTTPNotFound()
    blob = item.still_blob(state.account.seed, suffix)
    etag = '"%s"' % hashlib.md5(f"{item.id}/{item.secret_for(suffix)}/{suffix}/{item.version}".encode()).hexdigest()
    extra = {}
    if download:
        extra["Content-Disposition"] = f'attachment; filename="{item.id}_{item.secret_for(suffix)}_{suffix or "m"}.{ext}"'
    return await serve_blob(state, request, blob, CONTENT_TYPES.get(ext, "image/jpeg"), etag,
                            item.last_update, extra)


async def collection_icon(state: "SandboxState", request: web.Request) -> web.StreamResponse:
    await state.faults.link.round_trip(request)
    size = 48 if request.path.endswith("_s.jpg") else 240
    blob = media.jpeg(size, size, None, None, state.account.seed, len(request.path))
    return await serve_blob(state, request, blob, "image/jpeg", '"icon"', 1_700_000_000)


# --- video ----------------------------------------------------------------------------

def video_token(secret: bytes, item: Item, label: str, expires: int) -> str:
    """Shaped like Flickr's ?s= token: base64url of {"i","e","s","v"} (rec:video.play-redirect.1.json)."""
    sig = hmac.new(secret, f"{item.id}/{item.secret_for('o') if label == 'orig' else item.secret}"
                   f"/{label}/{expires}".encode(), hashlib.sha1).hexdigest()
    raw = json.dumps({"i": int(item.id), "e": expires, "s": sig, "v": 1}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _may_fetch_original(state: "SandboxState", request: web.Request, item: Item) -> bool:
    """/play/orig/ is the owner's alone; how the owner must prove it is --video-access
    (reference §5.3: browser session works, OAuth unproven)."""
    mode = state.config.video_access
    if mode == "open":
        return True
    name, _, value = state.session_cookie.partition("=")
    if request.cookies.get(name) == value:
        return True
    if mode == "oauth":
        pairs = parse_header(request.headers.get("Authorization", "")) + list(request.query.items())
        try:
            signed = state.oauth.verify(request.method, state.base + request.path, pairs)
        except OAuthProblem:
            return False
        return signed.token is not None and signed.token.nsid == item.owner
    return False


async def play(state: "SandboxState", request: web.Request) -> web.StreamResponse:
    """/photos/{owner}/{id}/play/{label}/{secret}/ -> 302 to a signed /video/ URL
    (rec:video.play-redirect.1.json)."""
    if refused := await admit(state, request, cdn=True):
        return refused
    label = request.match_info["label"]
    item = state.account.item(request.match_info["id"])
    if item is None or not item.is_video or item.owner != state.account.owner.nsid:
        raise web.HTTPNotFound()
    if label == "orig":
        if request.match_info["secret"] != item.originalsecret or state.config.free_account:
            raise web.HTTPNotFound()
        if not _may_fetch_original(state, request, item):
            state.stats["video_refused"] += 1
            raise web.HTTPNotFound()
    elif label not in VIDEO_RENDITIONS or request.match_info["secret"] != item.secret:
        raise web.HTTPNotFound()
    expires = int(time.time() + state.config.video_url_ttl)
    secret = item.originalsecret if label == "orig" else item.secret
    token = video_token(state.signing_key, item, label, expires)
    base = (state.config.foreign_redirect_base or state.base).rstrip("/")  # another host: a Flickr gone wrong
    location = f"{base}/video/{item.id}/{secret}/{label}.mp4?s={token}"
    return web.Response(status=302, headers={"Location": location, "Content-Type": "text/html; charset=UTF-8"})


async def video_file(state: "SandboxState", request: web.Request) -> web.StreamResponse:
    """/video/{id}/{secret}/{label}.mp4?s=TOKEN"""
    if refused := await admit(state, request, cdn=True):
        return refused
    item = state.account.item(request.match_info["id"])
    label = request.match_info["label"]
    if item is None or not item.is_video:
        raise web.HTTPNotFound()
    try:
        padded = request.query.get("s", "") + "=" * (-len(request.query.get("s", "")) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
        expires = int(claims["e"])
        good = hmac.compare_digest(video_token(state.signing_key, item, label, expires),
                                   request.query.get("s", ""))
    except (ValueError, KeyError, TypeError):
        good, expires = False, 0
    secret_ok = request.match_info["secret"] == (item.originalsecret if label == "orig" else item.secret)
    if not (good and secret_ok) or expires < time.time():
        raise web.HTTPForbidden()
    if label == "orig" and state.config.poster_as_video:
        blob = item.still_blob(state.account.seed, "o")
        etag = '"poster-%s"' % item.id
        return await serve_blob(state, request, blob, "image/jpeg", etag, item.last_update, {})
    if label == "orig":
        blob = item.original_blob(state.account.seed)
        extra = {"Content-Disposition": f'attachment; filename="{item.id}.{item.video_format}"'}
        width, height = item.width, item.height
    else:
        height = VIDEO_RENDITIONS[label]
        width = round(height * item.width / item.height)
        size = max(20_000, item.size // 8)
        blob = media.video("mp4", size, item.duration, width, height, state.account.seed,
                           item.content_seed() + height)
        extra = {}
    extra.update({"imagewidth": str(width), "imageheight": str(height)})
    etag = '"%s"' % hashlib.md5(f"{item.id}/{label}/{item.version}".encode()).hexdigest()
    # video/mp4 even for .mov: "Flickr sets the wrong value for .mov files" (reference §5.3).
    return await serve_blob(state, request, blob, "video/mp4", etag, item.last_update, extra)
