"""How per-photo tools back up an account (peers.md): list the photos, then for every one
flickr.photos.getInfo and flickr.photos.getSizes, then fetch the original. Run with the
unmodified flickrapi client against a sandbox, to count the API calls that costs.

    .venv/bin/python benchmarks/per_photo_reference.py SANDBOX_JSON_LINE

Prints {"items": N, "api_calls_made": M}. The sandbox's own counter is the measure the
quota benchmark uses; this script only makes the calls (CDN downloads are not API calls
and are left out, so the reference is, if anything, cheaper than the real tools).
"""

from __future__ import annotations

import json
import sys

import flickrapi


def run(info: dict) -> dict:
    token = flickrapi.auth.FlickrAccessToken(info["oauth_token"], info["oauth_token_secret"], "delete")
    api = flickrapi.FlickrAPI(info["api_key"], info["api_secret"], token=token, store_token=False,
                              format="parsed-json", timeout=60)
    api.REST_URL = f"{info['api_base']}/services/rest/"
    calls, items, page = 0, 0, 1
    while True:
        listing = api.people.getPhotos(user_id="me", per_page=500, page=page, safe_search=3)
        calls += 1
        photos = listing["photos"]["photo"]
        for photo in photos:
            api.photos.getInfo(photo_id=photo["id"], secret=photo["secret"])
            api.photos.getSizes(photo_id=photo["id"])
            calls += 2
            items += 1
        if page >= int(listing["photos"]["pages"]):
            break
        page += 1
    return {"items": items, "api_calls_made": calls}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
