"""Who we are to Flickr: the API key and the user's OAuth token.

The environment wins over the stored token file, so a CI job or a one-off run never
needs `exodus auth`. The token file is written with mode 0600 and never printed. It keeps
one sign-in per API host ({"hosts": {"www.flickr.com": {...}, "127.0.0.1:8765": {...}}}),
so that a sign-in to a sandbox never replaces the one for Flickr; a file from before
(one flat record) is Flickr's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PERMS = ("read", "write", "delete")
FLICKR_HOST = "www.flickr.com"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "flickr-exodus"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "flickr-exodus"


def token_path() -> Path:
    return config_dir() / "token.json"


class MissingCredentials(Exception):
    pass


def api_host(api_base: str | None = None) -> str:
    """The host a token belongs to: --api-base (given, or EXODUS_API_BASE, as click reads
    it), else Flickr's."""
    base = (api_base or os.environ.get("EXODUS_API_BASE") or "").strip()
    if not base:
        return FLICKR_HOST
    return (urlsplit(base if "//" in base else f"//{base}").netloc or base).lower()


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str
    token: str | None = None
    token_secret: str | None = None
    perms: str | None = None  # what the token allows, when known
    username: str | None = None

    def __repr__(self) -> str:  # secrets never reach a log through a repr
        return f"Credentials(api_key={self.api_key[:4]}…, user={self.username!r}, perms={self.perms!r})"

    @classmethod
    def load(cls, need_token: bool = True, api_base: str | None = None) -> "Credentials":
        """Key, secret and token for the API host in use (api_host)."""
        env = os.environ
        host = api_host(api_base)
        stored = _read_token_file().get(host) or {}
        key = env.get("FLICKR_API_KEY") or stored.get("api_key")
        secret = env.get("FLICKR_API_SECRET") or (
            stored.get("api_secret") if stored.get("api_key") == key else None)
        if not key or not secret:
            raise MissingCredentials(
                "no Flickr API key: set FLICKR_API_KEY and FLICKR_API_SECRET "
                "(from https://www.flickr.com/services/apps/create/), then run 'exodus auth'")
        token, token_secret = env.get("FLICKR_OAUTH_TOKEN"), env.get("FLICKR_OAUTH_TOKEN_SECRET")
        perms, username = None, None
        if token and token_secret:
            perms = env.get("FLICKR_OAUTH_PERMS")
        elif stored.get("api_key") == key and stored.get("oauth_token"):
            token, token_secret = stored["oauth_token"], stored["oauth_token_secret"]
            perms, username = stored.get("perms"), stored.get("username")
        else:
            token = token_secret = None
        if need_token and not token:
            where = "" if host == FLICKR_HOST else f" at {host}"
            raise MissingCredentials(
                f"not signed in to Flickr{where}: run 'exodus auth' (or set FLICKR_OAUTH_TOKEN and "
                "FLICKR_OAUTH_TOKEN_SECRET)")
        return cls(key, secret, token, token_secret, perms, username)

    def save(self, api_base: str | None = None) -> Path:
        """Store key, secret and token for later runs against this API host (the others'
        stay as they were): mode 0600 from the first byte."""
        path = token_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        hosts = _read_token_file()
        hosts[api_host(api_base)] = {"api_key": self.api_key, "api_secret": self.api_secret,
                                     "oauth_token": self.token, "oauth_token_secret": self.token_secret,
                                     "perms": self.perms, "username": self.username}
        body = json.dumps({"hosts": hosts}, indent=1)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(body)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return path


def _read_token_file() -> dict[str, dict]:
    """Every stored sign-in by API host; a file from before hosts were kept is Flickr's."""
    try:
        data = json.loads(token_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    if "hosts" not in data:
        return {FLICKR_HOST: data} if data.get("api_key") else {}
    hosts = data["hosts"] if isinstance(data["hosts"], dict) else {}
    return {host: record for host, record in hosts.items() if isinstance(record, dict)}
