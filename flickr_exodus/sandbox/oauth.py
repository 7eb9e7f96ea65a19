"""OAuth 1.0a as Flickr runs it (reference §1.2): HMAC-SHA1 over the oauth params, the
query string and the form body; form-encoded answers; read < write < delete."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

PERMS = ("none", "read", "write", "delete")  # index = Flickr's requiredperms number
# Flickr's tolerance for clocks and replays is undocumented; these are the usual OAuth
# server choices (inferred).
TIMESTAMP_WINDOW = 15 * 60
NONCE_MEMORY = 200_000


def level(perms: str) -> int:
    return PERMS.index(perms)


def enc(text: str) -> str:
    """RFC 3986 percent-encoding ('~' unreserved), as OAuth signs."""
    return quote(text, safe="-._~")


def base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    pairs = sorted((enc(k), enc(v)) for k, v in params if k not in ("oauth_signature", "realm"))
    joined = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), enc(url), enc(joined)))


def sign(base: str, consumer_secret: str, token_secret: str = "") -> str:
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def parse_header(header: str) -> list[tuple[str, str]]:
    """'OAuth k="v", ...' -> [(k, v)] with values percent-decoded."""
    if not header[:6].lower() == "oauth ":
        return []
    out = []
    for part in header[6:].split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            out.append((unquote(key), unquote(value.strip().strip('"'))))
    return out


class OAuthProblem(Exception):
    """An OAuth-layer refusal: not stat=fail but HTTP 400/401 form-encoded text
    (rec:flickr.photos.comments.addComment.error-oauth-401.1.txt,
    rec:flickr.test.login.error-oauth-400.1.txt)."""

    def __init__(self, status: int, body: str):
        super().__init__(body)
        self.status = status
        self.body = body


@dataclass
class Token:
    token: str
    secret: str
    nsid: str
    perms: str


@dataclass
class RequestToken:
    token: str
    secret: str
    callback: str
    verifier: str | None = None
    perms: str | None = None


@dataclass
class Signed:
    """A request whose signature checked out."""

    consumer_key: str
    token: Token | None
    params: dict[str, str]


@dataclass
class OAuthServer:
    api_key: str
    api_secret: str
    rng: random.Random
    tokens: dict[str, Token] = field(default_factory=dict)
    requests: dict[str, RequestToken] = field(default_factory=dict)
    _nonces: dict[tuple[str, str], int] = field(default_factory=dict)

    def _token_pair(self) -> tuple[str, str]:
        # Shapes: 72157626737672178-022bbd2f4c2f3432 / fccb68c4e6103197 (reference §1.2).
        token = f"72157{self.rng.randrange(10**11, 10**12)}-{self.rng.getrandbits(64):016x}"
        return token, f"{self.rng.getrandbits(64):016x}"

    def issue(self, nsid: str, perms: str) -> Token:
        token, secret = self._token_pair()
        self.tokens[token] = Token(token, secret, nsid, perms)
        return self.tokens[token]

    def verify(self, method: str, url: str, params: list[tuple[str, str]], *,
               require_token: bool = True, token_store: str = "access") -> Signed:
        """Check an OAuth-signed request or raise OAuthProblem."""
        oauth = {k: v for k, v in params if k.startswith("oauth_")}
        missing = [k for k in ("oauth_consumer_key", "oauth_signature", "oauth_signature_method",
                               "oauth_nonce", "oauth_timestamp") if k not in oauth]
        if require_token and "oauth_token" not in oauth:
            missing.append("oauth_token")
        if missing:
            raise OAuthProblem(400, "oauth_problem=parameter_absent&oauth_parameters_absent="
                               + "%26".join(missing))
        if oauth["oauth_signature_method"] != "HMAC-SHA1":  # the only one Flickr supports
            raise OAuthProblem(400, "oauth_problem=signature_method_rejected")
        if oauth["oauth_consumer_key"] != self.api_key:
            raise OAuthProblem(401, "oauth_problem=consumer_key_unknown")
        token_secret = ""
        token = None
        if "oauth_token" in oauth:
            if token_store == "request":
                pending = self.requests.get(oauth["oauth_token"])
                if pending is None:
                    raise OAuthProblem(401, "oauth_problem=token_rejected")
                token_secret = pending.secret
            else:
                token = self.tokens.get(oauth["oauth_token"])
                if token is None:
                    raise OAuthProblem(401, "oauth_problem=token_rejected")
                token_secret = token.secret
        base = base_string(method, url, params)
        expected = sign(base, self.api_secret, token_secret)
        if not hmac.compare_digest(expected, oauth["oauth_signature"]):
            raise OAuthProblem(401, "oauth_problem=signature_invalid&debug_sbs=" + base)
        self._check_fresh(oauth)
        return Signed(self.api_key, token, dict(params))

    def _check_fresh(self, oauth: dict[str, str]) -> None:
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError:
            raise OAuthProblem(400, "oauth_problem=timestamp_refused") from None
        now = int(time.time())
        if abs(now - stamp) > TIMESTAMP_WINDOW:
            raise OAuthProblem(401, "oauth_problem=timestamp_refused")
        key = (oauth.get("oauth_token", ""), oauth["oauth_nonce"])
        if key in self._nonces:
            raise OAuthProblem(401, "oauth_problem=nonce_used")
        if len(self._nonces) >= NONCE_MEMORY:
            cutoff = now - TIMESTAMP_WINDOW
            self._nonces = {k: t for k, t in self._nonces.items() if t >= cutoff}
        self._nonces[key] = stamp

    # --- the three legs -------------------------------------------------------------

    def request_token(self, signed: Signed) -> RequestToken:
        callback = signed.params.get("oauth_callback")
        if not callback:
            raise OAuthProblem(400, "oauth_problem=parameter_absent&oauth_parameters_absent=oauth_callback")
        token, secret = self._token_pair()
        self.requests[token] = RequestToken(token, secret, callback)
        return self.requests[token]

    def authorize(self, token: str, perms: str) -> RequestToken:
        pending = self.requests.get(token)
        if pending is None or perms not in PERMS[1:]:
            raise KeyError(token)
        pending.perms = perms
        n = self.rng.randrange(10**9)
        pending.verifier = f"{n // 10**6:03d}-{n // 10**3 % 1000:03d}-{n % 1000:03d}"
        return pending

    def access_token(self, signed: Signed, owner_nsid: str) -> Token:
        pending = self.requests.get(signed.params.get("oauth_token", ""))
        verifier = signed.params.get("oauth_verifier")
        if pending is None or pending.verifier is None or verifier != pending.verifier:
            raise OAuthProblem(401, "oauth_problem=token_rejected")
        del self.requests[pending.token]  # a request token is good for one exchange
        return self.issue(owner_nsid, pending.perms or "read")
