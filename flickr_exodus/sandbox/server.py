"""Routing: the REST endpoint, OAuth, the CDN, and the /__sandbox__/ control endpoints."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import threading
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from . import cdn, geo_tags, hostile, render, site, wire
from .config import SandboxConfig
from .export import MEDIA_PER_ZIP, write_export
from .generate import new_item, tag_for
from .methods import METHODS, Call, perms_message
from .oauth import OAuthProblem, level, parse_header
from .running import SandboxState
from .state import now
from .wire import ApiError

# geo_tags' methods join METHODS as it is imported (it is a module of its own for their size).
assert set(geo_tags.NAMES) <= METHODS.keys()

log = logging.getLogger("flickr_exodus.sandbox")
FORMATS = {"json": "json", "rest": "xml", "": "xml"}


# --- REST ------------------------------------------------------------------------------

async def rest(state: SandboxState, request: web.Request) -> web.StreamResponse:
    pairs = list(request.query.items())
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        pairs += [(k, v) for k, v in form.items() if isinstance(v, str)]
    params = dict(pairs)
    name = params.get("method", "")
    state.api_calls[name] += 1
    state.stats["api_calls_total"] += 1
    if refused := await cdn.admit(state, request, cdn=False):
        return refused
    fault = state.faults.roll(cdn=False)
    if fault == "http_5xx":
        return web.Response(status=502, body=wire.BAD_GATEWAY, content_type="text/html")

    fmt = FORMATS.get(params.get("format", ""), "unknown")
    callback = None
    if fmt == "json" and params.get("nojsoncallback") != "1":
        callback = params.get("jsoncallback") or "jsonFlickrApi"
    try:
        payload, error = dispatch(state, request, pairs, params, fault)
    except OAuthProblem as problem:
        return web.Response(status=problem.status, body=problem.body.encode(),
                            headers={"Content-Type": wire.OAUTH_TEXT})
    if fmt == "unknown":
        payload, error, fmt = None, ApiError(111, f'Format "{params.get("format")}" not found'), "xml"
    payload = hostile.apply(state.hostile, name, payload)
    body, content_type = wire.render(payload, error, fmt, callback)
    if state.config.trickle and ({"api", name} & set(state.config.trickle_on)):
        return await cdn.trickle(state, request, body, {"Content-Type": content_type})
    if fault in ("reset", "short_body"):
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[:state.faults.cut_point(len(body))])
        cdn.break_connection(request, reset=fault == "reset")
        return response
    return web.Response(body=body, headers={"Content-Type": content_type})


def dispatch(state: SandboxState, request: web.Request, pairs, params, fault):
    """(payload, None) or (None, ApiError); OAuth refusals raise OAuthProblem."""
    oauth_pairs = parse_header(request.headers.get("Authorization", ""))
    signed = bool(oauth_pairs) or "oauth_signature" in params
    token = None
    if signed:
        # Checked before anything runs: a tampered call never reaches its method.
        token = state.oauth.verify(request.method, state.base + request.path,
                                   oauth_pairs + pairs, require_token=False).token
    else:
        key = params.get("api_key", "")
        if key != state.api_key:
            # rec:flickr.people.getInfo.error-100.1.xml, rec:flickr.test.null.error-100.1.json
            shape_ok = len(key) == 32 and all(c in "0123456789abcdef" for c in key)
            return None, ApiError(100, "Invalid API Key (Key not found)" if shape_ok
                                  else "Invalid API Key (Key has invalid format)")
    name = params.get("method", "")
    if name not in METHODS:
        return None, ApiError(112, f'Method "{name}" not found')
    if fault == "code_105":
        return None, ApiError(105, "Service currently unavailable")
    if fault == "code_201":
        # Undocumented, seen live and retried by Flickr Foundation (reference §2).
        return None, ApiError(201, "Sorry, the Flickr API service is not currently available.")
    required, handler = METHODS[name]
    if required and token is None:
        if signed:  # signed without a token: rec:flickr.test.login.error-oauth-400.1.txt
            raise OAuthProblem(400, "oauth_problem=parameter_absent&oauth_parameters_absent=oauth_token")
        return None, ApiError(99, perms_message(required, 0))
    if token is not None and level(token.perms) < required:
        return None, ApiError(99, perms_message(required, level(token.perms)))
    viewer = render.Viewer(token.nsid if token else None, state.base, state.config.free_account)
    call = Call(state.account, state.config, state.faults, params, token, viewer, state.stats)
    try:
        return handler(call), None
    except ApiError as error:
        return None, error


# --- OAuth endpoints ------------------------------------------------------------------

async def _oauth_pairs(request: web.Request) -> list[tuple[str, str]]:
    pairs = parse_header(request.headers.get("Authorization", "")) + list(request.query.items())
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        pairs += [(k, v) for k, v in form.items() if isinstance(v, str)]
    return pairs


def _oauth_text(body: bytes | str, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body if isinstance(body, bytes) else body.encode(),
                        headers={"Content-Type": wire.OAUTH_TEXT})


async def request_token(state: SandboxState, request: web.Request) -> web.Response:
    if refused := await cdn.admit(state, request, cdn=False):  # the one recorded 429 was here
        return refused
    try:
        signed = state.oauth.verify(request.method, state.base + request.path,
                                    await _oauth_pairs(request), require_token=False)
        pending = state.oauth.request_token(signed)
    except OAuthProblem as problem:
        return _oauth_text(problem.body, problem.status)
    # rec:oauth.request_token.1.txt
    return _oauth_text(wire.oauth_body(oauth_callback_confirmed="true", oauth_token=pending.token,
                                       oauth_token_secret=pending.secret))


AUTHORIZE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Flickr sandbox: authorize</title></head>
<body><h1>Flickr sandbox</h1>
<p>You are signed in as <b>{username}</b>.</p>
<p>An application wants <b>{perms}</b> access to your account.</p>
<form method="post" action="{action}">
<input type="hidden" name="oauth_token" value="{token}">
<input type="hidden" name="perms" value="{perms}">
<button type="submit" name="decision" value="yes">OK, I'll authorize it</button>
</form></body></html>"""

