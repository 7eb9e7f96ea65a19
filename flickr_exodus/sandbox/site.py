"""The few www.flickr.com pages that API clients read rather than show.

gallery-dl fetches flickr.com/photos/ once per run and takes the web app's own API key from
it (`root.YUI_config.flickr.api.site_key = "..."`, its `_extract_apikey`), even when it is
given a key of its own. Flickr's site key is a key of Flickr's web app; the sandbox, which
knows one key, hands out that one.
"""

from __future__ import annotations

import html

from aiohttp import web

from .running import SandboxState

PHOTOS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Flickr sandbox: photos</title>
<script>root.YUI_config.flickr.api.site_key = "{key}";</script></head>
<body><h1>Flickr sandbox</h1></body></html>"""


async def photos_page(state: SandboxState, request: web.Request) -> web.Response:
    return web.Response(text=PHOTOS_PAGE.format(key=html.escape(state.api_key)), content_type="text/html")
