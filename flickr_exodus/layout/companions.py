"""Files that live beside an item's file under its name plus a suffix, and go wherever it
goes: moved with it when it is replaced or set aside, known to verify (never strays),
carried by push.

- `.json`, `.xmp`: the sidecars (layout/tree.py), the item's metadata.
- `.poster.jpg`: a video's still, Flickr's own poster frame (backup/posters.py), so that
  the gallery can show a video before it plays without decoding video.
"""

from __future__ import annotations

from typing import Collection

SIDECARS = (".json", ".xmp")
POSTER = ".poster.jpg"
COMPANIONS = SIDECARS + (POSTER,)


def companion_of(name: str, names: Collection[str]) -> bool:
    """Is `name` a companion of a file among `names` (one folder's)? A poster is one only
    beside its video: a photo titled "x.poster" is named 123_x.poster.jpg and is an original."""
    if name.endswith(SIDECARS):
        return True
    return name.endswith(POSTER) and name[:-len(POSTER)] in names
