"""What can go wrong on the wire, sorted by what to do about it: net/'s three kinds, with
what Flickr itself says."""

from __future__ import annotations

from ..net.errors import Permanent, Throttled, Transient

# Flickr error codes worth another try: 105 service unavailable, 106 write operation
# failed, 201 "sorry, the Flickr API service is not currently available" (reference §3).
RETRYABLE_CODES = frozenset({105, 106, 201})

# Transient (5xx, resets, short or unparseable bodies, codes 105/106/201) and Throttled
# (HTTP 429: over Flickr's quota, never the end of a run) are net/'s own, not subclasses:
# an `except Transient` here also catches a stall that net/limits.py raises.
__all__ = ["RETRYABLE_CODES", "FlickrError", "Throttled", "Transient"]


class FlickrError(Permanent):
    """A definite answer from Flickr ({"stat": "fail"}): retrying will not change it.
    Codes 1 (not found), 99 (insufficient permissions), 100 (bad key), 112 (unknown
    method), 98 (bad token) and the like. `maybe_sent` (net/errors.Permanent): an earlier
    try of the same call may have reached Flickr, its answer lost."""

    def __init__(self, code: int | None, message: str):
        super().__init__(f"Flickr error {code}: {message}" if code is not None else message)
        self.code = code
        self.message = message
