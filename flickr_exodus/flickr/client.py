"""Every Flickr API call goes through `Api.call`: signed by flickrapi's OAuth client,
counted against the quota, retried by one policy, answered as a parsed dict.

Retry policy (reference §3, net/policy.py): 429 -> every call of this client waits
(Retry-After when sent) and goes on, without limit; 5xx, connection errors, stalls, codes
105/106/201 and unparseable bodies -> exponential backoff with jitter, a bounded number of
times; every other {"stat":"fail"} is final, and so is an answer over
EXODUS_API_MAX_BYTES. Each wait for another try is told to the user
("waiting for Flickr (attempt N, next in S s): why", through the command's note, which
--quiet silences), and every reason names the host that failed; an OAuth refusal becomes
one line naming what to check (key, secret, token, clock), never Flickr's debug string.

Credentials (the OAuth header, the browser session) go only where `Endpoints.trusts` says,
and only on requests that follow no redirect: a redirect is answered, never followed with
them (see `Api.credentials`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp
from flickrapi.auth import FlickrAccessToken, OAuthFlickrInterface
from flickrapi.tokencache import SimpleTokenCache
from yarl import URL

from .credentials import Credentials
from ..knobs import api_deadline, api_max_bytes
from ..net import limits
from ..net.errors import connection_problem, parse_retry_after
from ..net.policy import Policy
from .errors import RETRYABLE_CODES, FlickrError, Throttled, Transient
from .quota import Quota

log = logging.getLogger("exodus.flickr")

FLICKR_BASE = "https://www.flickr.com"
FLICKR_HOSTS = ("flickr.com", "staticflickr.com")
# Hosts that may receive the OAuth header and the flickr.com session: Flickr's own pages,
# API and /play/ URLs. The CDN (*.staticflickr.com) serves signed URLs that need neither,
# and a browser would not send it flickr.com's cookies either.
CREDENTIAL_DOMAIN = "flickr.com"
# A "waiting for Flickr" note is shown at once, then again only for a later attempt or
# after this many seconds: eight downloads failing together make one line, not eight.
NOTE_AGAIN_S = 10.0


@dataclass(frozen=True)
class Endpoints:
    """Where Flickr lives. `--api-base` moves all of it (REST, OAuth, CDN, video) elsewhere."""

    base: str = FLICKR_BASE

    @property
    def custom(self) -> bool:
        return self.base.rstrip("/") != FLICKR_BASE

    @property
    def host(self) -> str:
        """Where the API calls go, as a person would name it: host[:port]."""
        return urlsplit(self.rest).netloc

    @property
    def sign_in_host(self) -> str:
        """Where OAuth's sign-in steps go (www.flickr.com on Flickr)."""
        return urlsplit(self.oauth("request_token")).netloc

    @property
    def rest(self) -> str:
        return f"{self.base.rstrip('/')}/services/rest/" if self.custom else "https://api.flickr.com/services/rest/"

    def oauth(self, step: str) -> str:
        return f"{self.base.rstrip('/')}/services/oauth/{step}"

    def rebase(self, url: str) -> str:
        """A Flickr URL (CDN, video, page) moved onto the custom base, if there is one."""
        if not self.custom or not url:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not any(host == h or host.endswith("." + h) for h in FLICKR_HOSTS):
            return url
        base = urlsplit(self.base)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))

    def trusts(self, url: str) -> bool:
        """May a request to `url` carry Flickr's credentials? With --api-base only its own
        origin (scheme, host and port); else https on flickr.com and its subdomains. Judged
        on the URL as aiohttp will parse it, so that no parser can disagree."""
        try:
            target = URL(url)
            if not target.absolute or target.user is not None or target.password is not None:
                return False
            origin = (target.scheme.lower(), (target.host or "").lower(), target.port)
        except (ValueError, TypeError):
            return False
        if self.custom:
            base = URL(self.base)
            return origin == (base.scheme.lower(), (base.host or "").lower(), base.port)
        scheme, host, port = origin
        return scheme == "https" and port == 443 and (host == CREDENTIAL_DOMAIN
                                                      or host.endswith("." + CREDENTIAL_DOMAIN))


def oauth_interface(creds: Credentials, endpoints: Endpoints) -> OAuthFlickrInterface:
    cache = SimpleTokenCache()
    if creds.token:
        cache.token = FlickrAccessToken(creds.token, creds.token_secret, creds.perms or "read")
    oauth = OAuthFlickrInterface(creds.api_key, creds.api_secret, cache)
    oauth.REQUEST_TOKEN_URL = endpoints.oauth("request_token")
    oauth.AUTHORIZE_URL = endpoints.oauth("authorize")
    oauth.ACCESS_TOKEN_URL = endpoints.oauth("access_token")
    return oauth


