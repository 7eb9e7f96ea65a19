"""The wire to Flickr: credentials, the quota ledger, calls under net/'s retry policy, tolerant parsing.

Knows nothing of SQLite or of files other than its own token and ledger.

`Api` and `Endpoints` (client.py, with flickrapi and requests under it) are imported on
first use: the layout's names and ids come through this package, and a command that
never calls Flickr (push, verify) should not pay a quarter second of imports for them.
"""

from importlib import import_module

from .credentials import Credentials, MissingCredentials
from .errors import FlickrError, Throttled, Transient
from .quota import Quota

_LAZY = {"Api": "client", "Endpoints": "client"}

__all__ = ["Api", "Credentials", "Endpoints", "FlickrError", "MissingCredentials", "Quota",
           "Throttled", "Transient"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
