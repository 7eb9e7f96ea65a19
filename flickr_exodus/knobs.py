"""Settings read from the environment by several layers, kept free of heavy imports so
that any command can use them: EXODUS_BACKOFF (the first retry pause), EXODUS_DIE_AT and
EXODUS_PAUSE_AT (where the tests put a kill -9, or a stop while they fill the disk),
EXODUS_TRACE_SQL (a file that receives every SQL statement the catalog runs, for checking
the indexes: benchmarks/scale.py), and the bounds on every answer from the wire (how slow
is a stall, how big is too big)."""

from __future__ import annotations

import os
import signal


def backoff_base() -> float:
    """First retry pause in seconds (doubles each time). EXODUS_BACKOFF tunes it."""
    try:
        return max(0.0, float(os.environ.get("EXODUS_BACKOFF", "1")))
    except ValueError:
        return 1.0


def crash_point(name: str) -> None:
    """EXODUS_DIE_AT=NAME:N kills this process at the Nth time it passes NAME: how the
    tests put a kill -9 at an exact instant (between commit and rename, between items).
    EXODUS_PAUSE_AT=NAME:N stops it there instead (SIGSTOP), once, for a test to change
    the world (fill the disk) before it lets the process go on (SIGCONT)."""
    count = crash_point.seen.get(name, 0) + 1
    crash_point.seen[name] = count
    for variable, sig in (("EXODUS_DIE_AT", signal.SIGKILL), ("EXODUS_PAUSE_AT", signal.SIGSTOP)):
        wanted = os.environ.get(variable, "")
        if wanted.startswith(name + ":"):
            at = int(wanted.split(":", 1)[1])
            if count >= at and (sig == signal.SIGKILL or count == at):
                os.kill(os.getpid(), sig)


crash_point.seen = {}


def sql_trace_file() -> str | None:
    return os.environ.get("EXODUS_TRACE_SQL") or None


def _number(name: str, default: float, minimum: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return max(minimum, value) if value == value and value != float("inf") else default


# --- bounds on the wire: a slow or endless answer never holds a run ---------------------

def stall_seconds() -> float:
    """EXODUS_STALL_SECONDS: the window of the minimum speed, and the longest wait for an
    answer's headers or for any byte."""
    return _number("EXODUS_STALL_SECONDS", 120, 0.05)


def stall_bytes() -> int:
    """EXODUS_STALL_BYTES: fewer bytes than this within one window is a stall (the default,
    128 KiB in 120 s, is about 1 KiB/s)."""
    return int(_number("EXODUS_STALL_BYTES", 128 * 1024, 1))


def min_rate() -> float:
    """EXODUS_MIN_RATE: the least average speed, in bytes/s since the first byte, of a
    transfer older than one stall window; 0 turns the floor off. The window rule alone
    lets a server sending 1.1 KiB/s hold a 4 GiB video some 45 days; under a floor of R
    no transfer outlives its cap / R. The default, 32 KiB/s (256 kbit/s for one
    transfer), bounds that video to 36 hours, and is far below any line that could move
    a Flickr library at all; small files finish within the grace and are never judged."""
    return _number("EXODUS_MIN_RATE", 32 * 1024, 0)


def target_max_bytes() -> int:
    """EXODUS_TARGET_MAX_BYTES: the largest answer read from a push target (a WebDAV
    PROPFIND, an Immich JSON answer, an S3 error); a folder of 10,000 files lists in a
    few MB."""
    return int(_number("EXODUS_TARGET_MAX_BYTES", 64 << 20, 1024))


def api_deadline() -> float:
    """EXODUS_API_DEADLINE: the longest one API request may take, body included."""
    return _number("EXODUS_API_DEADLINE", 600, 0.1)


def api_max_bytes() -> int:
    """EXODUS_API_MAX_BYTES: the largest API answer read (a listing page of 500 items with
    long descriptions is a few MB)."""
    return int(_number("EXODUS_API_MAX_BYTES", 64 << 20, 1024))


def photo_max_bytes() -> int:
    """EXODUS_PHOTO_MAX_BYTES: no photo file is larger (Flickr takes photos up to 200 MB)."""
    return int(_number("EXODUS_PHOTO_MAX_BYTES", 256 << 20, 1024))


def video_max_bytes() -> int:
    """EXODUS_VIDEO_MAX_BYTES: no video file is larger (Flickr takes videos up to 1 GB)."""
    return int(_number("EXODUS_VIDEO_MAX_BYTES", 4 << 30, 1024))
