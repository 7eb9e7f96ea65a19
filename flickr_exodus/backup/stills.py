"""A still image fetched whole from Flickr's CDN without credentials: a favorite (faves.py)
or a video's poster (posters.py). Keepsakes beside the archive, not the archive: no resume
within a file, a bounded size, the format checked from the bytes, written as every file is
(layout/writer.py: never seen half-written under its name)."""

from __future__ import annotations

import logging

import aiohttp

from ..knobs import photo_max_bytes
from ..layout.writer import Part
from ..net import limits
from ..net.errors import Throttled, Transient, on_the_wire, parse_retry_after
from ..net.policy import Policy

log = logging.getLogger("exodus.backup")


async def fetch_still(session: aiohttp.ClientSession, url: str, file: Part, policy: Policy, what: str,
                      original_format: str | None = None) -> None:
    """`url` streamed into `file` and landed, under `policy` (the downloads', so that a CDN
    429 pauses these as it pauses them). Its partial file goes when it fails: Transient
    (tries spent), ValueError (a refusal), limits.TooLarge, writer.WrongFormat."""

    async def attempt() -> None:
        file.restart()
        # No credentials: the CDN needs none, and a favorite is someone else's public photo.
        with on_the_wire(what):
            async with limits.answer(session.get(url)) as response:
                if response.status == 429:
                    raise Throttled("CDN 429", parse_retry_after(response.headers.get("Retry-After")))
                if response.status >= 500:
                    raise Transient(f"HTTP {response.status}")
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                async for _ in file.stream(limits.chunks(response, photo_max_bytes(), what)):
                    pass
        if response.content_length is not None and file.have != response.content_length:
            raise Transient("short body")

    def waits(tries: int, delay: float, error: BaseException) -> None:
        log.info("%s: %s; retry %d in %.1f s", what, error, tries, delay)

    try:
        await policy.run(attempt, on_wait=waits)
        file.check("photo", original_format)
        await file.finish_async()
    except BaseException:
        file.restart()
        raise
