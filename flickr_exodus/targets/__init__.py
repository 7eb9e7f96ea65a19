"""Where a verified backup can go: file stores (put, stat, list) and photo libraries
(base.py), one module per kind of target. `open_target(url)` picks the module from the
URL's scheme."""

from __future__ import annotations

from .base import LibraryTarget, RemoteObject, Target, TargetProblem, opened


def open_target(url: str) -> Target | LibraryTarget:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "s3":
        from .s3 import S3Target
        return S3Target.from_url(url)
    if scheme in ("webdav", "webdavs"):
        from .webdav import WebDavTarget
        return WebDavTarget.from_url(url)
    if scheme == "rclone":
        from .rclone import RcloneTarget
        return RcloneTarget.from_url(url)
    if scheme in ("immich", "immichs"):
        from .immich import ImmichTarget
        return ImmichTarget.from_url(url)
    raise TargetProblem(f"unknown target {url!r}: use s3://BUCKET/PREFIX, webdav(s)://HOST/PATH, "
                        "immich(s)://HOST or rclone:REMOTE:PATH")


__all__ = ["LibraryTarget", "RemoteObject", "Target", "TargetProblem", "open_target", "opened"]
