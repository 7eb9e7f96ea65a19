"""The interface every push target implements: put a local file under a key, stat a key,
list keys. Keys are DEST-relative paths with '/' ("photos/2019/07/04/1_x.jpg")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator


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

    async def put(self, key: str, path: Path, md5: str, mtime: float) -> RemoteObject:
        raise NotImplementedError

    async def stat(self, key: str) -> RemoteObject | None:
        raise NotImplementedError

    def list(self, prefix: str = "") -> AsyncIterator[RemoteObject]:
        raise NotImplementedError

    async def close(self) -> None:
        pass