class Api:
    def __init__(self, creds: Credentials, endpoints: Endpoints, quota: Quota,
                 session: aiohttp.ClientSession, attempts: int = 8,
                 note: Callable[[str], None] | None = None):
        self.creds = creds
        self.note = note  # tells the user that, and why, a call waits for another try
        self._told_at = -NOTE_AGAIN_S
        self._told_attempt = 0
        self.endpoints = endpoints
        self.quota = quota
        self.session = session
        # One policy for every call of this client: a 429 pauses them all.
        self.policy = Policy(attempts, cap=60.0, patient=True)
        self._signer = oauth_interface(creds, endpoints).oauth.client  # oauthlib, via flickrapi
        self.calls = 0  # requests sent, retries included

    @property
    def attempts(self) -> int:
        """Tries of one call before a failure is final (429s aside)."""
        return self.policy.attempts

    @property
    def retries(self) -> int:
        """Waits for another try, 429s included."""
        return self.policy.retries

    def credentials(self, method: str, url: str, body: str | None = None,
                    cookies: str | None = None) -> dict[str, str]:
        """The one place that decides who gets a secret: the OAuth header (and the browser
        session, when given) for a request to a host `Endpoints.trusts`; nothing for any
        other host. The request they go on must not follow redirects."""
        if not self.endpoints.trusts(url):
            return {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        headers = self._sign(method, url, body)
        if cookies:
            headers["Cookie"] = cookies
        return headers

    def _sign(self, method: str, url: str, body: str | None = None) -> dict[str, str]:
        """OAuth 1.0a headers for one request (a fresh nonce each time)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        _, signed, _ = self._signer.sign(url, http_method=method, body=body, headers=headers)
        # requests-oauthlib's client (as flickrapi builds it) answers in bytes.
        return {_str(k): _str(v) for k, v in signed.items()}

    async def call(self, method: str, **params) -> dict:
        """One API method, retried per the policy; FlickrError when Flickr says no, whose
        `maybe_sent` says whether an earlier try may have been carried out unanswered."""
        fields = {"method": method, "format": "json", "nojsoncallback": "1",
                  **{k: str(v) for k, v in params.items() if v is not None}}
        return await self.policy.run(lambda: self._once(fields), on_wait=self._note_retry(method))

    def _note_retry(self, method: str):
        def note(attempt: int, delay: float, error: BaseException) -> None:
            log.info("retrying %s after: %s", method, error)
            self._tell_wait(attempt, delay, error)
        return note

    def _tell_wait(self, attempt: int, delay: float, error: BaseException) -> None:
        """The retries are not silent: the first failure is told at once (a Flickr that
        cannot be reached would otherwise keep the screen blank for a minute and more)."""
        now = time.monotonic()
        if self.note is None or (now - self._told_at < NOTE_AGAIN_S and attempt <= self._told_attempt):
            return
        self._told_at, self._told_attempt = now, attempt
        reason = error.reason if isinstance(error, Transient) else str(error)
        self.note(f"waiting for Flickr (attempt {attempt}, next in {delay:.1f} s): {reason}")

    async def _once(self, fields: dict) -> dict:
        body = urlencode(fields)
        async with self.quota.slot():
            self.calls += 1
            headers = self.credentials("POST", self.endpoints.rest, body)
            deadline, cap = api_deadline(), api_max_bytes()
            timer = asyncio.timeout(deadline)
            try:
                async with timer:
                    async with limits.answer(self.session.post(self.endpoints.rest, data=body.encode(),
                                                               headers=headers, allow_redirects=False)) as response:
                        raw = await limits.read(response, cap, f"the answer to {fields['method']}")
                        status = response.status
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        location = response.headers.get("Location")
            except limits.TooLarge as error:
                raise FlickrError(None, f"{error} (EXODUS_API_MAX_BYTES); not read further") from None
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                if timer.expired():
                    raise Transient(f"no complete answer from {self.endpoints.host} within {deadline:g} s "
                                    "(EXODUS_API_DEADLINE)") from None
                raise Transient(f"no connection to {self.endpoints.host}: {connection_problem(error)}") from None
        if 300 <= status < 400:
            # Never followed: the request carries the OAuth header.
            raise FlickrError(None, f"HTTP {status}: the API redirected to {location or 'nowhere'}; "
                                    "exodus does not follow it")
        try:
            return interpret(status, raw, retry_after)
        except FlickrError as error:
            if error.code is None and status in (400, 401):
                raise refused(self.endpoints.host, status, raw) from None
            raise
        except Throttled:
            raise
        except Transient as error:
            raise Transient(f"{error.reason} from {self.endpoints.host}", error.retry_after) from None


def interpret(status: int, raw: bytes, retry_after: float | None = None) -> dict:
    """One answer -> its data, or the error that says what to do next."""
    if status == 429:
        raise Throttled("HTTP 429 (over Flickr's quota)", retry_after)
    if status >= 500:
        raise Transient(f"HTTP {status}", retry_after)
    if status != 200:
        # OAuth refusals are plain text (reference §3): say what Flickr said.
        text = raw[:200].decode("utf-8", "replace").strip()
        raise FlickrError(None, f"HTTP {status}: {text}")
    try:
        data = json.loads(raw)
    except ValueError:
        raise Transient("unparseable answer") from None
    if not isinstance(data, dict):
        raise Transient("unparseable answer")
    if data.get("stat") == "fail":
        code = _int(data.get("code"))
        message = str(data.get("message", ""))
        if code in RETRYABLE_CODES:
            raise Transient(f"Flickr error {code}: {message}")
        raise FlickrError(code, message)
    return data


# What to check for each OAuth problem Flickr names (the OAuth Problem Reporting names).
OAUTH_HINTS = {
    "signature_invalid": "check FLICKR_API_SECRET (and the token's secret: FLICKR_OAUTH_TOKEN_SECRET or "
                         "'exodus auth'), and that this computer's clock is right",
    "consumer_key_unknown": "check FLICKR_API_KEY",
    "consumer_key_rejected": "check FLICKR_API_KEY: Flickr no longer accepts it",
    "token_rejected": "the token is not known: sign in again with 'exodus auth', or check FLICKR_OAUTH_TOKEN",
    "token_revoked": "the token was revoked: sign in again with 'exodus auth'",
    "token_expired": "the token expired: sign in again with 'exodus auth'",
    "timestamp_refused": "check this computer's clock (date, time and time zone)",
    "nonce_used": "check this computer's clock (date, time and time zone)",
}
CHECK_ALL = ("check FLICKR_API_KEY, FLICKR_API_SECRET, the token (FLICKR_OAUTH_TOKEN or 'exodus auth') "
             "and this computer's clock")


def oauth_problem(text: str) -> str | None:
    """The oauth_problem of a plain-text refusal (its debug_sbs and the like left out)."""
    try:
        return parse_qs(text.strip()).get("oauth_problem", [None])[0]
    except ValueError:
        return None


def refused(host: str, status: int, raw: bytes) -> FlickrError:
    """An OAuth refusal as one line: who refused, the problem it named, what to check."""
    problem = (oauth_problem(raw[:2000].decode("utf-8", "replace")) or "")[:60]
    hint = OAUTH_HINTS.get(problem, CHECK_ALL)
    return FlickrError(None, f"{host} answered HTTP {status}{f' ({problem})' if problem else ''}: {hint}")


# The same problems met while signing in (`exodus auth`): no token is in play yet, and a
# rejected token means the pasted code was not the one Flickr showed (or came too late).
SIGN_IN_HINTS = {
    **OAUTH_HINTS,
    "signature_invalid": "check FLICKR_API_SECRET, and that this computer's clock is right",
    "token_rejected": "the code was not accepted: run 'exodus auth' again and paste the code Flickr shows, "
                      "exactly and within a few minutes",
}


def sign_in_refused(host: str, said: list[str]) -> str:
    """One line for a refused sign-in, from the lines flickrapi logged about it."""
    status = next((m.group(1) for line in said if (m := re.search(r"Status code (\d+)", line))), None)
    problem = next((oauth_problem(line) for line in said if "oauth_problem=" in line), None)
    problem = (problem or "")[:60]
    hint = SIGN_IN_HINTS.get(problem, "check FLICKR_API_KEY, FLICKR_API_SECRET and this computer's clock")
    answer = f"HTTP {status}" if status else "a refusal"
    return f"{host} refused the sign-in ({answer}{f', {problem}' if problem else ''}): {hint}"


def unreachable(host: str, error: BaseException) -> str:
    """One line for a request that never got an answer (requests' own message is a
    paragraph of pool and adapter names)."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(error))
    why = found.group(1).strip() if found else type(error).__name__
    return f"cannot reach {host} ({why}): check the network connection and EXODUS_API_BASE (--api-base)"


@contextmanager
def library_lines() -> Iterator[list[str]]:
    """flickrapi logs a refused request on stderr line by line, the signature base string
    among them; keep those lines here instead, for one clear message."""
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logger, keep = logging.getLogger("flickrapi"), Keep()
    logger.addHandler(keep)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield said
    finally:
        logger.removeHandler(keep)
        logger.propagate = propagate


def _str(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
