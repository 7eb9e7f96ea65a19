"""The two kinds of push target. A file store (`Target`: S3, WebDAV, rclone) takes the
backup's tree as it is: put a local file under a key, stat a key, list keys; keys are
DEST-relative paths with '/' ("photos/2019/07/04/1_x.jpg"). A photo library
(`LibraryTarget`: Immich) takes items as assets with their metadata, then albums and tags."""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable
from urllib.parse import SplitResult, urlsplit


def basic_auth(user: str, password: str) -> str:
    """An Authorization header value (aiohttp's BasicAuth is deprecated from 3.14)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def split_url(url: str, expected: str, valid: Callable[[SplitResult], object] = lambda p: p.hostname) -> SplitResult:
    """A target's URL in parts, or one line naming the shape it should have."""
    parts = urlsplit(url)
    if not valid(parts):
        raise TargetProblem(f"{url}: expected {expected}")
    return parts


def web_base(parts: SplitResult, secure: str) -> str:
    """scheme://host[:port] of a target's URL: https when its scheme is `secure`
    (webdavs, immichs), else http."""
    scheme = "https" if parts.scheme.lower() == secure else "http"
    return f"{scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


class TargetProblem(Exception):
    """The target cannot be used as given (credentials, host, bucket): one line, exit 2."""


@dataclass
class RemoteObject:
    key: str
    size: int
    etag: str | None = None   # as the target reports it: an opaque version tag, kept in `pushes`
    # The MD5 of the bytes the target holds, only where the target itself computed it
    # (an S3 ETag where S3 guarantees that, Nextcloud's X-Hash-MD5, rclone's hash), and
    # how it was had: "etag", "multipart-etag", "x-hash", "rclone".
    md5: str | None = None
    md5_by: str = ""
    # A check the target made itself before accepting the bytes ("content-md5": our
    # signed Content-MD5, which S3 verifies), noted beside a size check.
    accepted: str = ""
    # An MD5 stored beside the file as a client declared it, not computed by the target
    # (Nextcloud's oc:checksums, from our OC-Checksum): it says whose upload the file is.
    declared_md5: str | None = None


def reach_timeout() -> float:
    """Seconds a target may take to answer that it is there (EXODUS_REACH_TIMEOUT)."""
    try:
        value = float(os.environ.get("EXODUS_REACH_TIMEOUT", "60"))
    except ValueError:
        return 60.0
    return value if 0 < value < float("inf") else 60.0


async def opened(target: "Target | LibraryTarget") -> None:
    """target.open(), bounded: an unreachable or silent target is one line, not a hang."""
    seconds = reach_timeout()
    try:
        await asyncio.wait_for(target.open(), seconds)
    except asyncio.TimeoutError:
        try:
            await target.close()
        except Exception:  # noqa: BLE001 - half-opened; the timeout is what to say
            pass
        raise TargetProblem(f"{target.name} did not answer within {seconds:g} s "
                            "(unreachable? EXODUS_REACH_TIMEOUT sets the wait)") from None


class Target:
    name: str  # the URL without credentials, for reports and the pushes table

    async def open(self) -> None:
        """Check the target is reachable and usable; TargetProblem if not."""

    async def put(self, key: str, path: Path, md5: str, mtime: float, data: bytes | None = None) -> RemoteObject:
        """Store the file under key; `data` is its bytes when the caller read them already."""
        raise NotImplementedError

    async def stat(self, key: str) -> RemoteObject | None:
        raise NotImplementedError

    def list(self, prefix: str = "") -> AsyncIterator[RemoteObject]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class LibraryTarget:
    """A photo library: see targets/immich.py for the operations push uses."""
    name: str

    async def open(self) -> None:
        """Check the library is reachable and the key accepted; TargetProblem if not."""

    async def close(self) -> None:
        pass
