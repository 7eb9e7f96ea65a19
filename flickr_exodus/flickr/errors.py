"""What can go wrong on the wire, sorted by what to do about it."""

from __future__ import annotations

# Flickr error codes worth another try: 105 service unavailable, 106 write operation
# failed, 201 "sorry, the Flickr API service is not currently available" (reference §3).
RETRYABLE_CODES = frozenset({105, 106, 201})


class FlickrError(Exception):
    """A definite answer from Flickr ({"stat": "fail"}): retrying will not change it.
    Codes 1 (not found), 99 (insufficient permissions), 100 (bad key), 112 (unknown
    method), 98 (bad token) and the like."""

    def __init__(self, code: int | None, message: str):
        super().__init__(f"Flickr error {code}: {message}" if code is not None else message)
        self.code = code
        self.message = message


class Transient(Exception):
    """Worth another try after a pause: 5xx, resets, short or unparseable bodies, codes
    105/106/201."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Throttled(Transient):
    """HTTP 429: over Flickr's quota. Never ends a run: wait and go on."""
