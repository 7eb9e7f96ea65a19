"""What can go wrong with a request, sorted by what to do about it: another try after a
pause (`Transient`), a pause shared by every caller (`Throttled`, an HTTP 429), or
nothing (`Permanent`). Each caller (flickr/, each push target, the downloads) turns its
library's failures into these, so that the one policy (policy.py) can judge them all.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import cache
from typing import Iterator


@cache
def wire_errors() -> tuple[type[BaseException], ...]:
    """What aiohttp and the socket raise for a request that got no usable answer. aiohttp
    is imported here, not above: the ids and errors that commands without any network
    (gallery, status) reach through this package must not cost its import (0.3-2 s), nor
    asyncio's (with ssl, 0.1 s)."""
    import asyncio

    import aiohttp
    return (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


class Transient(Exception):
    """Worth another try after a pause: 5xx, resets, stalls, short or unparseable bodies.
    `maybe_sent`: the request may have reached the server, its answer lost on the way
    back, so what it asked may have been done."""

    maybe_sent = True

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Throttled(Transient):
    """HTTP 429: the client as a whole is over the server's limit, so every caller of one
    policy pauses, not only the one that heard it. Refused before it ran."""

    maybe_sent = False

    def __init__(self, reason: str = "HTTP 429", retry_after: float | None = None):
        super().__init__(reason, retry_after)


class Permanent(Exception):
    """A definite answer: asking again brings the same one. `maybe_sent` is set by the
    policy when an earlier try of the same request may have reached the server
    unanswered (a reset, a 5xx): a change it asked for may have been carried out then."""

    maybe_sent = False

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def connection_problem(error: BaseException) -> str:
    """What the socket said (connection refused, name not known), without aiohttp's repr."""
    cause = getattr(error, "os_error", None) or error
    if isinstance(getattr(cause, "errno", None), int) and cause.errno > 0:
        return os.strerror(cause.errno).lower()
    return getattr(cause, "strerror", None) or type(error).__name__


@contextmanager
def on_the_wire(where: str) -> Iterator[None]:
    """aiohttp's and the socket's failures inside, as the Transient they are, naming where."""
    try:
        yield
    except wire_errors() as error:  # evaluated only when something was raised: aiohttp stays unimported till then
        said = str(error)
        problem = connection_problem(error)
        raise Transient(f"{where}: {problem}{f' ({said})' if said and said != problem else ''}") from error


# The longest Retry-After obeyed: Flickr's quota is counted per hour, so an honest server
# never needs more; a hostile or broken one ("Retry-After: 1e9") must not hold a run.
RETRY_AFTER_MAX_S = 3600.0


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, at most RETRY_AFTER_MAX_S; None for none, for one
    that is not a finite number, or for an HTTP date (rare, and the backoff covers it)."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return None
    return min(RETRY_AFTER_MAX_S, max(0.0, seconds))
