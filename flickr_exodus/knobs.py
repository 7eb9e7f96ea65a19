"""Settings read from the environment by several layers, kept free of heavy imports so
that any command can use them: EXODUS_BACKOFF (the first retry pause), EXODUS_DIE_AT and
EXODUS_PAUSE_AT (where the tests put a kill -9, or a stop while they fill the disk) and EXODUS_TRACE_SQL (a file that receives every SQL
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
