"""`exodus demo`: a short tour against an in-process sandbox.

For now it shows the sandbox answering the real flickrapi client: the OAuth dance, the
photostream listing, and originals downloaded and checked against the sandbox's manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.request
from pathlib import Path

import flickrapi
import requests

from .sandbox import Sandbox, SandboxConfig

EXTRAS = "url_o,original_format,media,date_taken,last_update,count_comments"


def _pointed_at(base: str, api_key: str, api_secret: str, token=None) -> flickrapi.FlickrAPI:
    api = flickrapi.FlickrAPI(api_key, api_secret, token=token, store_token=False,
                              format="parsed-json", timeout=30)
    api.REST_URL = f"{base}/services/rest/"
    oauth = api.flickr_oauth
    oauth.REQUEST_TOKEN_URL = f"{base}/services/oauth/request_token"
    oauth.AUTHORIZE_URL = f"{base}/services/oauth/authorize"
    oauth.ACCESS_TOKEN_URL = f"{base}/services/oauth/access_token"
    return api


def _sign_in(base: str, info: dict, echo) -> flickrapi.FlickrAPI:
    api = _pointed_at(base, info["api_key"], info["api_secret"])
    api.get_request_token(oauth_callback="oob")
    url = api.auth_url(perms="read")
    echo(f"  1. the user opens   {url}")
    # What the user's browser does when they click "OK, I'll authorize it".
    form = dict(re.findall(r'name="(oauth_token|perms)" value="([^"]*)"', requests.get(url, timeout=30).text))
    page = requests.post(f"{base}/services/oauth/authorize", data={**form, "decision": "yes"}, timeout=30).text
    verifier = re.search(r'id="verifier">([0-9-]+)<', page).group(1)
    echo(f"  2. and pastes back  {verifier}")
    api.get_access_token(verifier)
    token = api.token_cache.token
    echo(f"  3. exodus holds a   {token.access_level} token for {token.username}")
    return api


def run_demo(directory: str, echo=print) -> int:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    config = SandboxConfig(photos=24, videos=2, albums=4, media_size=(60_000, 300_000))
    with Sandbox(config) as sandbox:
        base, info = sandbox.base, sandbox.info
        echo(f"Flickr sandbox on {base} (account {info['username']}, {info['user_nsid']})")
        echo("Signing in the way a user would (OAuth 1.0a, out-of-band):")
        api = _sign_in(base, info, echo)
        login = api.test.login()
        echo(f"flickr.test.login says: {login['user']['username']['_content']}")

        listing = api.people.getPhotos(user_id="me", per_page=500, extras=EXTRAS, safe_search=3)
        photos = listing["photos"]["photo"]
        echo(f"Listed {len(photos)} of {listing['photos']['total']} items in one API call.")

        manifest = json.loads(urllib.request.urlopen(f"{base}/__sandbox__/manifest").read())
        expected = {item["id"]: item for item in manifest["items"]}
        good = 0
        stills = [p for p in photos if p.get("media") == "photo" and p.get("url_o")]
        for photo in stills:
            name = f"{photo['id']}.{photo['originalformat']}"
            body = requests.get(photo["url_o"], timeout=60).content
            (target / name).write_bytes(body)
            good += hashlib.sha256(body).hexdigest() == expected[photo["id"]]["sha256"]
        echo(f"Downloaded {len(stills)} photo originals into {target}{os.sep}: "
             f"{good} match Flickr's checksum exactly.")
        videos = sum(1 for p in photos if p.get("media") == "video")
        echo(f"{videos} videos are waiting: their originals need the owner's session "
             "(exodus backup handles them).")
        stats = json.loads(urllib.request.urlopen(f"{base}/__sandbox__/stats").read())
        echo(f"API calls used: {stats['api_calls_total']}; bytes served: {stats['bytes_served']:,}; "
             f"{time.monotonic() - started:.1f}s.")
    return 0 if good == len(stills) else 1
