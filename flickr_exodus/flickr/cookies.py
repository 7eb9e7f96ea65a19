"""A browser's cookies file (Netscape format, as cookies.txt export extensions and curl
write it): the owner's logged-in session, which Flickr asks for before it hands out a
video's original. Only flickr.com cookies are used; their values are never logged."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit


class CookieProblem(Exception):
    """The cookies file cannot be used: one line for the user."""


def flickr_cookie_header(path: Path, api_base: str | None = None) -> str:
    """A Cookie header value from the file's unexpired cookies for flickr.com (and, for a
    sandbox or proxy given by --api-base, for its host)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise CookieProblem(f"cannot read the cookies file {path}: {error.strerror or error}") from None
    hosts = {"flickr.com"}
    if api_base:
        hosts.add(urlsplit(api_base).hostname or "")
    now = time.time()
    found, expired, lines = {}, 0, 0
    for line in text.splitlines():
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_"):]
        elif not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 7:
            continue
        lines += 1
        domain, _, _, _, expires, name, value = fields
        domain = domain.lstrip(".").lower()
        if not any(domain == h or domain.endswith("." + h) for h in hosts):
            continue
        try:
            expiry = int(expires or 0)
        except ValueError:
            expiry = 0
        if expiry and expiry < now:
            expired += 1
            continue
        found[name] = value
    if not lines:
        raise CookieProblem(f"{path} is not a cookies file (Netscape format: seven tab-separated fields "
                            "per line, as cookies.txt browser extensions export it)")
    if not found:
        why = f"all {expired} of them have expired; sign in again and export anew" if expired \
            else "export them from a browser that is signed in to flickr.com"
        raise CookieProblem(f"{path} holds no usable flickr.com cookies: {why}")
    return "; ".join(f"{name}={value}" for name, value in found.items())
