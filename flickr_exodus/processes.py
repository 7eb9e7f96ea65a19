"""Worker processes: how many and how they are started, in one place (the gallery's thumbnails, the
audit's face detection).

forkserver where the platform has it: a fork of a process with threads (the CLI's, a
test's servers) could inherit a held lock, and the server forks each worker with the
given modules loaded, their pages shared. Its socket lives in the temporary folder, and a
Unix socket's path is limited (108 bytes on Linux): under a TMPDIR that deep, and where
there is no forkserver (macOS, Windows), spawn.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile

# The forkserver's socket: TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX, and room to spare.
SOCKET_PATH_MAX = 100
_SOCKET_TAIL = len("/pymp-xxxxxxxx/listener-xxxxxxxx")


def context(preload: list[str]):
    """The start method for a pool whose workers import `preload` (module names)."""
    deep = len(os.fsencode(tempfile.gettempdir())) + _SOCKET_TAIL > SOCKET_PATH_MAX
    if deep or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    chosen = multiprocessing.get_context("forkserver")
    chosen.set_forkserver_preload(preload)
    return chosen


def cores() -> int:
    """One worker per core this process may use (its affinity, where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
