"""The two kinds of push target. A file store (`Target`: S3, WebDAV, rclone) takes the
backup's tree as it is: put a local file under a key, stat a key, list keys; keys are
DEST-relative paths with '/' ("photos/2019/07/04/1_x.jpg"). A photo library
(`LibraryTarget`: Immich) takes items as assets with their metadata, then albums and tags."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator


def basic_auth(user: str, password: str) -> str:
    """An Authorization header value (aiohttp's BasicAuth is deprecated from 3.14)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class TargetProblem(Exception):
    """The target cannot be used as given (credentials, host, bucket): one line, exit 2."""


@dataclass
class RemoteObject:
    key: str
    size: int
    etag: str | None = None   # as the target reports it (S3: the MD5 of a single-part upload)


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
