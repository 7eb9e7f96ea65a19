"""What one running sandbox holds, shared by the routes (server.py) and the CDN (cdn.py).

It sits below both so that neither imports the other: the CDN needs the state, the
server needs the CDN's handlers.
"""

from __future__ import annotations

import collections
import hashlib
import random

from .config import SandboxConfig
from .faults import Faults
from .generate import generate
from .oauth import OAuthServer
from .state import Account


def credentials(seed: int) -> dict[str, str]:
    """Stable per seed, Flickr-shaped: a 32-hex key, a 16-hex secret."""
    digest = hashlib.sha256(f"sandbox-credentials-{seed}".encode()).hexdigest()
    return {"api_key": digest[:32], "api_secret": digest[32:48],
            "session_cookie": f"cookie_session={digest[48:]}"}


class SandboxState:
    """Everything one running sandbox holds; handlers read and change it on one loop."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        creds = credentials(config.seed)
        self.api_key = config.api_key or creds["api_key"]
        self.api_secret = config.api_secret or creds["api_secret"]
        self.session_cookie = creds["session_cookie"]
        self.signing_key = hashlib.sha256(f"video-{config.seed}".encode()).digest()
        self.account: Account = generate(config)
        self.oauth = OAuthServer(self.api_key, self.api_secret, random.Random(f"oauth-{config.seed}"))
        self.owner_token = self.oauth.issue(self.account.owner.nsid, "delete")
        self.faults = Faults(config)
        self.base = ""  # set once the port is known
        self.hostile: list[dict] = []  # raw overrides of served answers (hostile.py)
        self.reset_stats()

    def reset_stats(self) -> None:
        self.stats = collections.Counter()
        self.api_calls = collections.Counter()
        self.faults.counts.clear()

    def info(self) -> dict:
        """The one JSON line `exodus sandbox` prints (design.md contract)."""
        owner = self.account.owner
        return {"api_base": self.base, "api_key": self.api_key, "api_secret": self.api_secret,
                "oauth_token": self.owner_token.token,
                "oauth_token_secret": self.owner_token.secret,
                "user_nsid": owner.nsid, "username": owner.username,
                "session_cookie": self.session_cookie}

    def stats_doc(self) -> dict:
        faults = dict(self.faults.counts)
        return {"api_calls": dict(self.api_calls), "api_calls_total": self.stats["api_calls_total"],
                "bytes_served": self.stats["bytes_served"], "cdn_requests": self.stats["cdn_requests"],
                "rate_limited": self.stats["rate_limited"], "faults": faults,
                "deleted": self.stats["deleted"], "writes": self.stats["writes"],
                "video_refused": self.stats["video_refused"], "trickled": self.stats["trickled"],
                "endless": self.stats["endless"], "account": self.account.summary()}
