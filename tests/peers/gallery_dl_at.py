"""Run gallery-dl, unmodified, against a Flickr sandbox: `python gallery_dl_at.py BASE ARGS...`.

The one change is where gallery-dl's Flickr extractor reaches Flickr: its two URL
constants, `FlickrAPI.API_URL` (the REST endpoint) and `FlickrExtractor.root` (the web site,
whose /photos/ page it reads its site key from on every run), set here before gallery-dl's
own `main()` runs with ARGS. Credentials (API key, OAuth token, the session cookie for original
videos) and everything else come through gallery-dl's own config file and options. Run with
the peers' interpreter (.venv-peers), never the project's.
"""

import sys

from gallery_dl import main
from gallery_dl.extractor import flickr


def run(base: str, args: list[str]) -> int:
    flickr.FlickrAPI.API_URL = base.rstrip("/") + "/services/rest/"
    flickr.FlickrExtractor.root = base.rstrip("/")
    sys.argv = ["gallery-dl", *args]
    return main()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
