"""Old Flickr links to local pages: which items and albums this gallery holds, and how a
Flickr URL names one.

site/js/oldlinks.js turns a pasted URL into an id with the same rules as parse() below, then
loads the one id list that would hold it (OUT/site/data/links/p-NN.js for items, a-NN.js for
albums, NN the id's last two digits) to say whether this gallery has it. Every list is
written, empty or not, so that the page never asks for a file that is not there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from ..flickr import ids
from .pages import write_if_changed

DATA = "site/data/links"
BASE58 = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
BUCKETS = 100

_STATIC = re.compile(r"/(?:[0-9]+/)+([0-9]+)_[0-9a-f]+(?:_[0-9a-z]+)?\.[a-z0-9]+")
_PHOTO = re.compile(r"/photos/[^/]+/([0-9]+)(?:/.*)?")
_ALBUM = re.compile(r"/photos/[^/]+/(?:albums|sets)/([0-9]+)(?:/.*)?")
_SHORT = re.compile(r"/([ps])/([1-9a-km-zA-HJ-NP-Z]{1,20})/?")


def base58_decode(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 58 + BASE58.index(ch)
    return n


def parse(url: str) -> tuple[str, str] | None:
    """("photo" | "album", id) for a Flickr URL of an item or album, else None. A URL without
    a scheme ("flic.kr/p/...") is read as https."""
    url = url.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host, path = (parts.hostname or "").lower(), parts.path
    if host == "flic.kr" and (match := _SHORT.fullmatch(path)):
        kind = "photo" if match.group(1) == "p" else "album"
        return kind, str(base58_decode(match.group(2)))
    if (host == "staticflickr.com" or host.endswith((".staticflickr.com", ".static.flickr.com"))) and (match := _STATIC.fullmatch(path)):
        return "photo", match.group(1)
    if host in ("flickr.com", "www.flickr.com", "m.flickr.com", "secure.flickr.com"):
        if match := _ALBUM.fullmatch(path):
            return "album", match.group(1)
        if match := _PHOTO.fullmatch(path):
            return "photo", match.group(1)
    return None


def bucket(item_id: str) -> str:
    return item_id[-2:].rjust(2, "0")


def write_links(out: Path, photo_ids: Iterable[str], album_ids: Iterable[str]) -> int:
    """OUT/site/data/links/{p,a}-NN.js; returns how many files changed."""
    lists: dict[str, list[str]] = {f"{kind}-{n:02d}": [] for kind in "pa" for n in range(BUCKETS)}
    for kind, found, valid in (("p", photo_ids, ids.is_photo_id), ("a", album_ids, ids.is_album_id)):
        for item_id in found:
            if valid(item_id):
                lists[f"{kind}-{bucket(str(item_id))}"].append(str(item_id))
    return sum(write_if_changed(out, f"{DATA}/{name}.js",
                                f"exodusLinks.add({json.dumps(name)},{json.dumps(sorted(set(listed)))});\n".encode())
               for name, listed in lists.items())