VERIFIER_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Flickr sandbox: authorized</title></head>
<body><h1>You have successfully authorized the application.</h1>
<p>Copy this code into the application:</p>
<p><span id="verifier">{verifier}</span></p></body></html>"""


async def authorize(state: SandboxState, request: web.Request) -> web.Response:
    """The page a user opens; its form approves. oob shows an NNN-NNN-NNN verifier,
    otherwise the browser goes back to the callback (reference §1.2)."""
    params = dict(request.query)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    token, perms = params.get("oauth_token", ""), params.get("perms", "")
    if token not in state.oauth.requests or perms not in ("read", "write", "delete"):
        return web.Response(status=400, text="Oops! Flickr can't find a valid callback URL "
                            "or the request token and perms are missing.", content_type="text/html")
    if request.method == "GET":
        page = AUTHORIZE_PAGE.format(username=html.escape(state.account.owner.username),
                                     perms=perms, token=html.escape(token), action="/services/oauth/authorize")
        return web.Response(text=page, content_type="text/html")
    pending = state.oauth.authorize(token, perms)
    if pending.callback == "oob":
        return web.Response(text=VERIFIER_PAGE.format(verifier=pending.verifier), content_type="text/html")
    joiner = "&" if "?" in pending.callback else "?"
    target = pending.callback + joiner + urlencode({"oauth_token": token, "oauth_verifier": pending.verifier})
    raise web.HTTPFound(target)


async def access_token(state: SandboxState, request: web.Request) -> web.Response:
    await state.faults.link.round_trip(request)
    try:
        signed = state.oauth.verify(request.method, state.base + request.path,
                                    await _oauth_pairs(request), token_store="request")
        token = state.oauth.access_token(signed, state.account.owner.nsid)
    except OAuthProblem as problem:
        return _oauth_text(problem.body, problem.status)
    owner = state.account.owner
    # rec:oauth.access_token.1.txt
    return _oauth_text(wire.oauth_body(fullname=owner.realname, oauth_token=token.token,
                                       oauth_token_secret=token.secret, user_nsid=owner.nsid,
                                       username=owner.username))


# --- control endpoints (never faulted, never counted) ---------------------------------

def _json(data, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def _target_item(state: SandboxState, data: dict):
    item = state.account.items.get(str(data.get("id", "")))
    if item is None or item.deleted:
        raise web.HTTPNotFound(text=f"no live item {data.get('id')!r}")
    return item


def _item_record(state: SandboxState, item) -> dict:
    return state.account.manifest_items([item])[0]


async def control(state: SandboxState, request: web.Request) -> web.Response:
    action = request.match_info["action"]
    account = state.account
    if request.method == "GET":
        if action == "stats":
            return _json(state.stats_doc())
        if action == "manifest":
            return _json(account.manifest())
        if action == "records":
            return _json({"items": [account.record(i) for i in account.items.values()]})
        if action == "info":
            return _json(state.info())
        raise web.HTTPNotFound()
    data = await _body(request)
    if action == "replace":
        item = _target_item(state, data)
        account.replace(item)
        return _json(_item_record(state, item))
    if action == "edit":
        item = _target_item(state, data)
        for key in ("title", "description", "date_taken", "license", "ispublic", "isfriend",
                    "isfamily", "safety_level"):
            if key in data:
                setattr(item, key, data[key])
        if "tags" in data:
            item.tags = [tag_for(account, item.id, raw) for raw in data["tags"]]
        item.touch()
        return _json(_item_record(state, item))
    if action == "comment":
        target = account.albums.get(str(data.get("id", ""))) or _target_item(state, data)
        author = data.get("author") or next(u for u in account.users.values()
                                            if u.nsid != account.owner.nsid and not u.deleted).nsid
        comment = account.add_comment(target, str(data.get("text", "A new comment")), author)
        return _json({"id": comment.id, "target": target.id})
    if action == "add":
        kind = data.get("media", "photo")
        if kind not in ("photo", "video"):
            raise web.HTTPBadRequest(text="media must be photo or video")
        items = [new_item(account, state.config, kind, data.get("title")) for _ in range(int(data.get("count", 1)))]
        return _json({"items": account.manifest_items(items)})
    if action == "delete":
        item = _target_item(state, data)
        account.delete(item)
        return _json({"id": item.id, "deleted": True})
    if action == "album":
        album = account.albums.get(str(data.get("id", "")))
        if album is None:
            raise web.HTTPNotFound(text="no such album")
        for pid in data.get("add", []):
            if pid in account.items and pid not in album.photo_ids:
                album.photo_ids.append(pid)
        for pid in data.get("remove", []):
            if pid in album.photo_ids:
                album.photo_ids.remove(pid)
        album.primary = album.photo_ids[0] if album.photo_ids and album.primary not in album.photo_ids else album.primary
        album.date_update = max(album.date_update + 1, now())
        return _json({"id": album.id, "photo_ids": album.photo_ids})
    if action == "token":
        perms = data.get("perms", "read")
        if perms not in ("read", "write", "delete"):
            raise web.HTTPBadRequest(text="perms must be read, write or delete")
        token = state.oauth.issue(account.owner.nsid, perms)
        return _json({"oauth_token": token.token, "oauth_token_secret": token.secret, "perms": perms})
    if action == "faults":
        allowed = {"fault_rate", "fault_kinds", "page_drop_rate", "latency_ms", "bandwidth", "connection_bandwidth",
                   "rate_limit", "cdn_rate_limit", "retry_after", "video_access", "past_end",
                   "free_account", "poster_as_video", "trickle", "trickle_on", "endless_cdn",
                   "foreign_video_base", "foreign_redirect_base"}
        unknown = set(data) - allowed
        if unknown:
            raise web.HTTPBadRequest(text=f"unknown knobs {sorted(unknown)}")
        for key in ("rate_limit", "cdn_rate_limit", "fault_kinds", "trickle_on"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        try:
            state.config = state.config.replace(**data)
        except (TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        state.faults.configure(state.config)
        return _json({"ok": True})
    if action == "export":
        folder = data.get("dir")
        if not folder:
            raise web.HTTPBadRequest(text="export needs {\"dir\": PATH}")
        try:
            written = await asyncio.to_thread(write_export, account, Path(folder), state.base,
                                              set(data.get("defects", [])), int(data.get("per_zip", MEDIA_PER_ZIP)))
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return _json(written)
    if action == "hostile":
        if data.get("clear"):
            state.hostile.clear()
        try:
            state.hostile += [hostile.check(rule) for rule in data.get("rules", [])]
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        return _json({"rules": len(state.hostile)})
    if action == "reset-stats":
        state.reset_stats()
        return _json({"ok": True})
    raise web.HTTPNotFound()


# --- the app ----------------------------------------------------------------------------

def build_app(state: SandboxState) -> web.Application:
    def bind(handler):
        async def route(request):
            return await handler(state, request)
        return route

    app = web.Application(client_max_size=1 << 20)
    app.add_routes([
        web.route("*", "/services/rest/", bind(rest)),
        web.route("*", "/services/rest", bind(rest)),
        web.route("*", "/services/oauth/request_token", bind(request_token)),
        web.route("*", "/services/oauth/access_token", bind(access_token)),
        web.get("/services/oauth/authorize", bind(authorize)),
        web.post("/services/oauth/authorize", bind(authorize)),
        web.route("*", "/__sandbox__/{action}", bind(control)),
        web.get("/photos/", bind(site.photos_page)),
        web.get("/photos/{owner}/{id}/play/{label}/{secret}/", bind(cdn.play)),
        web.get("/video/{id}/{secret}/{label}.mp4", bind(cdn.video_file)),
        web.get("/{server:\\d+}/cols/{name}", bind(cdn.collection_icon)),
        web.get("/{server:\\d+}/{name}", bind(cdn.photo)),
    ])
    return app


async def start(config: SandboxConfig) -> tuple[web.AppRunner, SandboxState]:
    """Start serving on 127.0.0.1 in the running loop; returns the runner and the state."""
    state = SandboxState(config)
    runner = web.AppRunner(build_app(state), access_log=log if config.verbose else None,
                           handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", config.port, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # the real port when asked for 0
    state.base = f"http://127.0.0.1:{port}"
    return runner, state


class Sandbox:
    """A sandbox in a background thread, for tests, benchmarks and the demo:

        with Sandbox(SandboxConfig(photos=10)) as sb:
            sb.info["api_base"]
    """

    def __init__(self, config: SandboxConfig | None = None, **options):
        self.config = config or SandboxConfig(**options)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.state: SandboxState | None = None

    def __enter__(self) -> "Sandbox":
        self._thread = threading.Thread(target=self._run, name="flickr-sandbox", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error:
            raise self._error
        return self

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self._runner, self.state = self.loop.run_until_complete(start(self.config))
        except BaseException as error:  # surfaced to the caller of __enter__
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    def __exit__(self, *exc) -> None:
        if self.loop and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    @property
    def info(self) -> dict:
        return self.state.info()

    @property
    def base(self) -> str:
        return self.state.base


async def serve_forever(config: SandboxConfig, announce) -> None:
    """Serve until cancelled (SIGINT/SIGTERM in the CLI). `announce(info)` runs once bound."""
    runner, state = await start(config)
    try:
        announce(state.info())
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
