"""Settings read from the environment by several layers, kept free of heavy imports so
that any command can use them: EXODUS_BACKOFF (the first retry pause), EXODUS_DIE_AT
(where the tests put a kill -9) and EXODUS_TRACE_SQL (a file that receives every SQL
statement the catalog runs, for checking the indexes: benchmarks/scale.py)."""

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
    tests put a kill -9 at an exact instant (between commit and rename, between items)."""
    wanted = os.environ.get("EXODUS_DIE_AT", "")
    if not wanted.startswith(name + ":"):
        return
    count = crash_point.seen.get(name, 0) + 1
    crash_point.seen[name] = count
    if count >= int(wanted.split(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)


crash_point.seen = {}


def sql_trace_file() -> str | None:
    return os.environ.get("EXODUS_TRACE_SQL") or None
