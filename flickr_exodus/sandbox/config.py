"""Every knob of the sandbox: the account it generates, how it behaves, which faults it injects.

The CLI (`exodus sandbox ...`) and Python callers (tests, benchmarks, the demo) build the
same `SandboxConfig`, so a flag and an argument can never drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import portraits

VIDEO_ACCESS = ("cookie", "oauth", "open")
PAST_END = ("repeat", "empty")
# What --fault-rate mixes, and what --fault-kinds may narrow it to.
API_FAULT_KINDS = ("http_5xx", "code_105", "code_201", "reset", "short_body")
CDN_FAULT_KINDS = ("http_5xx", "reset", "short_body")
FAULT_KINDS = tuple(dict.fromkeys(API_FAULT_KINDS + CDN_FAULT_KINDS))


def parse_rate(text: str | None) -> tuple[int, float] | None:
    """'CALLS/SECONDS' -> (calls, seconds); None or '' -> no limit."""
    if not text:
        return None
    try:
        calls, seconds = text.split("/", 1)
        parsed = int(calls), float(seconds)
    except ValueError:
        raise ValueError(f"expected CALLS/SECONDS such as 3600/3600, got {text!r}") from None
    if parsed[0] < 1 or parsed[1] <= 0:
        raise ValueError(f"a rate needs at least 1 call in a positive window, got {text!r}")
    return parsed


def parse_size_range(text: str | int) -> tuple[int, int]:
    """'N' or 'MIN-MAX' (bytes) -> (min, max)."""
    if isinstance(text, int):
        return text, text
    try:
        low, _, high = str(text).partition("-")
        bounds = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"expected BYTES or MIN-MAX, got {text!r}") from None
    if bounds[0] < 1 or bounds[1] < bounds[0]:
        raise ValueError(f"expected 1 <= MIN <= MAX, got {text!r}")
    return bounds


@dataclass
class SandboxConfig:
    # --- the account -------------------------------------------------------------
    photos: int = 40
    videos: int = 4
    albums: int = 6
    seed: int = 1
    # Share of items with comments; None keeps the fixed pattern (about 36%) that the
    # tests were written against.
    comment_share: float | None = None
    # Photos that are real JPEGs with a face composed in (portraits.py): public, CC BY 2.0,
    # one person tagged and the tag "portrait". 0 leaves the account exactly as without.
    faces: int = 0
    # Size of photo originals and of video originals, in bytes: (min, max), drawn per item.
    media_size: tuple[int, int] = (40_000, 400_000)
    video_size: tuple[int, int] = (200_000, 1_500_000)
    # Free account (reference §5.1, since 2025-05-15): Original and sizes above 1024 px
    # are withheld from the API and refused by the CDN, Creative-Commons items excepted.
    free_account: bool = False

    # --- behaviour switches for what the reference marks inferred or unproven ---------
    # Who may fetch /play/orig/ (reference §5.3): the owner's browser session only
    # (real Flickr for most tools), also an OAuth-signed request, or anyone.
    video_access: str = "cookie"
    # A page past the end: Flickr repeats the last page (reference §4.1, clamp to 10,000
    # observed; repeat past the end inferred), or an empty list.
    past_end: str = "repeat"
    # A misbehaving CDN that hands out the poster JPEG where a video's original belongs
    # (what several tools have saved as "the video", peers.md §5).
    poster_as_video: bool = False
    # Lifetime of the signed /video/ URLs that /play/ redirects to.
    video_url_ttl: float = 3600.0

    # --- faults ------------------------------------------------------------------
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    page_drop_rate: float = 0.0
    # The link (link.py): a round trip before every answer's first byte (two on a new
    # connection), a total cap over all CDN responses and a cap on each connection, in
    # bytes/s, each with a burst of at most 64 KiB.
    latency_ms: float = 0.0
    bandwidth: int | None = None
    connection_bandwidth: int | None = None
    rate_limit: tuple[int, float] | None = None  # API: calls per window of seconds
    cdn_rate_limit: tuple[int, float] | None = None
    retry_after: bool = False  # send Retry-After with 429s (never seen on real Flickr)

    # --- a Flickr gone wrong: what exodus's bounds and credential scoping are tested on ---
    # Bodies sent one byte every `trickle` seconds, for what `trickle_on` names: "cdn"
    # (every CDN body), "api" (every API answer) or API method names.
    trickle: float = 0.0
    trickle_on: tuple[str, ...] = ()
    # CDN bodies without a length that never end (the blob's bytes, then zeros).
    endless_cdn: bool = False
    # getSizes names each Video Original at this base URL (another host) instead of the
    # sandbox's own; /play/ redirects to this base instead of the sandbox's /video/.
    foreign_video_base: str | None = None
    foreign_redirect_base: str | None = None

    # --- server ------------------------------------------------------------------
    port: int = 0
    verbose: bool = False

    # Credentials are derived from the seed unless given (stable across restarts).
    api_key: str | None = None
    api_secret: str | None = None

    def __post_init__(self) -> None:
        if self.video_access not in VIDEO_ACCESS:
            raise ValueError(f"video_access must be one of {VIDEO_ACCESS}")
        if self.past_end not in PAST_END:
            raise ValueError(f"past_end must be one of {PAST_END}")
        for name in ("photos", "videos", "albums", "faces"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.faces > self.photos:
            raise ValueError(f"faces ({self.faces}) cannot be more than photos ({self.photos})")
        if self.faces and portraits.missing():
            raise ValueError(portraits.missing())
        for name in ("fault_rate", "page_drop_rate", "comment_share"):
            if getattr(self, name) is not None and not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 0.0 <= self.latency_ms <= 60_000:
            raise ValueError("latency_ms must be between 0 and 60000")
        for name in ("bandwidth", "connection_bandwidth"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number of bytes per second, at least 1")
        if not 0.0 <= self.trickle <= 60.0:
            raise ValueError("trickle must be between 0 and 60 seconds")
        self.trickle_on = tuple(self.trickle_on)
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        self.media_size = parse_size_range(self.media_size) if not isinstance(self.media_size, tuple) else self.media_size
        self.video_size = parse_size_range(self.video_size) if not isinstance(self.video_size, tuple) else self.video_size

    def replace(self, **changes) -> "SandboxConfig":
        return dataclasses.replace(self, **changes)
